"""The hooks a plugin can implement (pluggy project ``"archzoo"``).

A plugin is any module or object with functions marked ``@archzoo.hookimpl``
and named after these specs.  It provides architectures in
:func:`archzoo_register`; the host then calls the model hooks for one
architecture at a time, with every *other* architecture plugin removed from the
call, so a plugin never checks whether a call is meant for it.  Plugins that
provide no architecture (a logger, a timer, an EMA) stay in every call and can
wrap it with ``@hookimpl(wrapper=True)``.

The model hooks are ``firstresult``: the first non-``None`` answer wins.  The
host ships task defaults at the lowest priority (``trylast``) for
classification tasks, so a classifier plugin may implement ``build_model`` only.
"""

from __future__ import annotations

import pluggy

PROJECT = "archzoo"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def archzoo_register(registry):
    """Declare what this plugin provides.

    Call ``registry.add_architecture(ArchSpec(...))`` for each architecture and
    ``registry.add_dataset(DatasetSpec(...))`` for each dataset.  Must not
    import heavy libraries: it runs whenever archzoo lists what is installed.
    """


@hookspec(firstresult=True)
def build_model(spec, config):
    """Return a ``torch.nn.Module`` for ``spec`` built from ``config``.

    Fields of the config marked ``from_data`` (input shape, number of classes)
    are already filled in from the dataset.
    """


@hookspec(firstresult=True)
def configure_optimizers(spec, model, train_config):
    """Optionally return the optimizers to train with: one optimizer, or a dict
    ``{name: optimizer}`` (a GAN's generator and discriminator, say).

    Return ``None`` (or leave it out) for the default: the optimizer,
    schedule and clipping that ``train_config`` describes.
    """


@hookspec(firstresult=True)
def train_step(spec, model, batch, ctx):
    """Run one optimisation step on ``batch`` and return its metrics.

    Compute the loss, call ``ctx.backward(loss)`` then ``ctx.step()`` (which
    clips gradients, steps the optimizer and schedule, and zeroes the
    gradients).  Return ``{"loss": float, ...}``.
    """


@hookspec(firstresult=True)
def evaluate(spec, model, loader, ctx):
    """Evaluate ``model`` on every batch of ``loader`` and return metrics.

    Use ``ctx.gather(tensor)`` to combine per-process results when training
    runs on several processes.  The first key is the headline metric (higher
    is better unless its name ends in ``loss``).
    """


@hookspec(firstresult=True)
def sample(spec, model, request, ctx):
    """Inference in the wide sense; return an :class:`archzoo.SampleResult`.

    For classifiers ``request["inputs"]`` is a batch tensor and the result is
    class probabilities; generators read ``n``, ``seed`` and ``steps``;
    feature extractors return features.
    """


@hookspec(firstresult=True)
def text_tokenizer(spec, config, download):
    """Optionally return the tokenizer a text model must read with (an
    :class:`archzoo.data.tokenizers.TextTokenizer`), instead of one trained on the data.

    A model built on a pretrained encoder knows only its encoder's vocabulary
    (``bert-features``, ``lora``); text datasets then encode with this tokenizer
    and it is saved in the checkpoint as usual.  ``download`` says whether the
    user allowed fetching files (``archzoo train --download``).  Return ``None``
    (or leave it out) to let the dataset train its own.
    """
