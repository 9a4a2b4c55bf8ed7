"""Views: pictures of what a model learned, drawn as PNG (and numbers as JSON) for any front end.

``archzoo show RUN VIEW`` and the app call the same two functions:
:func:`available` (which views a checkpoint offers) and :func:`draw` (one
view, as a :class:`View`).  Which views a model offers follows from its task
and inputs, found without code from the plugin:

- a classifier of 2-D points: ``boundary`` (predictions on a grid);
- a regression (``tabular-regression``): ``residuals`` (predictions on the test split);
- an image classifier: ``misclassified``, ``filters``, ``activations``, ``saliency``
  (the test set, the first layer's weights, forward hooks, gradients);
- an image generator: ``samples``; with an ``encode`` method also ``latent`` and ``reconstructions``;
  a generator of 2-D points: ``samples`` as a scatter over the real data;
- any model whose forward pass attends (``nn.MultiheadAttention`` or
  ``scaled_dot_product_attention``): ``attention``;

and whatever the plugin adds through the ``archzoo_views`` hook (the
diffusion model's reverse-process ``diffusion`` frames, the linear SVM's
margin on its ``boundary``).  One module per family of views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.inference.views.base import VIEWS, View, ViewError, ViewRequest
from archzoo.registry.host import Host, get_host


def _families() -> dict[str, Callable[..., View]]:
    """View name -> the function that draws it (imported on first use: they import torch and matplotlib)."""
    from archzoo.inference.views import attention, boundary, images, latent, points, residuals

    return {
        "boundary": boundary.boundary,
        "residuals": residuals.residual_view,
        "misclassified": images.misclassified,
        "filters": images.filters,
        "activations": images.activations,
        "saliency": images.saliency,
        "latent": latent.latent,
        "reconstructions": latent.reconstructions,
        "samples": points.samples,
        "diffusion": points.diffusion,
        "attention": attention.attention,
    }


def available(loaded: Any, *, host: Host | None = None) -> list[str]:
    """The views this loaded checkpoint offers, in the order of :data:`VIEWS`."""
    host = host or get_host()
    return _offered(loaded, host, plugin_views(loaded, host))


def _offered(loaded: Any, host: Host, extra: dict[str, Any]) -> list[str]:
    from archzoo.inference.views import offers

    offered = set(offers.generic(loaded, host)) | set(extra)
    return [name for name in VIEWS if name in offered] + sorted(offered - set(VIEWS))


def draw(location: Any, name: str, request: ViewRequest | None = None, *, host: Host | None = None) -> View:
    """One view of a checkpoint (a location, or a :class:`~archzoo.checkpoints.io.LoadedCheckpoint`
    already loaded, as the app keeps one).  A view the model does not offer is a
    :class:`ViewError` that lists those it does."""
    from archzoo.checkpoints.io import LoadedCheckpoint, load

    host = host or get_host()
    request = request or ViewRequest()
    loaded = location if isinstance(location, LoadedCheckpoint) else load(location, host=host)
    extra = plugin_views(loaded, host)
    offered = _offered(loaded, host, extra)
    if name not in offered:
        known = "" if name in VIEWS else " (no such view)"
        raise ViewError(
            f"'{loaded.spec.name}' ({loaded.info.name}) does not offer the view '{name}'{known}; "
            f"it offers: {', '.join(offered) or 'none'}"
        )
    families = _families()
    if name in families:
        return families[name](loaded, request, host=host, extra=extra.get(name))
    from archzoo.inference.views import points

    return points.plugin_view(loaded, name, extra[name](request), request, host=host)


def plugin_views(loaded: Any, host: Host) -> dict[str, Callable[[ViewRequest], dict[str, Any]]]:
    """What the plugin's ``archzoo_views`` hook adds: view name -> function of the request."""
    from archzoo.training.context import EvalContext

    ctx = EvalContext(
        device=next(loaded.model.parameters()).device, info=loaded.info, tokenizer=getattr(loaded, "tokenizer", None)
    )
    merged: dict[str, Any] = {}
    for answer in host.hooks(loaded.spec).views(loaded.model, ctx):
        if not isinstance(answer, dict):
            raise ArchzooError(f"plugin '{loaded.spec.plugin}': archzoo_views must return a dict, not {answer!r}")
        merged.update(answer)
    return merged


__all__ = ["VIEWS", "View", "ViewError", "ViewRequest", "available", "draw", "plugin_views"]
