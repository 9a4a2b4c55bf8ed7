"""The model card: the ``README.md`` in every checkpoint folder and Hub repo.

Its YAML front matter is what the Hugging Face Hub indexes: ``library_name:
archzoo``, ``license`` (given to ``archzoo push --license``), ``base_model``
(the Hub id of a pretrained encoder), ``tags`` (archzoo, the architecture, the
task), ``datasets`` (Hub dataset ids, only where one exists), ``metrics`` and a
``model-index`` holding the evaluation results, the task named as the
``pipeline_tag`` names it, so the Hub files the model under the right library
and task and shows its scores.  The front matter is built with
``huggingface_hub.ModelCardData`` / ``EvalResult``, the library's own model of
that format.

The body is for people: what the model is, the recipe and config it was
trained with, how well it does, and how to use it with archzoo or with plain
``huggingface_hub`` + ``safetensors`` (no archzoo needed to read the weights);
for the plain-PyTorch architectures, a script that rebuilds the model and runs
it on one input with ``torch`` and ``safetensors`` alone; a LoRA checkpoint's
card also loads its adapter with plain ``peft``.

The card is written from ``config.json`` alone, so it can never contain
anything the checkpoint does not (no token, no local environment); a local
dataset folder is named by its last component only.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

from archzoo.checkpoints.standalone import script as standalone_script
from archzoo.errors import ArchzooError

#: archzoo task -> the Hub's pipeline tag.  The card's ``pipeline_tag`` and every
#: model-index result name the task by this one name (:func:`hub_task`).
PIPELINE_TAGS = {
    "image-classification": "image-classification",
    "text-classification": "text-classification",
    "text-generation": "text-generation",
    "feature-extraction": "feature-extraction",
    "tabular-classification": "tabular-classification",
    "tabular-regression": "tabular-regression",
    "image-generation": "unconditional-image-generation",
    "node-classification": "graph-ml",
    "sequence-to-sequence": "text2text-generation",
}
#: archzoo dataset -> its dataset repository on the Hub, where a canonical one exists.  A dataset
#: not named here (archzoo's generated ones, scikit-learn's digits, a local folder) is left out of
#: the card's ``datasets`` rather than given an id that names something else.
HUB_DATASETS = {
    "mnist": "ylecun/mnist",
    "fashion-mnist": "zalando-datasets/fashion_mnist",
    "sst2": "stanfordnlp/sst2",
    "sst2-sentences": "stanfordnlp/sst2",
}
#: Architectures built on a pretrained encoder named by ``config.encoder``, and how the
#: checkpoint relates to it (the Hub's ``base_model_relation``; None: let the Hub infer it).
ENCODER_BASED = {"lora": "adapter", "bert-features": None}
#: The encoder names that stand for a Hub model (the copy archzoo installs for offline use).
ENCODER_ALIASES = {
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
}
#: The licence ids the Hub knows (https://huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES = (
    "apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 "
    "bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc "
    "cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 "
    "cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 "
    "cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 "
    "eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c "
    "ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib "
    "pddl lgpl-lr deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown other"
).split()
#: SPDX ids the Hub has no id of its own for: the card says ``license: other`` with the
#: SPDX id as ``license_name`` and its SPDX page as ``license_link``, as the Hub asks.
SPDX_ONLY = (
    "0BSD MIT-0 BlueOak-1.0.0 UPL-1.0 Python-2.0 PSF-2.0 Unicode-3.0 Unicode-DFS-2016 MPL-1.1 EUPL-1.0 "
    "CC-BY-1.0 CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.5 CC-BY-ND-2.0 CC-BY-ND-2.5 CC-BY-ND-3.0 CC-BY-NC-1.0 "
    "CC-BY-NC-2.5 CC-BY-NC-SA-2.5 CC-BY-NC-ND-2.5 CDLA-Permissive-1.0 ODC-By-1.0 ODbL-1.0 PDDL-1.0 OFL-1.0 "
    "Zlib BSD-1-Clause BSD-4-Clause LGPL-2.0-only LGPL-2.0-or-later GPL-1.0-only GPL-1.0-or-later AGPL-1.0 "
    "EPL-1.0 CECILL-2.1 CECILL-B CECILL-C MulanPSL-2.0 NCSA ISC X11 curl Beerware Vim"
).split()
#: An SPDX id with a ``-only`` / ``-or-later`` suffix names the same licence as the Hub's id without it.
_SPDX_SUFFIXES = ("-only", "-or-later")
#: The training settings worth a line in the card; the full config follows them.
RECIPE_KEYS = (
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "weight_decay",
    "schedule",
    "warmup_fraction",
    "grad_clip",
    "seed",
)


def render_model_card(
    meta: dict[str, Any],
    *,
    repo_id: str | None = None,
    license: str | None = None,
    license_fields: dict[str, str] | None = None,
) -> str:
    """The card for a checkpoint described by ``meta`` (its ``config.json``).

    With ``repo_id`` (when pushing), the usage snippets name that repository;
    without it they show how to use the local folder and how to push it.
    ``license`` is an SPDX or Hub licence id (checked by :func:`check_license`);
    ``license_fields`` the card's licence fields as they are, e.g. kept from the Hub.
    """
    licence = check_license(license) if license else dict(license_fields or {})
    return "\n".join(
        [
            "---",
            _front_matter(meta, repo_id, licence).rstrip("\n"),
            "---",
            "",
            *_about(meta),
            *_training(meta),
            *_results(meta),
            *_trust(meta, repo_id),
            *_usage(meta, repo_id),
            *_standalone(meta, repo_id),
            *_adapter_usage(meta, repo_id),
        ]
    )


def check_license(text: str) -> dict[str, str]:
    """The card's licence fields for ``text``, a Hub licence id or an SPDX id (any case).

    A Hub id (or the SPDX id it stands for, ``Apache-2.0`` or ``GPL-3.0-only``) gives
    ``{"license": "apache-2.0"}``; an SPDX id the Hub has no id for gives ``license:
    other`` with its name and SPDX link.  Anything else is a :class:`CardError`."""
    wanted = str(text).strip()
    lowered = wanted.lower()
    for candidate in (lowered, *(lowered.removesuffix(s) for s in _SPDX_SUFFIXES if lowered.endswith(s))):
        if candidate in HUB_LICENSES:
            return {"license": candidate}
    spdx = {name.lower(): name for name in SPDX_ONLY}
    if lowered in spdx:
        name = spdx[lowered]
        return {"license": "other", "license_name": name, "license_link": f"https://spdx.org/licenses/{name}.html"}
    import difflib

    shown = "".join(c if c.isprintable() else "?" for c in wanted[:80])
    close = difflib.get_close_matches(lowered, [*HUB_LICENSES, *spdx], n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(spdx.get(c, c) for c in close)}?)" if close else ""
    raise CardError(
        f"licence '{shown}' is neither an SPDX id nor a Hub licence id{hint}: give one such as apache-2.0, mit, "
        "cc-by-4.0 or bsd-3-clause (the Hub's list: https://huggingface.co/docs/hub/repositories-licenses)"
    )


class CardError(ArchzooError):
    """A model card cannot be written as asked (an unknown licence); the message says why."""


def hub_task(task: str) -> str:
    """The one name the card gives ``task``: the Hub's pipeline tag, else archzoo's own name."""
    return PIPELINE_TAGS.get(task, task)


def hub_datasets(meta: dict[str, Any]) -> list[str]:
    """The checkpoint's dataset as a Hub dataset id, when it has one (else nothing)."""
    hub_id = HUB_DATASETS.get(meta["dataset"]["name"])
    return [hub_id] if hub_id else []


