"""The model card: the ``README.md`` in every checkpoint folder and Hub repo.

Its YAML front matter is what the Hugging Face Hub indexes: ``library_name:
archzoo``, ``tags`` (archzoo, the architecture, the task), ``datasets``,
``metrics`` and a ``model-index`` holding the evaluation results, so the Hub
files the model under the right library and task and shows its scores.  The
front matter is built with ``huggingface_hub.ModelCardData`` / ``EvalResult``,
the library's own model of that format.

The body is for people: what the model is, the recipe and config it was
trained with, how well it does, and how to use it with archzoo or with plain
``huggingface_hub`` + ``safetensors`` (no archzoo needed to read the weights).

The card is written from ``config.json`` alone, so it can never contain
anything the checkpoint does not (no token, no local environment); a local
dataset folder is named by its last component only.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

#: archzoo task -> the Hub's pipeline tag, where the Hub has a matching one.
PIPELINE_TAGS = {
    "image-classification": "image-classification",
    "text-classification": "text-classification",
    "text-generation": "text-generation",
    "feature-extraction": "feature-extraction",
    "tabular-classification": "tabular-classification",
    "image-generation": "unconditional-image-generation",
}
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


def render_model_card(meta: dict[str, Any], *, repo_id: str | None = None) -> str:
    """The card for a checkpoint described by ``meta`` (its ``config.json``).

    With ``repo_id`` (when pushing), the usage snippets name that repository;
    without it they show how to use the local folder and how to push it.
    """
    return "\n".join(
        [
            "---",
            _front_matter(meta, repo_id).rstrip("\n"),
            "---",
            "",
            *_about(meta),
            *_training(meta),
            *_results(meta),
            *_trust(meta, repo_id),
            *_usage(meta, repo_id),
        ]
    )


def dataset_label(name: str) -> str:
    """A dataset as the card names it: a registered name as is, a local folder by its last part."""
    looks_like_path = name.startswith(("/", "~", ".")) or "\\" in name or PurePath(name).is_absolute()
    return (PurePath(name).name or name) if looks_like_path else name


def _front_matter(meta: dict[str, Any], repo_id: str | None) -> str:
    import yaml
    from huggingface_hub import EvalResult, ModelCardData

    arch, task = meta["architecture"], meta["task"]
    dataset = dataset_label(meta["dataset"]["name"])
    metrics = meta.get("metrics", {})
    results = [
        EvalResult(
            task_type=task,
            task_name=_title(task),
            dataset_type=dataset,
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
    data = ModelCardData(
        library_name="archzoo",
        pipeline_tag=PIPELINE_TAGS.get(task),
        tags=list(dict.fromkeys(["archzoo", arch, task])),
        datasets=[dataset],
        metrics=sorted({r.metric_type for r in results}) or None,
        model_name=(repo_id or f"{arch}-{dataset}") if results else None,
        eval_results=results or None,
    )
    # library_name first: it is what tells the Hub (and a reader) which library this is.
    fields = data.to_dict()
    ordered = {"library_name": fields.pop("library_name"), **fields}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)


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
    metrics = meta.get("metrics", {})
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
    for key, unit in (("rotation", "degrees"), ("noise", "noise sd")):
        curve = summary.get(key)
        if curve:
            strengths = "/".join(f"{x:g}" for x in curve["strengths"])
            rows.append((f"accuracy at {unit} {strengths}", " / ".join(f"{a:.3f}" for a in curve["accuracy"])))
    return rows


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
