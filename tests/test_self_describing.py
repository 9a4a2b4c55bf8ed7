"""A checkpoint says how to feed it: config.json's ``preprocessing`` entry, and the card's
script that runs the model with torch and safetensors alone.

Checkpoints are written as training writes them (build_meta + write_checkpoint) from
models built on real datasets' descriptions (scikit-learn's digits, moons, the sine
regression), with their weights and BatchNorm statistics drawn at random so that a
wrong layer, order or normalisation would change the answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from archzoo.checkpoints.io import load, write_checkpoint
from archzoo.checkpoints.meta import build_meta, read_meta
from archzoo.data import DataOptions
from archzoo.data.loading import load_dataset
from archzoo.inference.classify import predict
from archzoo.registry import config as config_module
from archzoo.registry.config import TrainConfig
from archzoo.registry.host import get_host
from archzoo.registry.plans import fill_from_data
from archzoo.toolkit.models import parameter_count

#: Each architecture whose card carries a script, the dataset it is written for, and its settings.
SCRIPTED = [
    ("mlp", "digits", {"hidden": (12, 8), "norm": "batch", "activation": "gelu", "dropout": 0.1}),
    ("cnn", "digits", {"width": 4, "blocks": 2, "head_hidden": 6}),
    ("logistic", "digits", {}),
    ("logistic", "moons", {}),
    ("mlp", "moons", {"hidden": (5,), "norm": "layer", "activation": "tanh"}),
    ("linear-svm", "moons", {}),
    ("mlp", "sine", {"hidden": (4,)}),
]


def _checkpoint(folder: Path, arch: str, dataset: str, settings: dict, seed: int = 0) -> Path:
    """A checkpoint of ``arch`` on ``dataset``'s description, its tensors random."""
    host = get_host()
    spec = host.architectures[arch]
    splits = load_dataset(dataset, DataOptions())
    config = fill_from_data(config_module.build_config(spec.config, settings), splits.info)
    model = host.hooks(spec).build_model(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point() and "epoch" not in name:
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + (0.5 if "running_var" in name else -0.5))
    meta = build_meta(
        spec=spec,
        config=config,
        train_config=TrainConfig(),
        info=splits.info,
        dataset=dataset,
        metrics={},
        parameters=parameter_count(model)[0],
    )
    return write_checkpoint(folder, model.eval(), meta, extra_files=splits.checkpoint_files())


def _digit_png(path: Path) -> Path:
    """One of scikit-learn's digits as an 8-bit grayscale PNG, larger than 8x8 (so it is resized)."""
    from sklearn.datasets import load_digits

    pixels = (load_digits().images[7] * 255 / 16).round().astype(np.uint8)
    Image.fromarray(pixels, mode="L").resize((24, 24), Image.Resampling.NEAREST).save(path)
    return path


