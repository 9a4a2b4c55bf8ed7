"""The shape of a checkpoint's ``config.json``, checked on every read.

A checkpoint may come from anyone (a classmate's Hub repository), so before
anything uses its ``config.json`` the file is parsed within the limits of
:func:`archzoo.registry.limits.parse_json` and checked against this schema
(pydantic, which the app already depends on): every entry loading, listing
and evaluating use has the type they expect.  A failure is one
:class:`~archzoo.errors.CheckpointError` naming the file and the field, e.g.
``.../config.json: 'dataset.info.num_classes': Input should be a valid integer``.

Entries archzoo adds later (``trust``, ``calibration``, ...) and entries of
newer versions are allowed; their readers check them.  Torch-free.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from archzoo.checkpoints.layout import CONFIG, FORMAT, RESERVED
from archzoo.errors import CheckpointError
from archzoo.registry.limits import MAX_NAME_CHARS, LimitError, parse_json

#: A file a checkpoint's ``files`` entry may name: one plain name inside the folder.
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: Generous bounds on what a dataset's description may say.
MAX_DIMENSIONS, MAX_SIDE, MAX_CLASSES, MAX_VOCABULARY = 8, 1_000_000, 1_000_000, 10_000_000


def read_config(folder: Path) -> dict[str, Any]:
    """``folder/config.json`` parsed within limits and checked against the schema."""
    path = Path(folder) / CONFIG
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no {CONFIG}") from None
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read: {exc.strerror}") from None
    return check_config(raw, str(path))


def check_config(raw: str | bytes, source: str) -> dict[str, Any]:
    """Parse and check one ``config.json``'s text; ``source`` names it in messages."""
    try:
        meta = parse_json(raw, source)
    except LimitError as exc:
        raise CheckpointError(f"{exc}; the checkpoint is damaged") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f'{source} is not an archzoo checkpoint config (no "format": "{FORMAT}")')
    for key in ("architecture", "config", "dataset", "weights_sha256"):
        if key not in meta:
            raise CheckpointError(f"{source} lacks the '{key}' entry; the checkpoint is damaged")
    _validate(meta, source)
    _check_meaning(meta, source)
    return meta


def _validate(meta: dict[str, Any], source: str) -> None:
    from pydantic import ValidationError

    try:
        _schema().model_validate(meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise CheckpointError(f"{source}: '{where}': {first['msg']}{more}; the checkpoint is damaged") from None


def _check_meaning(meta: dict[str, Any], source: str) -> None:
    """What types alone do not say: enough class names, files inside the folder."""
    info = meta["dataset"]["info"]
    names, classes = info.get("class_names", []), info.get("num_classes", 0)
    if classes and len(names) < classes:
        raise CheckpointError(
            f"{source}: 'dataset.info.class_names' names {len(names)} classes but 'num_classes' is {classes}; "
            "the checkpoint is damaged"
        )
    for name in meta.get("files") or {}:
        if not FILE_NAME.fullmatch(name) or name in RESERVED:
            shown = "".join(c if c.isprintable() else "?" for c in name[:80])
            raise CheckpointError(
                f"{source}: 'files' names '{shown}', which is not a file of the checkpoint's own "
                "(one plain name inside its folder); the checkpoint is damaged"
            )


_SCHEMA = None


def _schema():
    """The pydantic model of ``config.json`` (built on first use: listing needs no pydantic)."""
    global _SCHEMA
    if _SCHEMA is not None:
        return _SCHEMA
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints

    Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS)]
    Count = Annotated[StrictInt, Field(ge=0, le=MAX_CLASSES)]
    Number = StrictFloat | StrictInt | None  # a metric may be NaN, written by json as NaN

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow", strict=True)

    class Info(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)  # DataInfo takes exactly these

        name: StrictStr
        task: Name
        input_shape: Annotated[list[Annotated[StrictInt, Field(ge=0, le=MAX_SIDE)]], Field(max_length=MAX_DIMENSIONS)]
        num_classes: Count
        class_names: Annotated[list[Annotated[StrictStr, Field(max_length=1000)]], Field(max_length=MAX_CLASSES)]
        mean: Annotated[list[StrictFloat | StrictInt], Field(max_length=64)] = []
        std: Annotated[list[StrictFloat | StrictInt], Field(max_length=64)] = []
        vocab_size: Annotated[StrictInt, Field(ge=0, le=MAX_VOCABULARY)] = 0

    class Dataset(Open):
        name: Name
        info: Info

    Numbers = Annotated[list[StrictFloat | StrictInt], Field(max_length=MAX_SIDE)]

    class Preprocessing(Open):
        """How inputs are prepared (:mod:`archzoo.checkpoints.preprocessing`); read by people and scripts."""

        input: Name
        input_size: Annotated[
            list[Annotated[StrictInt, Field(ge=0, le=MAX_SIDE)]], Field(max_length=MAX_DIMENSIONS)
        ] = []
        mean: Numbers = []
        std: Numbers = []
        raw_scale: Annotated[StrictFloat | StrictInt, Field(gt=0)] = 1
        label_names: Annotated[list[Annotated[StrictStr, Field(max_length=1000)]], Field(max_length=MAX_CLASSES)] = []

    class Plugin(Open):
        name: StrictStr = ""
        distribution: StrictStr = ""
        version: StrictStr = ""

    class Config(Open):
        format: StrictStr
        architecture: Annotated[Name, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
        config: dict[StrictStr, Any]
        train: dict[StrictStr, Any] = {}
        dataset: Dataset
        weights_sha256: Annotated[StrictStr, StringConstraints(pattern=f"^{SHA256.pattern}$")]
        files: dict[StrictStr, Annotated[StrictStr, StringConstraints(pattern=f"^{SHA256.pattern}$")]] = {}
        metrics: dict[StrictStr, dict[StrictStr, Number]] = {}
        parameters: Annotated[StrictInt, Field(ge=0)] = 0
        task: StrictStr = ""
        plugin: Plugin = Plugin()
        preprocessing: Preprocessing | None = None  # absent from checkpoints written before it was recorded

    _SCHEMA = Config
    return _SCHEMA
