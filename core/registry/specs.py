"""What plugins declare: architectures, datasets, and what `sample` returns.

These are plain dataclasses with no torch import, so listing what is installed
stays fast.  A plugin hands them to the registry in its ``archzoo_register``
hook; the host never has to import a model to describe it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The tasks an architecture can serve.  A task names what data it consumes and
#: what ``sample`` returns, so the CLI and UI can pair datasets with models.
TASKS = (
    "image-classification",
    "text-classification",
    "image-generation",
    "text-generation",
    "feature-extraction",
    "node-classification",
    "tabular-classification",
    "tabular-regression",
    "sequence-to-sequence",
)

#: Metrics that are better when lower, for an architecture that declares nothing about them.
LOWER_IS_BETTER = (
    "loss",
    "nll",
    "bits_per_dim",
    "bpd",
    "fid",
    "mse",
    "mae",
    "rmse",
    "ece",
    "perplexity",
    "error",
    "reconstruction",
)


def metric_direction(metric: str, declared: dict[str, str] | None = None) -> str:
    """``"higher"`` or ``"lower"``: which way ``metric`` improves.  An architecture's
    ``ArchSpec.metrics`` says so for its own metrics; otherwise the common ones
    are known (:data:`LOWER_IS_BETTER`, and any name ending in ``loss``), and the
    rest rise."""
    if declared and metric in declared:
        return declared[metric]
    base = metric.rpartition(".")[2].lower()
    lower = base in LOWER_IS_BETTER or base.endswith("loss") or base.startswith("fid")
    return "lower" if lower else "higher"


CLASSIFICATION_TASKS = ("image-classification", "text-classification", "tabular-classification", "node-classification")

#: The metrics each task's default ``evaluate`` reports, with the way each improves.  Every
#: architecture that can do the task declares them (:class:`ArchSpec` adds them to its
#: ``metrics``), so the trainer and ``compare`` read R^2 as higher-is-better without a plugin
#: having to repeat it.
TASK_METRICS: dict[str, dict[str, str]] = {
    **{task: {"accuracy": "higher", "loss": "lower"} for task in CLASSIFICATION_TASKS},
    "tabular-regression": {"r2": "higher", "mse": "lower", "mae": "lower", "loss": "lower"},
    "image-generation": {"loss": "lower"},
    "text-generation": {"loss": "lower", "perplexity": "lower"},
    "feature-extraction": {"accuracy": "higher", "loss": "lower"},  # its probe's head
    # Greedy decoding judged per token and per whole sequence, on the lengths seen in training
    # and (``longer_``) on the test split's longer sequences (archzoo.toolkit.sequences).
    "sequence-to-sequence": {
        "token_accuracy": "higher",
        "sequence_accuracy": "higher",
        "loss": "lower",
        "longer_token_accuracy": "higher",
        "longer_sequence_accuracy": "higher",
        "longer_loss": "lower",
    },
}


def task_on(spec: ArchSpec, data_task: str | None) -> str:
    """What ``spec`` does when trained on data of ``data_task``: a classifier does
    the task of its data (an MLP on points is a tabular classifier); a generator
    or feature extractor does its own, whatever data it learned from."""
    return data_task if data_task in spec.tasks and spec.task in CLASSIFICATION_TASKS else spec.task


@dataclass(frozen=True)
class ArchSpec:
    """One architecture a plugin provides.

    ``config`` is a dataclass built with :func:`archzoo.registry.config.param` fields.
    ``default_dataset`` is the dataset its default config is sized for, and
    ``parameters`` the parameter count at that default: declared here so that
    ``archzoo list`` can show it without importing torch, and checked against
    the real model by the contract suite.  ``implementation`` optionally names
    a module (``"package.module"``) that holds the model hooks; the host
    imports and registers it only when the architecture is used.
    ``separate_steps`` marks a model whose step runs and steps its parts
    separately (a GAN: several forward passes and two backward passes, each
    into its own optimizer), which one DistributedDataParallel wrapper cannot
    synchronise.  On several processes the trainer leaves such a model
    unwrapped and synchronises it by hand (:mod:`archzoo.training.synchronise`):
    gradients averaged in ``ctx.step(name)``, buffers shared after each step.
    """

    name: str
    task: str
    summary: str
    config: type
    default_dataset: str
    citation: str = ""
    parameters: int | None = None
    implementation: str | None = None
    extra_tasks: tuple[str, ...] = ()
    separate_steps: bool = False
    #: The learning rate the contract suite's fixed-batch check trains at, for a model that does
    #: not learn at the suite's 1e-2 (a GAN, whose two losses swing at that rate: its recipe's 2e-4).
    check_lr: float | None = None
    #: A generator's sampling modes (its ``sample`` hook's ``mode``), for front ends to offer
    #: only these: ``("sample", "reconstruct", "grid")``. Empty: ``sample`` only.
    sample_modes: tuple[str, ...] = ()
    #: Which way each of its ``evaluate`` metrics improves, where a name does not say:
    #: ``{"bits_per_dim": "lower", "coverage": "higher"}`` (see :func:`metric_direction`).
    metrics: dict[str, str] = field(default_factory=dict, compare=False)
    # Filled in by the registry: which plugin and distribution provided it.
    plugin: str = field(default="", compare=False)
    distribution: str = field(default="", compare=False)
    version: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        task_metrics = {m: d for task in (self.task, *self.extra_tasks) for m, d in TASK_METRICS.get(task, {}).items()}
        if task_metrics:  # the spec's own declarations win over its tasks' defaults
            object.__setattr__(self, "metrics", {**task_metrics, **dict(self.metrics)})
        for metric, direction in dict(self.metrics).items():
            if direction not in ("higher", "lower"):
                raise ValueError(
                    f"architecture '{self.name}': metric {metric!r} must be 'higher' or 'lower', not {direction!r}"
                )
        for task in (self.task, *self.extra_tasks):
            if task not in TASKS:
                raise ValueError(f"architecture '{self.name}': unknown task {task!r}; tasks are {', '.join(TASKS)}")

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task whose datasets this architecture can train on (the first is its own)."""
        return (self.task, *self.extra_tasks)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the host can load by name.

    ``loader`` is ``"module:function"``; the function takes a
    :class:`archzoo.data.types.DataOptions` and returns :class:`archzoo.data.types.DatasetSplits`.
    It is imported only when the dataset is loaded.
    """

    name: str
    task: str
    summary: str
    loader: str
    source: str = ""
    #: Known without loading the data, so model sizes can be shown without it.
    input_shape: tuple[int, ...] = ()
    num_classes: int = 0
    #: Settings its name may carry (``sine:points=50``; :mod:`archzoo.registry.datanames`):
    #: name -> help.  The loader reads them from ``DataOptions.settings``.
    settings: dict[str, str] = field(default_factory=dict, compare=False)
    plugin: str = field(default="", compare=False)


@dataclass
class SampleResult:
    """What ``sample`` returns: a kind that tells the UI which widget to use,
    and the outputs themselves.

    kinds and their outputs:

    - ``"class-probabilities"``: ``probabilities`` (N x C tensor), ``class_names``
    - ``"images"``: ``images`` (N x C x H x W tensor in [0, 1]); a generator of points adds
      ``points`` (N x D, in the data's units), its ``images`` then pictures of them
    - ``"text"``: ``texts`` (list of str)
    - ``"features"``: ``features`` (N x D tensor)
    - ``"values"``: ``values`` (N x K tensor of predicted numbers, one column per output) and
      ``names`` (the K outputs' names: a CSV's target column, ``y`` for the toy sets); what a
      regression's ``sample`` returns
    - ``"sequences"``: ``texts`` (the N output sequences, tokens joined by spaces), ``tokens`` and
      ``sources`` (output and input tokens, lists of str), ``attention`` (per input, the output x
      input weights as nested lists, or None for a model without attention) and ``maps`` (per
      input, layer name -> heads x output x input); what a ``sequence-to-sequence`` ``sample`` returns
    """

    kind: str
    outputs: dict[str, Any]

    def top_k(self, k: int = 3) -> list[list[tuple[str, float]]]:
        """For class probabilities: the k most likely (label, probability) pairs per input."""
        if self.kind != "class-probabilities":
            raise ValueError(f"top_k needs class probabilities, not {self.kind}")
        probabilities = self.outputs["probabilities"]
        names = self.outputs["class_names"]
        k = min(k, probabilities.shape[1])
        values, indices = probabilities.topk(k, dim=1)
        return [
            [(names[i], float(v)) for v, i in zip(row_values.tolist(), row_indices.tolist())]
            for row_values, row_indices in zip(values, indices)
        ]
