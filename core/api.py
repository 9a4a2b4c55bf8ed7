"""The front door: the functions behind every command and every button.

The CLI, the UI and Python users call these, so a run started from any of
them behaves the same, fails with the same messages and writes the same
checkpoints.  Each lives in the layer that owns it (docs/architecture.md);
this module gathers them, and gives training (a lower layer) its live views.
"""

from archzoo.checkpoints.hub import pull, push_to_hub
from archzoo.checkpoints.io import LoadedCheckpoint, load
from archzoo.evaluation.evaluate import evaluate_checkpoint
from archzoo.inference.classify import predict, predict_with_spread
from archzoo.inference.data import evaluation_data, evaluation_loader, evaluation_split
from archzoo.inference.sampling import sample_checkpoint
from archzoo.inference.views import available as available_views
from archzoo.inference.views import draw as draw_view
from archzoo.inference.views.live import watcher
from archzoo.registry.plans import RunPlan, fill_from_data, plan_run
from archzoo.toolkit.models import planned_parameters
from archzoo.training import launch
from archzoo.training.launch import run_tokenizer
from archzoo.training.resume import RESUMABLE_OVERRIDES, resumed_plan


def train(*args, **options):
    """:func:`archzoo.training.launch.train` (its arguments), keeping the run's live views (the decision boundary
    of a 2-D classifier, a generator's samples) in ``RUN/views/`` each epoch; ``watch=None`` keeps none."""
    options.setdefault("watch", watcher)
    return launch.train(*args, **options)


__all__ = [
    "RESUMABLE_OVERRIDES",
    "LoadedCheckpoint",
    "RunPlan",
    "available_views",
    "draw_view",
    "evaluate_checkpoint",
    "evaluation_data",
    "evaluation_loader",
    "evaluation_split",
    "fill_from_data",
    "load",
    "plan_run",
    "planned_parameters",
    "predict",
    "predict_with_spread",
    "pull",
    "push_to_hub",
    "resumed_plan",
    "run_tokenizer",
    "sample_checkpoint",
    "train",
]
