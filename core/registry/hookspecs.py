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
An implementation may take any subset of a hook's arguments, by name.
docs/plugins-reference.md explains each hook with examples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from archzoo.registry.host import Registry
    from archzoo.registry.specs import ArchSpec, SampleResult
    from archzoo.training.context import EvalContext, StepContext

PROJECT = "archzoo"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def archzoo_register(registry: Registry) -> None:
    """Declare what this plugin provides.

    Runs whenever archzoo lists what is installed, so it must not import torch
    or anything heavy, build a model or touch data.

    :param registry: call ``registry.add_architecture(ArchSpec(...))`` for each
        architecture and ``registry.add_dataset(DatasetSpec(...))`` for each dataset;
        ``registry.add_presets(path)`` and ``registry.add_studies(path)`` ship TOML files of them.
    """


@hookspec(firstresult=True)
def build_model(spec: ArchSpec, config: Any) -> torch.nn.Module:
    """Build the network for one architecture.

    :param spec: the architecture being built (its name, task and config class).
    :param config: an instance of ``spec.config``, validated; fields marked
        ``from_data`` (input shape, number of classes) are filled from the dataset.
    :return: a ``torch.nn.Module`` with freshly initialised weights.
    """


@hookspec(firstresult=True)
def configure_optimizers(
    spec: ArchSpec, model: torch.nn.Module, train_config: Any
) -> torch.optim.Optimizer | dict[str, torch.optim.Optimizer] | None:
    """Supply the optimizers to train with, instead of the default one.

    :param model: the model from :func:`build_model`.
    :param train_config: the run's :class:`archzoo.TrainConfig` (``lr``,
        ``weight_decay``, ``momentum``, ...).
    :return: one optimizer, a dict ``{name: optimizer}`` (a GAN's generator and
        discriminator), or ``None`` for the default: the optimizer, schedule and
        clipping that ``train_config`` describes.
    """


@hookspec(firstresult=True)
def train_step(spec: ArchSpec, model: torch.nn.Module, batch: Any, ctx: StepContext) -> dict[str, float]:
    """Run one optimisation step on one batch.

    Compute the loss, call ``ctx.backward(loss)`` then ``ctx.step()`` (which
    clips the gradients, steps the optimizer and its schedule, and zeroes the
    gradients; ``ctx.step(name)`` for one of several optimizers).

    :param model: the model, wrapped for distributed training when several
        processes train (``archzoo.toolkit.unwrap(model)`` reaches the module).
    :param batch: what the dataset's collate made: ``(inputs, labels)`` for most datasets.
    :param ctx: the step's context: device, data info, optimizers, step counter.
    :return: the step's metrics, ``{"loss": ..., ...}``, each a Python number or a
        0-d tensor (``loss.detach()``): a tensor is read only every ``log_every``
        steps, where ``loss.item()`` would make a GPU wait on every step.
    """


@hookspec(firstresult=True)
def evaluate(spec: ArchSpec, model: torch.nn.Module, loader: Any, ctx: EvalContext) -> dict[str, float]:
    """Evaluate the model on every batch of a split.

    :param loader: an iterable of batches of the validation or test split.
    :param ctx: ``ctx.gather(tensor)`` combines per-example results of several processes.
    :return: the metrics; the first key is the headline metric that picks the
        best checkpoint, judged in the direction ``ArchSpec.metrics`` or the task declares.
    """


@hookspec(firstresult=True)
def sample(spec: ArchSpec, model: torch.nn.Module, request: dict[str, Any], ctx: EvalContext) -> SampleResult:
    """Inference in the wide sense: classify, generate, or extract features.

    :param request: what to do; its keys depend on the task
        (``archzoo.inference.sampling.REQUESTS``; docs/plugins-reference.md has the table):
        ``inputs`` or ``texts`` for classifiers, ``n``, ``seed``, ``steps`` and ``mode`` for
        image generators, ``prompt`` and friends for language models.
    :param ctx: the device, the data info (class names, normalisation) and, for
        text models, the tokenizer.
    :return: a :class:`archzoo.SampleResult` whose kind the task names.
    """


@hookspec(firstresult=True)
def text_tokenizer(spec: ArchSpec, config: Any, download: bool) -> Any:
    """Supply the tokenizer a text model must read with, instead of one trained on the data.

    A model built on a pretrained encoder knows only its encoder's vocabulary
    (``bert-features``, ``lora``); text datasets then encode with this tokenizer
    and it is saved in the checkpoint as usual.

    :param download: whether the user allowed fetching files (``archzoo train --download``).
    :return: an ``archzoo.data.tokenizers.TextTokenizer``, or ``None`` to let the
        dataset train its own.
    """


@hookspec
def archzoo_views(spec: ArchSpec, model: torch.nn.Module, ctx: EvalContext) -> dict[str, Any]:
    """Views only this model can give, beside the generic ones every model gets.

    Not ``firstresult``: every answer is merged, so a cross-cutting plugin may add views too.

    :param model: the loaded model, in evaluation mode.
    :param ctx: the device and the data info.
    :return: ``{view name: function(request) -> dict}``; ``request`` is an
        ``archzoo.inference.views.ViewRequest`` (``index``, ``count``, ``seed``, ...).
        A generic view's name adds to that view (``boundary``: ``{"margins": [log-odds levels]}``;
        ``attention``: ``{"maps": {layer: heads x T x T}, "tokens": [...]}``); any other name is a
        new view drawn from ``{"frames": [...], "titles": [...]}``: points (N x 2) or images
        (N x C x H x W in [0, 1]) per frame.  docs/plugins-reference.md has examples.
    """
