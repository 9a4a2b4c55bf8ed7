"""Attention maps, per layer and head, of one test input: a text, a token window or an image.

Caught generically, without touching the model's code: while the forward
pass runs under :class:`AttentionCapture` (a ``TorchFunctionMode``), every
``nn.MultiheadAttention`` is asked for its per-head weights (which the
models usually turn off, ``need_weights=False``) and every call of
``scaled_dot_product_attention`` (the GPT's fused attention) has its
weights recomputed from its queries, keys and mask.  Neither changes the
model's output.  Each map is named after the module that computed it.  A
plugin whose attention is neither can give its maps through the
``archzoo_views`` hook (``{"attention": ...}``).

A sequence-to-sequence model's maps are the ones its prediction returns
(:mod:`archzoo.inference.sequences`): output tokens (rows) against input tokens
(columns), the attention that chose each output token.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from archzoo.errors import ArchzooError
from archzoo.inference.views.base import View, ViewError, ViewRequest
from archzoo.inference.views.examples import device_of, example
from archzoo.inference.views.figures import bare, figure, picture, png
from archzoo.registry.host import Host
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import to_unit

#: Tokens of a text shown at most (the map is tokens x tokens), and the default.
MAX_TOKENS = 128
DEFAULT_TOKENS = 32
#: Layers x heads drawn at most.
MAX_PANELS = 64


class AttentionCapture(TorchFunctionMode):
    """Records ``{module name: heads x queries x keys}`` for the first example of each attention call."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.maps: dict[str, torch.Tensor] = {}
        self._stack: list[str] = []
        self._handles = []
        for name, module in model.named_modules():
            self._handles.append(module.register_forward_pre_hook(self._enter(name)))
            self._handles.append(module.register_forward_hook(self._leave))

    def _enter(self, name: str):
        def enter(module: Any, args: Any) -> None:
            self._stack.append(name)

        return enter

    def _leave(self, module: Any, args: Any, output: Any) -> None:
        self._stack.pop()  # a forward hook that returned this would replace the module's output

    def __exit__(self, *exc: Any) -> None:
        for handle in self._handles:
            handle.remove()
        super().__exit__(*exc)

    def _keep(self, weights: torch.Tensor) -> None:
        name = self._stack[-1] if self._stack and self._stack[-1] else "attention"
        key, n = name, 1
        while key in self.maps:  # a module called twice in one pass
            n += 1
            key = f"{name}#{n}"
        self.maps[key] = weights[0].detach().float().cpu()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is F.multi_head_attention_forward:
            wanted, averaged = kwargs.get("need_weights", True), kwargs.get("average_attn_weights", True)
            kwargs.update(need_weights=True, average_attn_weights=False)
            out, weights = func(*args, **kwargs)
            self._keep(weights)
            return out, (weights.mean(dim=1) if averaged else weights) if wanted else None
        if func is F.scaled_dot_product_attention:
            self._keep(sdpa_weights(*args, **kwargs))
        return func(*args, **kwargs)


