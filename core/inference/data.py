"""The data a checkpoint is judged on and reads: its own dataset, split as in training.

Evaluation, trust reports, node inference and the generators' reconstruct
mode all need a checkpoint's test (or validation) split, read exactly as the
run read it: with the checkpoint's tokenizer, column settings and class
names, or another dataset of the same input shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from archzoo.data.loading import load_dataset, looks_like_path
from archzoo.data.types import DataInfo, data_options
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, get_host
from archzoo.registry.paths import PathRefused
from archzoo.registry.specs import DatasetSpec


def evaluation_split(
    loaded: Any,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    host: Host | None = None,
) -> Any:
    """The split a loaded checkpoint is judged on: of its own dataset (split the
    way it was split for training), or of another with the same input shape."""
    return evaluation_data(loaded, dataset=dataset, split=split, data_dir=data_dir, download=download, host=host)[0]


def evaluation_loader(loaded: Any, *, batch_size: int = 512, **where: Any) -> Any:
    """A data loader over :func:`evaluation_split` (``where``: its keyword
    arguments), batching the way the dataset needs (text is padded)."""
    chosen, splits = evaluation_data(loaded, **where)
    return DataLoader(chosen, batch_size=batch_size, collate_fn=splits.collate)


def evaluation_data(
    loaded: Any,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    host: Host | None = None,
) -> tuple[Any, Any]:
    """(the chosen split, all the splits): :func:`evaluation_split` with the
    splits beside it, for callers that need their ``collate`` or the other
    splits (node classification rebuilds its graph from all three).  Text is
    read as in training: with the checkpoint's tokenizer, its column settings
    and its class names."""
    host = host or get_host()
    name = dataset or loaded.meta["dataset"]["name"]
    spec = host.datasets.get(name)
    if spec is None and looks_like_path(name):
        confine_dataset(name, loaded.path, given=dataset is not None, host=host)
    if data_dir and host.paths is not None:
        host.paths.readable(data_dir, "data folder")
    if spec is not None and name != loaded.meta["dataset"]["name"] and not _fits(spec, loaded.info):
        raise ArchzooError(
            f"dataset '{name}' ({spec.task}, inputs {tuple(spec.input_shape) or 'of any shape'}) does not fit a "
            f"checkpoint trained on {loaded.info.task} inputs of shape {tuple(loaded.info.input_shape)}; "
            f"it can be judged on: {', '.join(judged_on(loaded.meta, host))}"
        )
    options = data_options(
        loaded.meta.get("train", {}),
        data_dir=Path(data_dir) if data_dir else None,
        download=download,
        trained_tokenizer=getattr(loaded, "tokenizer", None),
        class_names=tuple(loaded.info.class_names) or None,
    )
    splits = load_dataset(name, options, host=host)
    if tuple(splits.info.input_shape) != tuple(loaded.info.input_shape):
        raise ArchzooError(
            f"dataset '{name}' has inputs of shape {splits.info.input_shape}, "
            f"but the checkpoint expects {loaded.info.input_shape}"
        )
    chosen = {"train": splits.train, "validation": splits.val, "val": splits.val, "test": splits.test}.get(
        split, "unknown"
    )
    if chosen == "unknown":
        raise ArchzooError(f"unknown split '{split}'; choose train, validation or test")
    if chosen is None or len(chosen) == 0:
        raise ArchzooError(f"dataset '{name}' has no {split} split. {' '.join(splits.notes)}".strip())
    return chosen, splits


def confine_dataset(name: str, checkpoint: Path, *, given: bool, host: Host) -> None:
    """A dataset that is a path is read only where the path policy allows (the app's: the
    store and the data roots).  Without a policy (the command line) a path the checkpoint
    recorded is still not read when the checkpoint came from the Hub (it lies in the Hugging
    Face cache): someone else's config.json does not choose which of the user's files is read."""
    if host.paths is not None:
        host.paths.readable(name, "dataset" if given else "the checkpoint's recorded dataset")
        return
    if not given and _downloaded(checkpoint):
        raise PathRefused(
            f"this checkpoint came from the Hub and records its dataset as the path '{name[:200]}'; "
            "archzoo does not read a path someone else's checkpoint names: give the dataset with --dataset"
        )


def _downloaded(folder: Path) -> bool:
    from huggingface_hub import constants

    return Path(folder).resolve().is_relative_to(Path(constants.HF_HUB_CACHE).expanduser().resolve())


def judged_on(meta: dict[str, Any], host: Host | None = None) -> list[str]:
    """The datasets a checkpoint can be judged on: its own first, then every
    registered dataset of its data's task and input shape (or of a shape known
    only once it is loaded).  The Evaluate tab offers these; :func:`evaluation_data`
    refuses the others."""
    host = host or get_host()
    info = DataInfo.from_dict(meta["dataset"]["info"])
    own = meta["dataset"]["name"]
    return [own, *sorted(d.name for d in host.datasets.values() if d.name != own and _fits(d, info))]


def _fits(spec: DatasetSpec, info: DataInfo) -> bool:
    return spec.task == info.task and (not spec.input_shape or tuple(spec.input_shape) == tuple(info.input_shape))
