"""``archzoo export``: tiny real runs exported as ONNX and as exported programs, run by
onnxruntime and ``torch.export.load`` alone, and compared with the checkpoint's own model."""

from __future__ import annotations

import json
import sys
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np
import onnxruntime
import pytest
import torch
from PIL import Image

from archzoo import ArchSpec, hookimpl, param
from archzoo.api import evaluation_split, load, predict, train
from archzoo.cli.main import main
from archzoo.inference.export import TOLERANCE, ExportError, export_checkpoint
from archzoo.registry.host import Host


@pytest.fixture(scope="module", autouse=True)
def store(module_store):
    return module_store


#: Dataset stand-ins -> their paths, made by the fixtures below.
DATASETS: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def digits28(tmp_path_factory):
    """scikit-learn's digits 0 and 1 as 28 x 28 PNGs in class folders: an image folder DCGAN can train on."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = tmp_path_factory.mktemp("digits28")
    for label in (0, 1):
        (root / str(label)).mkdir()
        for i, image in enumerate(digits.images[digits.target == label][:30]):
            Image.fromarray((image * 255 / 16).astype(np.uint8)).resize((28, 28)).save(root / str(label) / f"{i}.png")
    DATASETS["DIGITS28"] = str(root)
    return root


RUNS: dict[str, object] = {}


def trained(name: str, dataset: str | None = None, **overrides) -> str:
    """The folder of a tiny run (one epoch), trained once per module."""
    key = f"{name}-{dataset}"
    if key not in RUNS:
        RUNS[key] = str(
            train(name, dataset=DATASETS.get(dataset, dataset), overrides={"epochs": 1, **overrides}, out=key).out_dir
        )
    return RUNS[key]


#: (id, preset or architecture, dataset, overrides, what is exported)
KINDS = [
    ("mlp", "mlp", "digits", {}, "classifier"),
    ("cnn", "cnn", "digits", {}, "classifier"),
    ("resnet", "resnet", "digits", {}, "classifier"),
    ("vit", "vit", "digits", {"patch_size": 4, "depth": 1}, "classifier"),
    ("logistic", "logistic-moons", None, {}, "classifier"),
    ("linear-svm", "linear-svm-moons", None, {}, "classifier"),
    ("perceptron", "perceptron-and", None, {}, "classifier"),
    ("softmax-regression", "softmax-regression", "digits", {}, "classifier"),
    (
        "transformer",
        "transformer",
        "sentiment-synthetic",
        {"d_model": 16, "heads": 2, "d_ff": 16, "layers": 1},
        "classifier",
    ),
    ("linear-regression", "linear-sine", None, {}, "regression"),
    ("vae", "vae", "digits", {"hidden": [32], "latent_dim": 4}, "decoder"),
    ("autoencoder", "autoencoder", "digits", {"hidden": [32], "latent_dim": 4}, "decoder"),
    ("dcgan", "dcgan", "DIGITS28", {"batch_size": 16}, "generator"),
    ("ddpm", "ddpm", "digits", {"channels": [8, 16], "groups": 4, "time_dim": 16, "timesteps": 50}, "denoiser"),
    ("ddpm-points", "ddpm", "moons", {"toy_hidden": 16, "time_dim": 16, "timesteps": 50}, "denoiser"),
]


def reference(loaded, what: str, inputs: tuple[torch.Tensor, ...]) -> np.ndarray:
    """What PyTorch gives for ``inputs``, called the way each plugin calls its own network."""
    model = loaded.model
    with torch.no_grad():
        if what == "decoder":
            return model.decode(*inputs).numpy()
        if what == "generator":
            return model(inputs[0], "generator").numpy()
        return model(*inputs).numpy()


def fresh_inputs(loaded, what: str, contract: dict) -> tuple[torch.Tensor, ...]:
    """Inputs the export never saw: the test split (its last examples), or codes and noise drawn with another seed."""
    draw = torch.Generator().manual_seed(1234)
    if what in ("classifier", "regression"):
        split = evaluation_split(loaded)
        rows = [split[i] for i in range(max(0, len(split) - 40), len(split))]
        if loaded.tokenizer is not None:
            from archzoo.data.text import pad_ids

            return (pad_ids([row[0][row[0] != 0].tolist() for row in rows]),)
        return (torch.stack([row[0] for row in rows]),)
    if what == "denoiser":
        shape = contract["inputs"][0]["shape"][1:]
        steps = int(contract["inputs"][1]["meaning"].rsplit(" ", 1)[-1]) + 1
        return torch.randn(11, *shape, generator=draw), torch.randint(0, steps, (11,), generator=draw)
    return (torch.randn(11, contract["inputs"][0]["shape"][1], generator=draw),)


EXPORTS: dict[tuple[str, str], object] = {}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


def exported(kind: str, fmt: str, folder) -> object:
    """A kind's export in a format, written once per module (the tests below read the same files)."""
    if (kind, fmt) not in EXPORTS:
        _, name, dataset, overrides, _ = next(k for k in KINDS if k[0] == kind)
        run = trained(name, dataset, **overrides)
        EXPORTS[kind, fmt] = (
            run,
            export_checkpoint(run, fmt, folder / f"{kind}{'.onnx' if fmt == 'onnx' else '.pt2'}"),
        )
    return EXPORTS[kind, fmt]