def _script(card: str) -> str:
    """The card's standalone script: the python block of its 'Without archzoo: PyTorch' section."""
    section = card.split("## Without archzoo: PyTorch and safetensors alone", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_config_records_the_numbers_predict_uses(store, tmp_path):
    """Preprocessing an image with config.json's numbers alone (PIL + torch) gives the logits
    archzoo's predict gives, and the digits' own scale (0..16) is recorded beside the pixels' 255."""
    folder = _checkpoint(tmp_path / "cnn", "cnn", "digits", {"width": 4})
    pre = read_meta(folder)["preprocessing"]
    info = load_dataset("digits", DataOptions()).info
    assert pre["input"] == "image" and pre["input_size"] == [1, 8, 8] and pre["color_mode"] == "L"
    assert pre["raw_scale"] == 255.0 and pre["dataset_raw_scale"] == 16.0
    assert pre["mean"] == list(info.mean) and pre["std"] == list(info.std)
    assert pre["label_names"] == [str(d) for d in range(10)] and pre["num_classes"] == 10

    image = Image.open(_digit_png(tmp_path / "seven.png")).convert(pre["color_mode"])
    image = image.resize(tuple(pre["input_size"][:0:-1]), Image.Resampling[pre["interpolation"].upper()])
    x = torch.tensor(np.asarray(image), dtype=torch.float32)[None] / pre["raw_scale"]
    x = (x - pre["mean"][0]) / pre["std"][0]
    loaded = load(folder)
    with torch.no_grad():
        logits = loaded.model(x[None])[0]
    ranked, _ = predict(folder, [str(tmp_path / "seven.png")], top_k=10)
    ours = dict(ranked[0])
    theirs = torch.softmax(logits, dim=0)
    for c, name in enumerate(pre["label_names"]):
        assert ours[name] == pytest.approx(float(theirs[c]), abs=1e-6)

    # The dataset's own values, divided by dataset_raw_scale, are the training inputs.
    digits = load_dataset("digits", DataOptions())
    from sklearn.datasets import load_digits

    raw = torch.tensor(load_digits().images, dtype=torch.float32) / pre["dataset_raw_scale"]
    prepared = (raw - pre["mean"][0]) / pre["std"][0]
    first_test = digits.test[0][0][0]
    assert any(torch.allclose(first_test, row, atol=1e-6) for row in prepared)


def test_rows_and_text_record_their_scaling_and_tokenizer(store, tmp_path):
    moons = read_meta(_checkpoint(tmp_path / "moons", "logistic", "moons", {}))["preprocessing"]
    info = load_dataset("moons", DataOptions()).info
    assert moons["input"] == "features" and moons["input_size"] == [2]
    assert moons["mean"] == pytest.approx(info.mean) and moons["std"] == pytest.approx(info.std)
    assert moons["label_names"] == list(info.class_names)

    sine = read_meta(_checkpoint(tmp_path / "sine", "mlp", "sine", {"hidden": (4,)}))["preprocessing"]
    assert sine["input"] == "features" and sine["output_names"] and "label_names" not in sine


def test_text_checkpoint_names_its_tokenizer(store, tmp_path):
    from archzoo.checkpoints.preprocessing import tokenizer_kind
    from archzoo.data.tokenizers import load_tokenizer, train_tokenizer

    folder = _checkpoint(tmp_path / "text", "rnn", "sentiment-synthetic", {})
    pre, info = read_meta(folder)["preprocessing"], load_dataset("sentiment-synthetic", DataOptions()).info
    kind = load_tokenizer(folder / "tokenizer.json").kind
    assert pre == {"input": "text", "tokenizer": "tokenizer.json", "tokenizer_kind": kind, "max_tokens": 512,
                   "pad_id": 0, "num_classes": 2, "label_names": list(info.class_names)}  # fmt: skip
    assert tokenizer_kind(train_tokenizer("word", ["a good film"], 20).to_json()) == "word"


def test_checkpoint_without_the_entry_still_loads_and_predicts(store, tmp_path):
    folder = _checkpoint(tmp_path / "old", "mlp", "moons", {"hidden": (4,)})
    before, _ = predict(folder, ["0.3,-0.2"])
    config = folder / "config.json"
    meta = json.loads(config.read_text())
    del meta["preprocessing"]
    config.write_text(json.dumps(meta))
    assert "preprocessing" not in read_meta(folder)
    after, _ = predict(folder, ["0.3,-0.2"])
    assert after == before


def test_a_damaged_entry_is_named(store, tmp_path):
    from archzoo.errors import CheckpointError

    folder = _checkpoint(tmp_path / "bad", "logistic", "moons", {})
    meta = json.loads((folder / "config.json").read_text())
    meta["preprocessing"]["mean"] = "zero"
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="'preprocessing.mean'"):
        read_meta(folder)


def _without_archzoo() -> dict[str, str]:
    """An environment for ``python -S``: no site module, so no ``.pth`` file runs and the
    editable install of archzoo is not on the path; PYTHONPATH is only the site-packages
    folder that holds torch, safetensors and Pillow."""
    import PIL
    import safetensors

    site = Path(torch.__file__).resolve().parents[1]
    for module in (safetensors, PIL):
        assert Path(module.__file__).resolve().is_relative_to(site), f"{module.__name__} is not beside torch"
    return {"PYTHONPATH": str(site), "PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"}