def sdpa_weights(query, key, value=None, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **_: Any):
    """softmax(q k^T * scale + mask): the weights ``scaled_dot_product_attention`` applies, without dropout."""
    scale = scale if scale is not None else 1.0 / math.sqrt(query.shape[-1])
    if key.shape[-3] != query.shape[-3]:  # grouped-query attention: each key head serves several query heads
        key = key.repeat_interleave(query.shape[-3] // key.shape[-3], dim=-3)
    scores = query @ key.transpose(-2, -1) * scale
    if is_causal:
        t, s = scores.shape[-2:]
        scores = scores.masked_fill(torch.ones(t, s, dtype=torch.bool, device=scores.device).triu(1), float("-inf"))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else scores + attn_mask
    return torch.softmax(scores, dim=-1)


def captured(model: torch.nn.Module, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    model = unwrap(model)
    with torch.no_grad(), AttentionCapture(model) as capture:
        model(inputs.to(device_of(model)))
    return capture.maps


def probe(loaded: Any) -> bool:
    """Whether a short dummy token sequence makes the model compute attention."""
    try:
        return bool(captured(loaded.model, torch.ones(1, 8, dtype=torch.long)))
    except Exception:  # a model that cannot read this dummy input: then it offers no attention view
        return False


def the_input(loaded: Any, request: ViewRequest, host: Host) -> tuple[torch.Tensor, list[str] | None, Any, int]:
    """(model input, token labels or None for an image, the image in [0, 1] or None, the example's length)."""
    inputs, _ = example(loaded, request.index, host)
    if inputs.dtype.is_floating_point:
        return inputs, None, to_unit(inputs[0].cpu(), loaded.info), 0
    tokens = request.counted(DEFAULT_TOKENS)
    if tokens > MAX_TOKENS:
        raise ViewError(f"count: {tokens} tokens is more than the limit of {MAX_TOKENS} for an attention map")
    ids = inputs[:, :tokens]  # the model reads the first ``tokens`` of the example, and the title says so
    tokenizer = getattr(loaded, "tokenizer", None)
    labels = [tokenizer.decode([int(i)]) if tokenizer else str(int(i)) for i in ids[0]]
    return ids, [label.replace("\n", "⏎") or "·" for label in labels], None, inputs.shape[1]


def source_target(loaded: Any, request: ViewRequest, host: Host) -> dict[str, Any]:
    """A sequence-to-sequence model's attention on test example ``index``, from its own prediction:
    ``{"maps": {name: heads x outputs x inputs}, "tokens": inputs, "queries": outputs}``."""
    from archzoo.inference.sampling import expect, sample_checkpoint

    batch, _ = example(loaded, request.index, host)
    result = sample_checkpoint(loaded, {"inputs": batch[0]}, host=host)
    expect(result, "sequences")
    out = result.outputs
    return {"maps": out["maps"][0], "tokens": out["sources"][0], "queries": out["tokens"][0], "longer": bool(batch[2])}


def attention(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    queries, longer = None, False
    if extra is not None or loaded.info.task == "sequence-to-sequence":
        given = extra(request) if extra is not None else source_target(loaded, request, host)
        maps = {name: torch.as_tensor(m).float() for name, m in given["maps"].items()}
        tokens, image, length = given.get("tokens"), None, 0
        queries, longer = given.get("queries"), bool(given.get("longer"))
    else:
        inputs, tokens, image, length = the_input(loaded, request, host)
        maps = captured(loaded.model, inputs)
    if not maps:
        raise ArchzooError(f"'{loaded.spec.name}' computed no attention on this input")
    if request.layer is not None:
        if request.layer not in maps:
            raise ViewError(f"no attention layer '{request.layer}'; the layers that attend are: {', '.join(maps)}")
        maps = {request.layer: maps[request.layer]}
    heads = max(m.shape[0] for m in maps.values())
    layers = list(maps)[: max(1, MAX_PANELS // heads)]
    grid_side = int(round(math.sqrt(maps[layers[0]].shape[-1] - 1)))
    patches = image is not None and grid_side**2 == maps[layers[0]].shape[-1] - 1
    cell = 1.9 if patches else 2.4 if queries is None else 3.6  # one map of a prediction: room for its tokens
    tick_size = 5 if queries is None else 8
    fig, axes = figure(cell * heads + 1.2, cell * len(layers) + 0.6, len(layers), heads)
    for row, name in enumerate(layers):
        for head in range(heads):
            axis = axes[row * heads + head]
            if head >= maps[name].shape[0]:
                axis.set_visible(False)
                continue
            weights = maps[name][head].numpy()
            if patches:  # [CLS]'s attention to each patch, laid over the image
                bare(axis)
                picture_, cmap = picture(image)
                axis.imshow(picture_, cmap=cmap, vmin=0, vmax=1)
                h, w = picture_.shape[:2]
                axis.imshow(
                    weights[0, 1:].reshape(grid_side, grid_side), cmap="inferno", alpha=0.55, extent=(0, w, h, 0)
                )
            else:
                axis.imshow(weights, cmap="viridis", vmin=0, vmax=max(float(weights.max()), 1e-6))
                if tokens is not None and len(tokens) <= 48:  # the tokens on the outer panels only: each label costs
                    last_row = row == len(layers) - 1
                    if last_row:
                        axis.set_xticks(
                            range(len(tokens)), tokens, rotation=90 if queries is None else 0, fontsize=tick_size
                        )
                    else:
                        axis.set_xticks([])
                    if head == 0:
                        rows = queries if queries is not None else tokens
                        axis.set_yticks(range(len(rows)), rows, fontsize=tick_size)
                    else:
                        axis.set_yticks([])
                else:
                    axis.tick_params(labelsize=6)
            axis.set_title(f"head {head}", fontsize=8)
        axes[row * heads].set_ylabel(name, fontsize=8)
    what = "[CLS] → patches" if patches else "query (rows) → key (columns)"
    if queries is not None:
        what = "output (rows) → input (columns)" + (", a longer one than any in training" if longer else "")
    if tokens is not None and length > len(tokens):
        what += f", its first {len(tokens)} of {length} tokens"
    joint = ",\n" if queries is not None and heads < 3 else ", "  # a narrow figure: the title on two lines
    fig.suptitle(f"{loaded.spec.name}: attention of test example #{request.index}{joint}{what}", fontsize=10)
    data = {
        "index": request.index,
        "tokens": tokens,
        **({"outputs": queries} if queries is not None else {}),
        "example_tokens": length or None,
        "layers": {name: np.round(maps[name].numpy(), 4).tolist() for name in layers},
    }
    return View("attention", png(fig), data)


def alignment_png(title: str, matrix: Any, inputs: list[str], outputs: list[str]) -> bytes:
    """One prediction's attention matrix, output tokens (rows) against input tokens (columns),
    each cell its weight: what the app's sequence box shows under its answer."""
    weights = np.asarray(matrix, dtype=np.float32)
    side_ = 0.32 * max(len(inputs), len(outputs), 6)
    fig, axis = figure(side_ + 1.8, side_ + 1.0, squeeze=True)
    shown = axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0)
    axis.set_xticks(range(len(inputs)), inputs, fontsize=8)
    axis.set_yticks(range(len(outputs)), outputs, fontsize=8)
    axis.set_xlabel("input token", fontsize=8)
    axis.set_ylabel("output token", fontsize=8)
    axis.set_title(title, fontsize=9)
    fig.colorbar(shown, ax=axis, shrink=0.8)
    return png(fig)