def base_model(meta: dict[str, Any]) -> str | None:
    """The Hub id of the pretrained encoder an encoder-based checkpoint starts from; None for
    any other checkpoint, and for an encoder that is a folder on the training machine."""
    if meta.get("architecture") not in ENCODER_BASED:
        return None
    encoder = (meta.get("config") or {}).get("encoder")
    if not isinstance(encoder, str):
        return None
    encoder = encoder.strip()
    if encoder in ENCODER_ALIASES:
        return ENCODER_ALIASES[encoder]
    cached = re.search(r"models--([A-Za-z0-9][\w.-]*)--([A-Za-z0-9][\w.-]*)[\\/]snapshots[\\/]", encoder)
    if cached:  # a folder in the Hugging Face cache is a copy of that Hub repository
        return f"{cached.group(1)}/{cached.group(2)}"
    return encoder if _HUB_MODEL_ID.fullmatch(encoder) and "--" not in encoder and ".." not in encoder else None


_HUB_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


def dataset_label(name: str) -> str:
    """A dataset as the card names it: a registered name as is, a local folder by its last part."""
    looks_like_path = name.startswith(("/", "~", ".")) or "\\" in name or PurePath(name).is_absolute()
    return (PurePath(name).name or name) if looks_like_path else name


def _front_matter(meta: dict[str, Any], repo_id: str | None, licence: dict[str, str]) -> str:
    import yaml
    from huggingface_hub import EvalResult, ModelCardData

    arch, task = meta["architecture"], meta["task"]
    dataset = dataset_label(meta["dataset"]["name"])
    datasets = hub_datasets(meta)
    metrics = meta.get("metrics", {})
    results = [
        EvalResult(
            task_type=hub_task(task),
            task_name=_title(hub_task(task)),
            dataset_type=datasets[0] if datasets else dataset,
            dataset_name=dataset,
            dataset_split=split,
            metric_type=name,
            metric_name=_title(name),
            metric_value=float(value),
        )
        for split, values in metrics.items()
        for name, value in values.items()
        if isinstance(value, (int, float))
    ]
    base = base_model(meta)
    relation = {"base_model_relation": ENCODER_BASED[arch]} if base and ENCODER_BASED[arch] else {}
    data = ModelCardData(
        library_name="archzoo",
        **licence,
        base_model=base,
        **relation,
        pipeline_tag=hub_task(task),
        tags=list(dict.fromkeys(["archzoo", arch, task, *(["peft", "lora"] if _adapter(meta) else [])])),
        datasets=datasets or None,
        metrics=sorted({r.metric_type for r in results}) or None,
        model_name=(repo_id or f"{arch}-{dataset}") if results else None,
        eval_results=results or None,
    )
    # library_name first: it is what tells the Hub (and a reader) which library this is.
    fields = data.to_dict()
    ordered = {"library_name": fields.pop("library_name"), **fields}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)


