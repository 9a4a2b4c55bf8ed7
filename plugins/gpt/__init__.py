"""Catalogue card for the GPT language model.

A decoder-only Transformer in the shape of GPT-2: token and learned position
embeddings, pre-norm blocks of causal (masked) self-attention and a GELU MLP,
a final LayerNorm, and the token embedding reused as the output layer.
Trained to predict every next token; ``sample`` continues a prompt with
temperature and top-k sampling.

Two recipes as presets: ``gpt-char``, a character-level model that learns
SST-2's sentences in minutes on a CPU, and ``gpt-2-small``, GPT-2 small's
shape (12 layers, 12 heads, d 768, context 1,024, vocabulary 50,257):
124,439,808 parameters, as :func:`gpt_parameters` counts without building it.

No torch here: this module runs whenever archzoo lists what is installed.
The network is in :mod:`archzoo.plugins.gpt.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, hookimpl, param


@dataclass
class GPTConfig:
    """GPT-2's hyperparameters under GPT-2's names; the vocabulary comes from the dataset's tokenizer."""

    n_layer: int = param(2, "Transformer blocks", min=1, max=128)
    n_head: int = param(4, "attention heads per block (must divide n_embd)", min=1, max=256)
    n_embd: int = param(64, "width of the token vectors (the residual stream)", min=1, max=65536)
    block_size: int = param(64, "context length: the most tokens the model looks back over", min=1, max=65536)
    dropout: float = param(
        0.0, "dropout on the embeddings, attention weights and each residual branch", min=0.0, max=0.95
    )
    bias: bool = param(True, "biases in the Linear layers and LayerNorms (GPT-2 has them)")
    tie_embeddings: bool = param(
        True, "reuse the token embedding as the output layer (GPT-2 does), instead of a separate one"
    )
    vocab_size: int = param(29, "token ids (filled from the dataset's tokenizer)", from_data="vocab_size", min=2)


def gpt_parameters(
    vocab_size: int,
    n_layer: int,
    n_embd: int,
    block_size: int,
    *,
    bias: bool = True,
    tie_embeddings: bool = True,
) -> int:
    """Parameters of :class:`GPTConfig`'s model, counted without building it.

    Per block, with d = n_embd: two LayerNorms (2d each, d without bias), the
    q/k/v projection (3d^2 + 3d) and the attention output (d^2 + d), the MLP
    d -> 4d -> d (8d^2 + 5d): 12d^2 + 13d with biases.
    """
    d, b = n_embd, int(bias)
    block = 2 * (d + b * d) + (3 * d * d + b * 3 * d) + (d * d + b * d) + (4 * d * d + b * 4 * d) + (4 * d * d + b * d)
    embeddings = vocab_size * d + block_size * d
    output = 0 if tie_embeddings else vocab_size * d
    return embeddings + n_layer * block + (d + b * d) + output


#: On ``sentences-synthetic`` (29 tokens: 27 characters, padding, unknown):
#: 29x64 + 64x64 (embeddings) + 2 x (12x64^2 + 13x64) (blocks) + 128 (final
#: LayerNorm); the output layer is the tied embedding.  = gpt_parameters(29, 2, 64, 64)
DEFAULT_PARAMETERS = 106_048

#: GPT-2 small (preset ``gpt-2-small``): 50,257x768 + 1,024x768 (embeddings)
#: + 12 x 7,087,872 (blocks) + 1,536 (final LayerNorm).  = gpt_parameters(50_257, 12, 768, 1024)
GPT2_SMALL_PARAMETERS = 124_439_808


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="gpt",
            task="text-generation",
            summary="Decoder-only Transformer language model (GPT-2's shape): causal self-attention, next-token "
            "training, sampling with temperature and top-k.",
            config=GPTConfig,
            default_dataset="sentences-synthetic",
            citation="Radford et al. (2019), Language models are unsupervised multitask learners (GPT-2); Vaswani et "
            "al. (2017), Attention is all you need.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.gpt.model",
        )
    )
