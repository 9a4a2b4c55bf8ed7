"""Loading a dataset by name (from the catalogue any plugin adds to) or by path.

This module and :mod:`archzoo.data.types` import no torch: the loaders named
in the catalogue, and the readers of image folders and text files, are
imported when a dataset is loaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from archzoo.data.types import DataOptions, DatasetSplits
from archzoo.errors import DataError
from archzoo.registry.host import get_host
from archzoo.registry.paths import check_path_text


def load_dataset(name_or_path: str, options: DataOptions | None = None, host: Any = None) -> DatasetSplits:
    """Load a registered dataset by name, or by path: an image folder, a CSV of
    numbers and labels (:mod:`archzoo.data.tables`), or a text file (a CSV/TSV
    table of texts and labels, or a corpus; see :mod:`archzoo.data.text`)."""
    options = options or DataOptions()
    host = host or get_host()
    if name_or_path not in host.datasets:
        check_path_text(name_or_path, "dataset")
    if name_or_path not in host.datasets and looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if path.is_file():  # a CSV of numbers, a CSV/TSV table of texts and labels, or a text corpus
            from archzoo.data.tables import is_number_table, load_number_table  # torch and numpy: when used

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
    """Is a dataset given as a path (a file or a folder) rather than a registered name?"""
    return "/" in name or name.startswith(".") or name.startswith("~") or Path(name).is_dir() or Path(name).is_file()
