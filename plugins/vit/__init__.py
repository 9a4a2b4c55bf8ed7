"""Catalogue card for the Vision Transformer.

The notes' ViT: cut the image into patches, embed each patch linearly, prepend
a learned [CLS] token, add learned position embeddings, run pre-norm
Transformer encoder blocks, and classify from the [CLS] token's final state.
The patch size must tile the image exactly; a size that does not is refused
when the model is built, with the sizes that would work.

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, hookimpl, param


@dataclass
class ViTConfig:
    """Patch size and the encoder's shape.  The default is sized for ``digits``
    (8x8 images: 2x2 patches, a 4x4 grid); the presets hold the notes' recipes."""

    patch_size: int = param(2, "side of the square patches; must divide the image height and width", min=1, max=1024)
    dim: int = param(64, "width of the patch embeddings and of every encoder block", min=1, max=8192)
    depth: int = param(2, "number of pre-norm encoder blocks", min=1, max=64)
    heads: int = param(4, "attention heads per block; must divide dim", min=1, max=64)
    mlp_dim: int = param(128, "hidden width of each block's feed-forward network", min=1, max=65536)
    dropout: float = param(
        0.0, "dropout on the embeddings, attention weights and feed-forward outputs", min=0.0, max=0.95
    )
    input_shape: tuple[int, ...] = param(
        (1, 8, 8),
        "shape of one image, (channels, height, width) (filled from the dataset)",
        from_data="input_shape",
        min=1,
    )
    num_classes: int = param(10, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: The default on ``digits`` (1x8x8, 10 classes): patch embedding 1*2*2*64 + 64 = 320,
#: [CLS] 64, positions 17*64 = 1,088; per block 2*128 (norms) + 16,640 (attention)
#: + 16,576 (feed-forward) = 33,472, two blocks 66,944; final norm 128; head 650.
DEFAULT_PARAMETERS = 69_194


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="vit",
            task="image-classification",
            summary="Vision Transformer: patch embedding, [CLS] token, learned positions, pre-norm encoder blocks, "
            "classification from [CLS].",
            config=ViTConfig,
            default_dataset="digits",
            citation="Dosovitskiy et al. (2021), An image is worth 16x16 words: Transformers for image recognition at "
            "scale. ICLR.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.vit.model",
        )
    )