def _adapter(meta: dict[str, Any]) -> bool:
    return "adapter_config.json" in (meta.get("files") or {})


def _adapter_usage(meta: dict[str, Any], repo_id: str | None) -> list[str]:
    """For a LoRA checkpoint: loading the adapter with plain ``transformers`` + ``peft``."""
    if not _adapter(meta):
        return []
    base = base_model(meta)
    where = repo_id or "path/to/this/folder"
    lines = [
        "## The adapter with plain PEFT",
        "",
        "`adapter_config.json` and `adapter_model.safetensors` are a PEFT LoRA adapter for the encoder "
        + (f"`{base}`." if base else "the model was trained on (a local folder: give yours)."),
        "The classification head is in `model.safetensors` (tensors `head.weight`, `head.bias`).",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModel",
        "",
        f'encoder = AutoModel.from_pretrained("{base or "path/to/the/encoder"}")',
        f'model = PeftModel.from_pretrained(encoder, "{where}")  # the encoder with the LoRA updates',
        "```",
        "",
    ]
    return lines


def _about(meta: dict[str, Any]) -> list[str]:
    arch, task = meta["architecture"], meta["task"]
    dataset = dataset_label(meta["dataset"]["name"])
    plugin = meta["plugin"]
    lines = [
        f"# {arch} on {dataset}",
        "",
        f"An archzoo `{arch}` model for {task}, trained on `{dataset}`.",
    ]
    if meta.get("summary"):
        lines += ["", meta["summary"]]
    lines += [
        "",
        f"- Parameters: {meta['parameters']:,}",
        (
            f"- Architecture plugin: `{plugin['name']}` from the `{plugin['distribution']}` distribution "
            f"(version {plugin.get('version') or 'unknown'})"
        ),
        f"- archzoo version: {meta['archzoo_version']}",
        f"- Weights: `model.safetensors` (sha256 `{meta.get('weights_sha256', 'unknown')}`)",
    ]
    if meta.get("citation"):
        lines.append(f"- Recipe: {meta['citation']}")
    return lines + [""]


