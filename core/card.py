"""The model card: the ``README.md`` in every checkpoint folder.

It carries Hub front matter (``library_name: archzoo``, tags, datasets, metric
names) so the Hugging Face Hub files and filters the model correctly, and a
body a person can read: what the model is, how it was trained, how well it
does, and how to use it with archzoo or with plain ``safetensors``.
"""

from __future__ import annotations

import json
from typing import Any


def render_model_card(meta: dict[str, Any]) -> str:
    arch = meta["architecture"]
    task = meta["task"]
    dataset = meta["dataset"]["name"]
    metrics = meta.get("metrics", {})
    metric_names = sorted({name for split in metrics.values() for name in split})
    front = [
        "---",
        "library_name: archzoo",
        "tags:",
        "- archzoo",
        f"- {arch}",
        f"- {task}",
        "datasets:",
        f"- {dataset}",
    ]
    if metric_names:
        front.append("metrics:")
        front += [f"- {name}" for name in metric_names]
    front.append("---")

    body = [
        f"# {arch} on {dataset}",
        "",
        f"An archzoo `{arch}` model for {task}, trained on `{dataset}`. "
        f"{meta.get('summary', '')}".rstrip(),
        "",
        f"- Parameters: {meta['parameters']:,}",
        f"- Plugin: `{meta['plugin']['name']}` from the `{meta['plugin']['distribution']}` distribution "
        f"(version {meta['plugin']['version'] or 'unknown'})",
        f"- archzoo version: {meta['archzoo_version']}",
    ]
    if meta.get("citation"):
        body.append(f"- Recipe: {meta['citation']}")
    body += ["", "## Results", ""]
    if metrics:
        body += ["| split | " + " | ".join(metric_names) + " |", "|---" * (len(metric_names) + 1) + "|"]
        for split, values in metrics.items():
            cells = [f"{values[n]:.4f}" if n in values else "" for n in metric_names]
            body.append(f"| {split} | " + " | ".join(cells) + " |")
    else:
        body.append("Not evaluated yet.")
    body += [
        "",
        "## Configuration",
        "",
        "```json",
        json.dumps({"model": meta["config"], "training": meta.get("train", {})}, indent=2),
        "```",
        "",
        "## Usage",
        "",
        "With archzoo:",
        "",
        "```python",
        "import archzoo",
        "",
        'loaded = archzoo.load("path/to/this/folder")',
        "model = loaded.model  # a torch.nn.Module, in eval mode",
        "```",
        "",
        "With plain `safetensors` (no archzoo needed to read the weights):",
        "",
        "```python",
        "import json",
        "from safetensors.torch import load_file",
        "",
        'state_dict = load_file("model.safetensors")',
        'config = json.load(open("config.json"))["config"]',
        "```",
        "",
    ]
    return "\n".join(front + [""] + body)