#: Runs each (script, folder, input) it is given in turn, in one Python, printing a line per script.
DRIVER = """
import contextlib, io, json, runpy, sys
for script, folder, given in json.loads(sys.argv[1]):
    sys.argv = [script, folder, given]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(script, run_name="__main__")
    print(out.getvalue().strip())
"""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """Every scripted checkpoint, its input, and what its card's script printed when run by a
    Python that cannot import archzoo (one process for all, so torch is imported once)."""
    from archzoo.registry.host import reset_host

    root = tmp_path_factory.mktemp("scripted")
    patch = pytest.MonkeyPatch()
    patch.setenv("ARCHZOO_CHECKPOINTS", str(root / "store"))
    reset_host()
    image = str(_digit_png(root / "seven.png"))
    cases = []
    for number, (arch, dataset, settings) in enumerate(SCRIPTED):
        folder = _checkpoint(root / f"{number}-{arch}-{dataset}", arch, dataset, settings, seed=3)
        script = folder.parent / f"{folder.name}.py"
        script.write_text(_script((folder / "README.md").read_text()))
        given = image if dataset == "digits" else ("0.37, -1.2" if dataset == "moons" else "0.8")
        cases.append((str(script), str(folder), given))
    # The CNN's script again, on a transparent colour picture (composited onto white, then grey).
    ink = np.asarray(Image.open(image).convert("L"))
    rgba = np.stack([ink // 2, ink, 255 - ink, np.where(ink > 60, 255, 90).astype(np.uint8)], axis=-1)
    Image.fromarray(rgba.astype(np.uint8), mode="RGBA").save(root / "seven-rgba.png")
    cases.append((cases[1][0], cases[1][1], str(root / "seven-rgba.png")))
    env = _without_archzoo()
    probe = subprocess.run([sys.executable, "-S", "-c", "import archzoo"], env=env, capture_output=True, cwd=root)
    assert probe.returncode != 0, "archzoo was importable where the scripts run"
    run = subprocess.run(
        [sys.executable, "-S", "-c", DRIVER, json.dumps(cases)],
        env=env, capture_output=True, text=True, timeout=120, cwd=root,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    yield dict(zip([*range(len(SCRIPTED)), "rgba"], zip(cases, run.stdout.strip().splitlines())))
    reset_host()
    patch.undo()


@pytest.mark.parametrize(
    "number", [*range(len(SCRIPTED)), "rgba"], ids=[*(f"{a}-{d}" for a, d, _ in SCRIPTED), "cnn-digits-rgba"]
)
def test_card_script_runs_without_archzoo_and_agrees_with_predict(scripted, number):
    from archzoo.inference.regression import predict_values

    (script, folder, given), printed = scripted[number]
    assert "import archzoo" not in Path(script).read_text() and "from archzoo" not in Path(script).read_text()
    if number != "rgba" and SCRIPTED[number][1] == "sine":
        predicted = predict_values(folder, [given])
        name, value = printed.split("=")
        assert name == predicted.names[0]
        assert float(value) == pytest.approx(predicted.values[0][0], rel=1e-5, abs=1e-6)
        return
    ranked, _ = predict(folder, [given], top_k=1)
    label, probability = printed.rsplit(" ", 1)
    assert label == ranked[0][0][0]
    assert float(probability) == pytest.approx(ranked[0][0][1], abs=1e-4)


def test_card_has_no_script_where_the_model_is_not_plain_layers(store, tmp_path):
    from archzoo.checkpoints.standalone import script

    folder = _checkpoint(tmp_path / "mlp", "mlp", "digits", {"hidden": (4,)})
    meta = read_meta(folder)
    assert script(meta) is not None
    assert script({**meta, "architecture": "resnet"}) is None
    assert script({k: v for k, v in meta.items() if k != "preprocessing"}) is None