def _training(meta: dict[str, Any]) -> list[str]:
    train = meta.get("train", {})
    lines = ["## Training", ""]
    recipe = [
        f"{key}={train[key] if isinstance(train[key], str) else json.dumps(train[key])}"
        for key in RECIPE_KEYS
        if key in train
    ]
    lines.append(
        f"Trained on `{dataset_label(meta['dataset']['name'])}`" + (f" with {', '.join(recipe)}." if recipe else ".")
    )
    lines += [
        "",
        "The full configuration (also in `config.json`, under `config` and `train`):",
        "",
        "```json",
        json.dumps({"model": meta["config"], "training": train}, indent=2),
        "```",
        "",
    ]
    return lines


def _results(meta: dict[str, Any]) -> list[str]:
    """The metrics of every split; with ``archzoo report``'s results, its macro AUROC (each
    class's ROC against the rest, averaged) in the row of the split it was measured on."""
    metrics = meta.get("metrics", {})
    trust = meta.get("trust") or {}
    if isinstance(trust.get("macro_auroc"), (int, float)):
        split = str(trust.get("split") or "test")
        metrics = {**metrics, split: {**metrics.get(split, {}), "macro_auroc": trust["macro_auroc"]}}
    names = sorted({name for split in metrics.values() for name in split})
    lines = ["## Evaluation results", ""]
    if not names:
        return lines + ["Not evaluated yet.", ""]
    lines += ["| split | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for split, values in metrics.items():
        cells = [f"{values[n]:.4f}" if isinstance(values.get(n), (int, float)) else "" for n in names]
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    return lines + [""]


def _trust(meta: dict[str, Any], repo_id: str | None) -> list[str]:
    """Calibration, out-of-distribution and shift results (``archzoo report``), when measured.

    Figures are linked by relative path: they live in the checkpoint's
    ``evaluation/`` folder, which ``archzoo push`` uploads beside the card."""
    trust, calibration = meta.get("trust"), meta.get("calibration")
    if not trust and not calibration:
        return []
    lines = ["## Trust: calibration, out-of-distribution inputs, shift", ""]
    if not trust:
        return lines + [
            f"Fitted temperature: {calibration['temperature']:.4f} (temperature scaling on the validation split; "
            "`archzoo predict --calibrated` uses it).",
            "",
        ]
    lines += [f"**Verdict: {trust['verdict']}** (archzoo's stated thresholds; see the report).", ""]
    lines += [f"- {reason}" for reason in trust.get("reasons", [])]
    rows = trust_rows(trust)
    lines += ["", "| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows), ""]
    if trust.get("figures"):
        lines += [f"![{name}]({path})" for name, path in trust["figures"].items()]
        lines += [
            "",
            "The full report: "
            f"[{trust.get('report', 'evaluation/report.html')}]({trust.get('report', 'evaluation/report.html')}).",
            "",
        ]
    return lines


def _usage(meta: dict[str, Any], repo_id: str | None) -> list[str]:
    distribution = meta["plugin"]["distribution"]
    needs = (
        ""
        if distribution == "archzoo"
        else f" and `{distribution}` (the plugin that provides `{meta['architecture']}`)"
    )
    where = f"hf://{repo_id}" if repo_id else "path/to/this/folder"
    lines = ["## Usage", "", f"With archzoo (`pip install archzoo`{needs}):", "", "```bash"]
    if repo_id:
        lines += [
            f"archzoo pull {repo_id}            # download once into the Hugging Face cache",
            f"archzoo eval hf://{repo_id}       # any command that takes a checkpoint takes hf://",
        ]
    else:
        lines += [f"archzoo eval {where}", f"archzoo push {where} YOUR-NAME/REPO   # share it on the Hugging Face Hub"]
    lines += [
        "```",
        "",
        "```python",
        "import archzoo",
        "",
        f'loaded = archzoo.load("{where}")',
        "model = loaded.model  # a torch.nn.Module in eval mode; loaded.config, loaded.info describe it",
        "```",
        "",
        "Without archzoo, with plain `huggingface_hub` and `safetensors`:",
        "",
        "```python",
        "import json",
        "from pathlib import Path",
        "",
    ]
    if repo_id:
        lines += [
            "from huggingface_hub import snapshot_download",
            "from safetensors.torch import load_file",
            "",
            f'folder = Path(snapshot_download("{repo_id}", allow_patterns=["*.json", "*.safetensors"]))',
        ]
    else:
        lines += ["from safetensors.torch import load_file", "", f'folder = Path("{where}")']
    lines += [
        'state_dict = load_file(folder / "model.safetensors")  # tensor name -> torch.Tensor',
        'config = json.loads((folder / "config.json").read_text())  # architecture, config, dataset, metrics',
        "```",
        "",
    ]
    return lines


def _standalone(meta: dict[str, Any], repo_id: str | None) -> list[str]:
    """The script that rebuilds and runs the model with torch and safetensors alone, where
    archzoo writes one (:mod:`archzoo.checkpoints.standalone`)."""
    lines = standalone_script(meta)
    if lines is None:
        return []
    image = meta["preprocessing"]["input"] == "image"
    folder = f"$(hf download {repo_id})" if repo_id else "path/to/this/folder"
    example = "image.png" if image else '"0.5,-1.2"'
    raw = meta["preprocessing"].get("dataset_raw_scale")
    own = (
        [
            f"The dataset's own arrays (scikit-learn's, for `{dataset_label(meta['dataset']['name'])}`) count up to "
            f"`dataset_raw_scale` = {raw:g}, not 255: divide those by it instead of `raw_scale`.",
            "",
        ]
        if image and raw
        else []
    )
    return [
        "## Without archzoo: PyTorch and safetensors alone",
        "",
        "`config.json`'s `preprocessing` entry says how an input becomes what the model reads"
        + (
            " (colour mode, size, the pixels divided by `raw_scale`, then `(x - mean) / std`)."
            if image
            else " (each feature's `(x - mean) / std`)."
        )
        + " This script defines the model, loads `model.safetensors`, prepares one input that way and prints "
        + ("the top class" if "label_names" in meta["preprocessing"] else "the predicted values")
        + f" (`pip install torch safetensors{' pillow' if image else ''}`):",
        "",
        "```python",
        *lines,
        "```",
        "",
        f"Run it as `python run_model.py {folder} {example}`.",
        "",
        *own,
    ]


def _title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").title()


def trust_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """A trust summary (``Assessment.summary()``, kept in ``config.json`` under
    ``trust``) as (measure, value) rows: the one wording the card, the HTML
    report, ``archzoo report`` and the app's Evaluate tab all show."""
    low, high = summary["accuracy_ci95"]
    rows = [
        (
            "test accuracy (95% Wilson interval)",
            f"{summary['accuracy']:.4f} ({low:.4f}-{high:.4f}), {summary['test_examples']:,} examples",
        ),
        ("macro F1", _number(summary.get("macro_f1"))),
    ]
    if summary.get("macro_auroc") is not None:
        rows.append(("macro AUROC (each class against the rest)", _number(summary["macro_auroc"])))
    if summary.get("train_accuracy") is not None:
        rows.append(("training accuracy (a sample)", _number(summary["train_accuracy"])))
    if summary.get("worst_class"):
        name, recall = summary["worst_class"]
        rows.append((f"lowest class recall ('{name}')", _number(recall)))
    cal = summary.get("calibration") or {}
    if cal.get("temperature") is not None:
        rows += [
            ("temperature (fitted by NLL on validation)", f"{cal['temperature']:.4f}"),
            ("ECE before / after temperature scaling", f"{cal['ece_before']:.4f} / {cal['ece_after']:.4f}"),
            ("NLL before / after temperature scaling", f"{cal['nll_before']:.4f} / {cal['nll_after']:.4f}"),
        ]
    elif "ece_before" in cal:
        rows.append(("ECE (no temperature fitted)", f"{cal['ece_before']:.4f}"))
    ood = summary.get("ood") or {}
    for score in ("msp", "energy"):
        if f"{score}_auroc" in ood:
            rows.append(
                (
                    f"{score.upper()} vs {ood['dataset']}: AUROC / FPR at 95% TPR",
                    f"{ood[f'{score}_auroc']:.4f} / {ood[f'{score}_fpr95']:.4f}",
                )
            )
    for key, unit in (("rotation", "degrees"), ("noise", "noise sd"), ("translation", "shift px"), ("fgsm", "FGSM ε")):
        curve = summary.get(key)
        if curve:
            strengths = "/".join(f"{x:g}" for x in curve["strengths"])
            rows.append((f"accuracy at {unit} {strengths}", " / ".join(f"{a:.3f}" for a in curve["accuracy"])))
    return rows


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
