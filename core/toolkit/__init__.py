"""What plugins import: the building blocks archzoo's own architectures share.

A plugin's card module (its ``__init__``) imports only ``archzoo``; its model
module imports ``archzoo`` and this package, and nothing else of archzoo's::

    from archzoo.toolkit import classification_step, parse_request, to_unit, unwrap

- data: ``DataInfo``, ``DataOptions``, ``DatasetSplits``, ``SPLIT_SEED``,
  ``split_indices``, ``pad_ids``, ``PAD_ID`` (a dataset of one's own, text batches)
- models: ``unwrap``, ``param_groups_weight_decay``
- layers (:mod:`~archzoo.toolkit.layers`): ``ACTIVATIONS``, ``activation``,
  ``norm_1d``, ``initialise``, ``sinusoidal_positions`` (the notes' activations, norms,
  initialisations and the Transformer's positions)
- classification (:mod:`~archzoo.toolkit.classification`): ``classification_step``,
  ``classification_metrics`` (the defaults every classifier gets), and for a step of
  one's own ``classification_loss`` (label smoothing, blended targets) and ``batch_accuracy``
- regression (:mod:`~archzoo.toolkit.regression`): ``regression_step``, ``regression_metrics``,
  ``regression_scores``, ``predicted_values`` (the defaults of ``tabular-regression``)
- generation (:mod:`~archzoo.toolkit.generative`): ``parse_request``, ``Draw``,
  ``SampleError``, ``images_result``, ``points_result``, pixel scales, MLP stacks, latent codes
- pretrained encoders (:mod:`~archzoo.toolkit.encoders`) and their feature
  cache (:mod:`~archzoo.toolkit.feature_cache`): import those modules by name

Importing it imports torch.  docs/plugins-toolkit.md lists each helper with its arguments.
"""

from archzoo.data.splitting import split_indices
from archzoo.data.text import pad_ids
from archzoo.data.tokenizers import PAD_ID
from archzoo.data.types import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits
from archzoo.toolkit.classification import (
    batch_accuracy,
    classification_loss,
    classification_metrics,
    classification_step,
)
from archzoo.toolkit.generative import (
    INPUT_MODES,
    MAX_SEED,
    Draw,
    SampleError,
    check_inputs,
    from_signed,
    images_result,
    latent_grid,
    latent_line,
    mlp_decoder,
    parse_request,
    points_result,
    relu_layers,
    scatter_image,
    to_signed,
    to_unit,
    traversal,
)
from archzoo.toolkit.layers import ACTIVATIONS, INITS, activation, initialise, norm_1d, sinusoidal_positions
from archzoo.toolkit.models import param_groups_weight_decay, unwrap
from archzoo.toolkit.regression import predicted_values, regression_metrics, regression_scores, regression_step

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "INPUT_MODES",
    "MAX_SEED",
    "PAD_ID",
    "SPLIT_SEED",
    "DataInfo",
    "DataOptions",
    "DatasetSplits",
    "Draw",
    "SampleError",
    "activation",
    "batch_accuracy",
    "check_inputs",
    "classification_loss",
    "classification_metrics",
    "classification_step",
    "from_signed",
    "initialise",
    "images_result",
    "latent_grid",
    "latent_line",
    "mlp_decoder",
    "norm_1d",
    "pad_ids",
    "param_groups_weight_decay",
    "parse_request",
    "points_result",
    "predicted_values",
    "regression_metrics",
    "regression_scores",
    "regression_step",
    "relu_layers",
    "sinusoidal_positions",
    "scatter_image",
    "split_indices",
    "to_signed",
    "to_unit",
    "traversal",
    "unwrap",
]