@pytest.mark.parametrize("fmt", ["onnx", "exported-program"])
@pytest.mark.parametrize(("kind", "name", "dataset", "overrides", "what"), KINDS, ids=[k[0] for k in KINDS])
def test_export_runs_without_archzoo_and_equals_pytorch(kind, name, dataset, overrides, what, fmt, exports):
    run, done = exported(kind, fmt, exports)
    assert done.what == what and done.path.is_file() and done.examples >= 4
    assert 0.0 <= done.max_abs_difference <= TOLERANCE

    contract = json.loads(done.contract.read_text())
    assert contract["file"] == done.path.name and contract["format"] == fmt and contract["exported"] == what
    assert contract["checked"]["max_abs_difference"] == done.max_abs_difference
    loaded = load(run)
    if what == "classifier":
        assert contract["class_names"] == list(loaded.info.class_names)
    # Run the file by itself on inputs it was neither traced nor checked on, and compare with the model.
    inputs = fresh_inputs(loaded, what, contract)
    expected = reference(loaded, what, inputs)
    if fmt == "onnx":
        session = onnxruntime.InferenceSession(str(done.path), providers=["CPUExecutionProvider"])
        names = [item.name for item in session.get_inputs()]
        assert names == [item["name"] for item in contract["inputs"]]
        (found,) = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    else:
        with torch.no_grad():
            found = torch.export.load(done.path).module()(*inputs).numpy()
    assert found.shape == expected.shape
    assert np.abs(found - expected).max() <= TOLERANCE


