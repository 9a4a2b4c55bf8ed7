"""``archzoo export``: a checkpoint's network as an ONNX file or a PyTorch exported program.

What is exported is a pure function of tensors: a classifier's (or a regression's)
``inputs -> scores``, an image generator's decoder ``codes -> images``, DCGAN's
generator ``noise -> images`` and DDPM's denoiser ``(x_t, t) -> predicted noise``.
The batch (and, for token ids, the length) stays dynamic.  Each file is traced once
with ``torch.export`` and then checked against PyTorch on real inputs (the test
split; drawn codes for a generator) before it is moved into place: ONNX through
onnxruntime, the exported program through ``torch.export.load(...).module()``; a
largest difference above :data:`TOLERANCE` is refused, so no file is left that
disagrees with its model.  Beside the file, ``FILE.json`` is its input contract
(shapes, dtypes, normalisation, class names) and a text model's ``FILE.tokenizer.json``
its tokenizer, so the file is usable without archzoo (docs/export.md).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archzoo.checkpoints.io import LoadedCheckpoint, load
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, archzoo_version, get_host
from archzoo.registry.specs import CLASSIFICATION_TASKS

#: Format name -> the file's suffix.
FORMATS = {"onnx": ".onnx", "exported-program": ".pt2"}
#: The largest absolute difference from PyTorch's outputs an export may have.
TOLERANCE = 1e-5
#: Examples traced with (at least 2, so the batch is not taken for a constant 1) and checked on.
TRACE_EXAMPLES = 8
CHECK_EXAMPLES = 256
EXTRA = "pip install 'archzoo[export]'"


class ExportError(ArchzooError):
    """A model or a format that cannot be exported, and why."""


@dataclass
class Part:
    """The function that is exported: a module of the checkpoint, its inputs, and what they mean."""

    what: str
    module: nn.Module
    #: Real inputs to check on: a list of argument tuples (text comes in batches of several lengths).
    batches: list[tuple[torch.Tensor, ...]]
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    #: Per input, the names of its dynamic dimensions by position ({0: "batch", 1: "tokens"}).
    dynamic: list[dict[int, str]]
    preprocessing: dict[str, Any] = field(default_factory=dict)


@dataclass
class Exported:
    """A written export: the file, its contract, and how closely it matched PyTorch."""

    path: Path
    contract: Path
    format: str
    what: str
    examples: int
    max_abs_difference: float
    files: list[Path] = field(default_factory=list)


def export_checkpoint(
    location: str | os.PathLike,
    format: str,
    out: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    host: Host | None = None,
) -> Exported:
    """Export a checkpoint (path, run or store name) as ``format`` to ``out`` (default:
    ``RUN.onnx`` / ``RUN.pt2`` here), checked against PyTorch; returns what was written."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}; choose {' or '.join(FORMATS)}")
    if format == "onnx":
        _require_onnx()
    host = host or get_host()
    loaded = load(location, host=host)
    path = Path(out) if out else Path(_run_name(loaded) + FORMATS[format])
    part = export_part(loaded, host)  # before the files: a model that cannot be exported says so first
    contract_path = path.with_name(path.name + ".json")
    tokenizer_path = path.with_name(path.name + ".tokenizer.json")
    written = [path, contract_path] + ([tokenizer_path] if loaded.tokenizer is not None else [])
    existing = [p for p in written if p.exists()]
    if existing and not overwrite:
        raise ExportError(f"{existing[0]} exists; pass --overwrite to replace it")
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name for the export")
    expected = _reference(part, loaded)
    program = _trace(part, loaded)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under its own name in a hidden folder beside it (a .pt2 archive is named after its file),
    # checked there, then moved into place: a failed check leaves nothing.
    folder = Path(tempfile.mkdtemp(prefix=".export-", dir=path.parent))
    staged = folder / path.name
    try:
        if format == "onnx":
            _write_onnx(program, part, staged)
            difference = _check_onnx(staged, part, expected)
        else:
            torch.export.save(program, staged)
            difference = _check_program(staged, part, expected)
        if not difference <= TOLERANCE:
            raise ExportError(
                f"the {format} export of {loaded.spec.name} differs from PyTorch by {difference:.3g} "
                f"(more than {TOLERANCE:g}) on real inputs; nothing was written"
            )
        os.replace(staged, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    examples = sum(len(batch[0]) for batch in part.batches)
    contract = _contract(loaded, part, format, path, examples, difference)
    if loaded.tokenizer is not None:
        shutil.copyfile(loaded.path / "tokenizer.json", tokenizer_path)
        contract["tokenizer"] = {"file": tokenizer_path.name, "padding_id": 0}
    contract_path.write_text(json.dumps(contract, indent=2) + "\n", encoding="utf-8")
    return Exported(path, contract_path, format, part.what, examples, difference, written)


def export_part(loaded: LoadedCheckpoint, host: Host | None = None) -> Part:
    """The part of ``loaded`` that is exported, with real inputs to check it on; a clear
    :class:`ExportError` for a model that has none."""
    spec, model = loaded.spec, loaded.model
    name = spec.name
    task = spec.task
    if task == "node-classification":
        raise ExportError(
            f"{name} cannot be exported: its forward reads the whole graph at once (every node's features and "
            "the edge list), so a file for one input would not be this model; predict its nodes with 'archzoo predict'"
        )
    if task == "text-generation":
        raise ExportError(
            f"{name} cannot be exported: a language model generates text in a loop of sampling steps outside its "
            "forward; export covers classifiers and generators' decoders"
        )
    if task == "feature-extraction" or _wraps_pretrained(model):
        raise ExportError(
            f"{name} cannot be exported by archzoo: it runs a pretrained Hugging Face encoder (transformers/peft); "
            "export that encoder with transformers' own exporters (optimum), whose tokenizer it needs"
        )
    if task in CLASSIFICATION_TASKS or task == "tabular-regression":
        return _classifier_part(loaded, host)
    if task == "image-generation":
        return _generator_part(loaded)
    raise ExportError(f"{name} ({task}) cannot be exported: export covers classifiers and generators' decoders")


def _classifier_part(loaded: LoadedCheckpoint, host: Host | None) -> Part:
    from archzoo.inference.data import evaluation_loader

    info = loaded.info
    text = loaded.tokenizer is not None or info.task == "text-classification"
    loader = evaluation_loader(loaded, batch_size=64 if text else CHECK_EXAMPLES, host=host)
    batches, seen = [], 0
    for inputs, _ in loader:
        batches.append((inputs,))
        seen += len(inputs)
        if seen >= CHECK_EXAMPLES:
            break
    if not batches or len(batches[0][0]) < 2:
        raise ExportError(f"{loaded.path}: its test split has fewer than 2 examples to trace and check the export on")
    regression = info.task == "tabular-regression"
    outputs = [
        {
            "name": "values" if regression else "logits",
            "shape": ["batch", info.num_classes],
            "dtype": "float32",
            "meaning": (
                f"the predicted {', '.join(info.class_names)} in the data's units"
                if regression
                else "class scores in class_names order; softmax over them gives the probabilities"
            ),
        }
    ]
    if text:
        inputs = [
            {
                "name": "ids",
                "shape": ["batch", "tokens"],
                "dtype": "int64",
                "meaning": "token ids from the tokenizer beside this file, each row padded with 0 to the longest",
            }
        ]
        return Part("classifier", loaded.model, batches, inputs, outputs, [{0: "batch", 1: "tokens"}])
    shape = ["batch", *info.input_shape]
    images = len(info.input_shape) == 3
    inputs = [
        {
            "name": "images" if images else "features",
            "shape": shape,
            "dtype": "float32",
            "meaning": f"{'images' if images else 'rows'} normalised as preprocessing says",
        }
    ]
    preprocessing = {
        "scale": "pixel values / 255, so each lies in [0, 1]" if images else "the raw numbers, in the data's units",
        "mean": list(info.mean),
        "std": list(info.std),
        "normalise": "(x - mean) / std" + (" per channel" if images else " per feature") if info.mean else "none",
    }
    if images:
        preprocessing["colour"] = "grayscale" if info.input_shape[0] == 1 else "RGB"
        preprocessing["size"] = {"height": info.input_shape[1], "width": info.input_shape[2]}
    what = "regression" if regression else "classifier"
    return Part(what, loaded.model, batches, inputs, outputs, [{0: "batch"}], preprocessing)


class _Decoder(nn.Module):
    """codes -> images in [0, 1] (the autoencoder's and the VAE's ``decode``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes)


class _Generator(nn.Module):
    """noise -> images in [-1, 1] (DCGAN's generator, called through the model as it asks)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.model(noise, "generator")


def _generator_part(loaded: LoadedCheckpoint) -> Part:
    model, name = loaded.model, loaded.spec.name
    draw = torch.Generator().manual_seed(0)
    count = 64
    latent = getattr(model, "latent_dim", None)
    if isinstance(latent, int) and callable(getattr(model, "decode", None)):
        codes = torch.randn(count, latent, generator=draw)
        mean, std = getattr(model, "code_mean", None), getattr(model, "code_std", None)
        if isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor):
            codes = mean + std * codes  # where the autoencoder's codes lie (its sampler draws them so)
        shape = list(getattr(model, "image_shape", ()))
        return Part(
            "decoder",
            _Decoder(model),
            [(codes,)],
            [{"name": "codes", "shape": ["batch", latent], "dtype": "float32", "meaning": _code_meaning(model)}],
            [{"name": "images", "shape": ["batch", *shape], "dtype": "float32", "meaning": "pixels in [0, 1]"}],
            [{0: "batch"}],
        )
    if isinstance(latent, int) and isinstance(getattr(model, "generator", None), nn.Module):
        noise = torch.randn(count, latent, generator=draw)
        return Part(
            "generator",
            _Generator(model),
            [(noise,)],
            [{"name": "noise", "shape": ["batch", latent], "dtype": "float32", "meaning": "z ~ N(0, I)"}],
            [
                {
                    "name": "images",
                    "shape": ["batch", *loaded.info.input_shape],
                    "dtype": "float32",
                    "meaning": "pixels in [-1, 1]: (images + 1) / 2 gives [0, 1]",
                }
            ],
            [{0: "batch"}],
        )
    timesteps, data_shape = getattr(model, "timesteps", None), getattr(model, "data_shape", None)
    if isinstance(timesteps, int) and data_shape:
        x_t = torch.randn(count, *data_shape, generator=draw)
        t = torch.randint(0, timesteps, (count,), generator=draw)
        return Part(
            "denoiser",
            model,
            [(x_t, t)],
            [
                {
                    "name": "x_t",
                    "shape": ["batch", *data_shape],
                    "dtype": "float32",
                    "meaning": "the noised input at step t (images on [-1, 1] before noising)",
                },
                {"name": "t", "shape": ["batch"], "dtype": "int64", "meaning": f"the step, 0 to {timesteps - 1}"},
            ],
            [
                {
                    "name": "noise",
                    "shape": ["batch", *data_shape],
                    "dtype": "float32",
                    "meaning": "the predicted noise eps(x_t, t); the sampler's loop and schedule are not in the file",
                }
            ],
            [{0: "batch"}, {0: "batch"}],
        )
    raise ExportError(
        f"{name} cannot be exported: archzoo finds no decoder in it (a decode(codes) method with latent_dim, "
        "a generator module, or a denoiser with timesteps)"
    )


def _code_meaning(model: nn.Module) -> str:
    if isinstance(getattr(model, "code_mean", None), torch.Tensor):
        return "codes; the model's own are about code_mean + code_std * N(0, I) (in its checkpoint's weights)"
    return "codes z ~ N(0, I), the prior"


def _wraps_pretrained(model: nn.Module) -> bool:
    return any(type(m).__module__.split(".")[0] in ("transformers", "peft") for m in model.modules())


def _trace(part: Part, loaded: LoadedCheckpoint) -> Any:
    """``torch.export`` of the part on a few real inputs, the batch (and tokens) dynamic.  The
    non-strict tracing first (the faster), then Dynamo's strict one, which keeps ``len(x)``
    symbolic where the non-strict one fixes the batch (the ViT's ``expand(len(images), ...)``)."""
    example = tuple(tensor[:TRACE_EXAMPLES] for tensor in part.batches[0])
    dims: dict[str, Any] = {}
    shapes = tuple(
        {axis: dims.setdefault(label, torch.export.Dim(label, min=1)) for axis, label in dynamic.items()}
        for dynamic in part.dynamic
    )
    failures = []
    for strict in (False, True):
        try:
            # The tracer's warnings are about the model's code, not for the user: its reason, if any, is raised.
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.export.export(part.module.eval(), example, dynamic_shapes=shapes, strict=strict)
        except Exception as exc:  # torch.export raises many kinds; each is a reason, shown in one line
            failures.append(str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__)
    if any(isinstance(m, nn.RNNBase) for m in part.module.modules()):
        raise ExportError(
            f"{loaded.spec.name} cannot be exported: torch.export cannot trace its recurrent layers; a forward "
            "that packs each text to its own length (pack_padded_sequence) makes those lengths data, which "
            f"torch.export cannot follow (the tracer: {failures[-1]})"
        )
    raise ExportError(
        f"{loaded.spec.name} cannot be exported: torch.export cannot trace its {part.what} as a function of its "
        f"inputs ({failures[-1]})"
    )


def _require_onnx() -> None:
    missing = []
    for module in ("onnx", "onnxruntime", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ExportError(f"ONNX export needs {', '.join(missing)}: {EXTRA}")


def _write_onnx(program: Any, part: Part, path: Path) -> None:
    import contextlib
    import io

    names = [spec["name"] for spec in part.inputs]
    outputs = [spec["name"] for spec in part.outputs]
    # The exporter reports its progress on stdout, and warns of what it translates; the check says how it went.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                program, f=str(path), input_names=names, output_names=outputs, external_data=False, verbose=False
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"the ONNX exporter cannot translate this {part.what}: {first}") from None


def _reference(part: Part, loaded: LoadedCheckpoint) -> list[list[torch.Tensor]]:
    """PyTorch's outputs on the check inputs, computed twice: a forward that draws random numbers
    or changes state between calls is no function of its inputs, and a file of it would be a lie."""
    part.module.eval()
    with torch.no_grad():
        first = [_as_list(part.module(*batch)) for batch in part.batches]
        second = [_as_list(part.module(*batch)) for batch in part.batches]
    apart = _largest(first, second)
    if apart > 0:
        raise ExportError(
            f"{loaded.spec.name} cannot be exported: its {part.what} is not a pure function of its inputs "
            f"(two calls on the same inputs differ by {apart:.3g}: it draws random numbers or keeps state)"
        )
    return first


def _as_list(output: Any) -> list[torch.Tensor]:
    return list(output) if isinstance(output, (tuple, list)) else [output]


def _largest(expected: list[list[torch.Tensor]], found: list[list[Any]]) -> float:
    worst = 0.0
    for want, got in zip(expected, found):
        if len(want) != len(got):
            return math.inf
        for a, b in zip(want, got):
            b = torch.as_tensor(b)
            if tuple(a.shape) != tuple(b.shape):
                return math.inf
            worst = max(worst, float((a.float() - b.float()).abs().max()) if a.numel() else 0.0)
    return worst


def _check_onnx(path: Path, part: Part, expected: list[list[torch.Tensor]]) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    found = [session.run(None, {n: t.numpy() for n, t in zip(names, batch)}) for batch in part.batches]
    return _largest(expected, found)


def _check_program(path: Path, part: Part, expected: list[list[torch.Tensor]]) -> float:
    module = torch.export.load(path).module()
    with torch.no_grad():
        found = [_as_list(module(*batch)) for batch in part.batches]
    return _largest(expected, found)


def _run_name(loaded: LoadedCheckpoint) -> str:
    folder = loaded.path
    return folder.parent.name if folder.name in ("best", "last") else folder.name


def _runtime(format: str) -> str:
    if format == "onnx":
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__}"
    return f"torch.export.load (torch {torch.__version__.split('+')[0]})"


def _contract(
    loaded: LoadedCheckpoint, part: Part, format: str, path: Path, examples: int, difference: float
) -> dict[str, Any]:
    info = loaded.info
    contract: dict[str, Any] = {
        "file": path.name,
        "format": format,
        "exported": part.what,
        "architecture": loaded.spec.name,
        "task": info.task,
        "dataset": info.name,
        "inputs": part.inputs,
        "outputs": part.outputs,
    }
    if part.preprocessing:
        contract["preprocessing"] = part.preprocessing
    if part.what in ("classifier", "regression"):
        contract["class_names" if part.what == "classifier" else "output_names"] = list(info.class_names)
    contract["checked"] = {
        "against": f"PyTorch {torch.__version__.split('+')[0]}, the checkpoint's own model",
        "on": "the checkpoint's test split" if part.what in ("classifier", "regression") else "drawn inputs (seed 0)",
        "examples": examples,
        "runtime": _runtime(format),
        "max_abs_difference": difference,
        "tolerance": TOLERANCE,
    }
    contract["archzoo"] = archzoo_version()
    return contract
