"""Loading a dataset by name (from the catalogue any plugin adds to) or by path.

This module and :mod:`archzoo.data.types` import no torch: the loaders named
in the catalogue, and the readers of image folders and text files, are
imported when a dataset is loaded.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

from archzoo.data.types import DataOptions, DatasetSplits
from archzoo.errors import DataError
from archzoo.registry.datanames import check_settings, split_dataset_name
from archzoo.registry.host import get_host
from archzoo.registry.paths import check_path_text

#: What a file given by path may be told in its name (``houses.csv:task=regression``).
FILE_SETTINGS = {"task": "regression (the target column holds numbers to predict) or classification (the default)"}


def load_dataset(name_or_path: str, options: DataOptions | None = None, host: Any = None) -> DatasetSplits:
    """Load a registered dataset by name, or by path: an image folder, a CSV of
    numbers and labels (:mod:`archzoo.data.tables`), or a text file (a CSV/TSV
    table of texts and labels, or a corpus; see :mod:`archzoo.data.text`).

    A name may carry the dataset's settings (``sine:points=50``,
    ``houses.csv:task=regression``; :mod:`archzoo.registry.datanames`): they reach
    the loader as ``options.settings``, and the splits keep the whole name."""
    options = options or DataOptions()
    host = host or get_host()
    base, settings = split_dataset_name(name_or_path) if name_or_path not in host.datasets else (name_or_path, {})
    if settings:
        options = dataclasses.replace(options, settings=tuple(settings.items()))
        splits = load_dataset(base, options, host)
        if base in host.datasets:  # "sine:points=50" is a dataset of its own; a file keeps its file's name
            splits.info = dataclasses.replace(splits.info, name=name_or_path)
        return splits
    if name_or_path not in host.datasets:
        check_path_text(name_or_path, "dataset")
    if name_or_path in host.datasets:
        check_settings(name_or_path, dict(options.settings), host.datasets[name_or_path].settings)
    elif looks_like_path(name_or_path):
        check_settings(name_or_path, dict(options.settings), FILE_SETTINGS)
        task = dict(options.settings).get("task", "classification")
        if task not in ("regression", "classification"):
            raise DataError(f"dataset '{name_or_path}': task={task} is neither regression nor classification")
    if name_or_path not in host.datasets and looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if path.is_file():  # a CSV of numbers, a CSV/TSV table of texts and labels, or a text corpus
            from archzoo.data.tables import is_number_table, load_number_table  # torch and numpy: when used

            if dict(options.settings).get("task") == "regression":
                from archzoo.data.tables import load_regression_table

                return load_regression_table(path, options)
            if is_number_table(path, options):
                return load_number_table(path, options)
            from archzoo.data.text import load_text_file

            return load_text_file(path, options)
        if not path.is_dir():
            raise DataError(f"dataset directory {path} does not exist")
        from archzoo.data.images import load_image_folder

        return load_image_folder(path, options)
    spec = host.dataset(name_or_path)
    module_name, _, function_name = spec.loader.partition(":")
    loader = getattr(importlib.import_module(module_name), function_name)
    return loader(options)


def looks_like_path(name: str) -> bool:
    """Is a dataset given as a path (a file or a folder) rather than a registered name?
    Settings in the name (``houses.csv:task=regression``) do not count: the path is before them."""
    name = split_dataset_name(name)[0]
    return "/" in name or name.startswith(".") or name.startswith("~") or Path(name).is_dir() or Path(name).is_file()
