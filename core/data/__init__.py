"""Datasets as the trainer sees them: splits of (input, label) pairs and what a
model must know about them.

- :mod:`~archzoo.data.types`: ``DataOptions``, ``DataInfo``, ``DatasetSplits``
- :mod:`~archzoo.data.loading`: ``load_dataset`` by name or path
- :mod:`~archzoo.data.catalogue`: the datasets archzoo ships, registered like a plugin's
- :mod:`~archzoo.data.splitting`: one seed and one rule for every split
- the readers: :mod:`~archzoo.data.images`, :mod:`~archzoo.data.toys`,
  :mod:`~archzoo.data.tables` (CSVs of numbers), :mod:`~archzoo.data.text`,
  and :mod:`~archzoo.data.tokenizers`

Importing this package imports no torch.
"""

from archzoo.data.loading import load_dataset
from archzoo.data.types import (
    SPLIT_SEED,
    DataInfo,
    DataOptions,
    DatasetSplits,
    data_options,
)

__all__ = ["SPLIT_SEED", "DataInfo", "DataOptions", "DatasetSplits", "data_options", "load_dataset"]