def test_the_contract_alone_prepares_an_image_as_archzoo_predict_does(tmp_path):
    """A PNG prepared with nothing but the contract's preprocessing, run in onnxruntime, gives
    archzoo predict's probabilities."""
    run, done = exported("mlp", "onnx", tmp_path)
    contract = json.loads(done.contract.read_text())
    pre = contract["preprocessing"]
    assert pre["colour"] == "grayscale" and pre["size"] == {"height": 8, "width": 8}
    image = evaluation_split(load(run))[3][0]  # one test digit, written out as an 8-bit PNG
    mean, std = np.array(pre["mean"]), np.array(pre["std"])
    pixels = np.clip((image.numpy()[0] * std[0] + mean[0]) * 255, 0, 255).round().astype(np.uint8)
    Image.fromarray(pixels, mode="L").save(tmp_path / "digit.png")

    raw = np.asarray(Image.open(tmp_path / "digit.png"), dtype=np.float32) / 255.0
    x = ((raw - mean[0]) / std[0])[None, None].astype(np.float32)
    session = onnxruntime.InferenceSession(str(done.path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {contract["inputs"][0]["name"]: x})
    probabilities = np.exp(logits[0] - logits[0].max())
    probabilities /= probabilities.sum()
    [top], _ = predict(run, [str(tmp_path / "digit.png")], top_k=10)
    for label, probability in top:
        assert abs(probabilities[contract["class_names"].index(label)] - probability) < 1e-5


def test_a_text_export_carries_its_tokenizer(tmp_path):
    run, done = exported("transformer", "exported-program", tmp_path)
    contract = json.loads(done.contract.read_text())
    tokenizer = done.path.with_name(done.path.name + ".tokenizer.json")
    assert contract["tokenizer"] == {"file": tokenizer.name, "padding_id": 0}
    assert tokenizer.read_bytes() == (load(run).path / "tokenizer.json").read_bytes()
    assert contract["inputs"][0]["shape"] == ["batch", "tokens"] and contract["inputs"][0]["dtype"] == "int64"


def test_the_exported_program_keeps_its_weights_as_raw_tensors_not_pickles(tmp_path):
    _, done = exported("cnn", "exported-program", tmp_path)
    with zipfile.ZipFile(done.path) as archive:
        configs = [n for n in archive.namelist() if n.endswith(("weights_config.json", "constants_config.json"))]
        payloads = [entry for n in configs for entry in json.loads(archive.read(n))["config"].values()]
    assert len(payloads) > 4 and not any(entry["use_pickle"] for entry in payloads)


def test_the_command_says_what_it_wrote_and_the_difference(tmp_path, capsys):
    out = tmp_path / "moons.onnx"
    assert main(["export", trained("logistic-moons"), "--format", "onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out} (classifier)" in printed and "max abs difference" in printed
    assert f"wrote {out}.json" in printed
    # A second export to the same file is refused, then allowed with --overwrite.
    assert main(["export", trained("logistic-moons"), "--format", "onnx", "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["export", trained("logistic-moons"), "--format", "onnx", "--out", str(out), "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("name", "dataset", "overrides", "reason"),
    [
        ("rnn", "sentiment-synthetic", {"embed_dim": 8, "hidden": 8, "head_hidden": 8}, "pack_padded_sequence"),
        ("gnn-sbm", None, {}, "reads the whole graph at once"),
    ],
    ids=["rnn", "gnn"],
)
@pytest.mark.parametrize("fmt", ["onnx", "exported-program"])
def test_a_model_that_cannot_be_exported_is_refused_in_one_line(
    name, dataset, overrides, reason, fmt, tmp_path, capsys
):
    run = trained(name, dataset, **overrides)
    out = tmp_path / "refused"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["export", run, "--format", fmt, "--out", str(out)]) == 2
    assert [str(w.message)[:80] for w in caught] == []  # the tracer's complaints are not shown to the user
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot be exported" in err and reason in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_format_is_refused():
    with pytest.raises(ExportError, match="unknown export format 'tflite'; choose onnx or exported-program"):
        export_checkpoint(trained("logistic-moons"), "tflite")


def test_onnx_without_its_extra_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with pytest.raises(ExportError, match=r"ONNX export needs onnxruntime: pip install 'archzoo\[export\]'"):
        export_checkpoint(trained("logistic-moons"), "onnx")


@dataclass
class NoisyConfig:
    input_shape: tuple[int, ...] = param((2,), "shape of one row (filled from the dataset)", from_data="input_shape")
    num_classes: int = param(2, "classes (filled from the dataset)", from_data="num_classes", min=2)


class NoisyLinear(torch.nn.Module):
    """A third party's classifier whose forward adds fresh noise, in eval mode too."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + 0.1 * torch.randn(len(x), self.linear.out_features)


class NoisyPlugin:
    @hookimpl
    def archzoo_register(self, registry):
        registry.add_architecture(
            ArchSpec(
                name="noisy-linear",
                task="tabular-classification",
                summary="a linear classifier with noise in its forward",
                config=NoisyConfig,
                default_dataset="moons",
            )
        )

    @hookimpl
    def build_model(self, spec, config):
        return NoisyLinear(config.input_shape[0], config.num_classes)


@pytest.mark.parametrize("fmt", ["onnx", "exported-program"])
def test_a_forward_that_is_not_a_function_of_its_inputs_is_refused(fmt, tmp_path):
    host = Host(extra_plugins={"noisy": NoisyPlugin()})
    run = train("noisy-linear", overrides={"epochs": 1}, out=f"noisy-{fmt}", host=host).out_dir
    with pytest.raises(ExportError, match="noisy-linear cannot be exported: its classifier is not a pure function"):
        export_checkpoint(run, fmt, tmp_path / "noisy", host=host)
    assert list(tmp_path.iterdir()) == []
