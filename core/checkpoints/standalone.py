"""The model card's script that runs a checkpoint with PyTorch and safetensors alone.

For the architectures whose model is a few plain ``torch.nn`` layers (the MLP,
the CNN, logistic regression, the linear SVM), the card carries a script that defines the
same module (its tensors named as in ``model.safetensors``), loads the weights,
prepares one input exactly as ``config.json``'s ``preprocessing`` entry says,
and prints the top class: no archzoo import, so a classmate can check what the
card claims.  Each architecture's layers are written from its config here, as
its plugin builds them; ``tests/test_self_describing.py`` runs every script in a
Python that cannot import archzoo and compares its answer with ``predict``'s.

Torch-free: the card is text, written from ``config.json`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: archzoo's activation names -> the torch.nn class each stands for (archzoo.toolkit.layers).
ACTIVATIONS = {
    "relu": "ReLU",
    "gelu": "GELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "silu": "SiLU",
    "mish": "Mish",
}


def script(meta: dict[str, Any]) -> list[str] | None:
    """The lines of the card's standalone script, or None where archzoo writes none (an
    architecture not listed in :data:`MODULES`, or a checkpoint without ``preprocessing``)."""
    pre = meta.get("preprocessing") or {}
    writer = MODULES.get(str(meta.get("architecture")))
    if writer is None or pre.get("input") not in ("image", "features"):
        return None
    model = writer(meta.get("config") or {}, pre)
    if model is None:
        return None
    image = pre["input"] == "image"
    given = "an image file" if image else 'a row of numbers, e.g. "0.5,-1.2"'
    lines = [
        "import json",
        "import sys",
        *(["from collections import OrderedDict"] if any("OrderedDict" in line for line in model) else []),
        "from pathlib import Path",
        "",
        "import torch",
        *(["from PIL import Image"] if image else []),
        "from safetensors.torch import load_file",
        "from torch import nn",
        "",
        f"folder, given = Path(sys.argv[1]), sys.argv[2]  # this checkpoint's folder, {given}",
        'pre = json.loads((folder / "config.json").read_text())["preprocessing"]',
        "",
        f"# The model, as archzoo's {meta['architecture']} builds it for this config.",
        *model,
        'model.load_state_dict(load_file(folder / "model.safetensors"))',
        "model.eval()",
        "",
        '# The input, prepared as "preprocessing" says.',
        *(_image_input() if image else _row_input()),
        'x = (x - torch.tensor(pre["mean"]).view(shape)) / torch.tensor(pre["std"]).view(shape)',
        "",
        "with torch.no_grad():",
        "    outputs = model(x.unsqueeze(0))[0]",
    ]
    if "label_names" in pre:
        lines += [
            "probabilities = outputs.softmax(dim=0)",
            "best = int(probabilities.argmax())",
            'print(pre["label_names"][best], f"{float(probabilities[best]):.4f}")',
        ]
    else:
        lines += ['print(", ".join(f"{name}={float(v):.6g}" for name, v in zip(pre["output_names"], outputs)))']
    return lines


def _image_input() -> list[str]:
    return [
        'channels, height, width = pre["input_size"]',
        "image = Image.open(given)",
        'if image.mode in ("RGBA", "LA", "P"):  # transparent: onto white, as an image viewer shows it',
        '    rgba = image.convert("RGBA")',
        '    image = Image.alpha_composite(Image.new("RGBA", rgba.size, pre["alpha_background"]), rgba)',
        'image = image.convert(pre["color_mode"])',
        'image = image.resize((width, height), Image.Resampling[pre["interpolation"].upper()])',
        "pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(height, width, channels)",
        'x = pixels.permute(2, 0, 1).float() / pre["raw_scale"]',
        "shape = (-1, 1, 1)  # mean and std per channel",
    ]


def _row_input() -> list[str]:
    return [
        'x = torch.tensor([float(v) for v in given.replace(";", ",").split(",") if v.strip()])',
        "shape = (-1,)  # mean and std per feature",
    ]


def _mlp(config: dict[str, Any], pre: dict[str, Any]) -> list[str] | None:
    """archzoo.plugins.mlp: Flatten, [Linear (-> norm) -> activation (-> Dropout)] per hidden width, Linear."""
    act = ACTIVATIONS.get(config.get("activation", "relu"))
    if act is None:
        return None
    width, layers = _size(pre), ["nn.Flatten()"]
    for hidden in config.get("hidden", []):
        layers.append(f"nn.Linear({width}, {hidden})")
        norm = config.get("norm", "none")
        if norm in ("batch", "layer"):
            layers.append(f"nn.{'BatchNorm1d' if norm == 'batch' else 'LayerNorm'}({hidden})")
        layers.append(f"nn.{act}()")
        if config.get("dropout", 0) > 0:
            layers.append(f"nn.Dropout({config['dropout']})")
        width = hidden
    layers.append(f"nn.Linear({width}, {_outputs(pre)})")
    return ["model = nn.Sequential(OrderedDict(net=nn.Sequential(", *(f"    {layer}," for layer in layers), ")))"]


def _cnn(config: dict[str, Any], pre: dict[str, Any]) -> list[str] | None:
    """archzoo.plugins.cnn: blocks of (Conv -> BatchNorm -> activation) x n, MaxPool; global
    average pool; the head."""
    act = ACTIVATIONS.get(config.get("activation", "relu"))
    if act is None or len(pre.get("input_size", [])) != 3:
        return None
    channels, h, w = pre["input_size"]
    k, width, limit = config.get("kernel_size", 3), config.get("width", 16), config.get("max_width", 0)
    layers = []
    for i in range(config.get("blocks", 2)):
        c_out = width * 2**i if not limit else min(width * 2**i, limit)
        for _ in range(config.get("convs_per_block", 1)):
            layers += [
                f"nn.Conv2d({channels}, {c_out}, {k}, padding={k // 2})",
                f"nn.BatchNorm2d({c_out})",
                f"nn.{act}()",
            ]
            channels = c_out
            h, w = h + 2 * (k // 2) - k + 1, w + 2 * (k // 2) - k + 1
        if config.get("pool", True) and min(h, w) >= 2:
            layers.append("nn.MaxPool2d(2)")
            h, w = h // 2, w // 2
        if config.get("dropout2d", 0) > 0:
            layers.append(f"nn.Dropout2d({config['dropout2d']})")
    layers += ["nn.AdaptiveAvgPool2d(1)", "nn.Flatten()"]
    hidden, classes = config.get("head_hidden", 0), _outputs(pre)
    if hidden > 0:
        layers += [f"nn.Linear({channels}, {hidden})", f"nn.{act}()", f"nn.Dropout({config.get('dropout', 0.0)})"]
        layers.append(f"nn.Linear({hidden}, {classes})")
    else:
        layers.append(f"nn.Linear({channels}, {classes})")
    return ["model = nn.Sequential(", *(f"    {layer}," for layer in layers), ")"]


def _linear() -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    """The linear classifiers (logistic regression, the linear SVM): one Linear; on two
    classes it scores (0, z), so argmax and softmax read it as a classifier.  (The
    perceptron has the same layer but answers with its step, not a softmax: no script.)"""

    def write(config: dict[str, Any], pre: dict[str, Any]) -> list[str]:
        classes = _outputs(pre)
        bias = "" if config.get("bias", True) else ", bias=False"
        lines = [
            "class Linear(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            f"        self.linear = nn.Linear({_size(pre)}, {1 if classes == 2 else classes}{bias})",
            "",
            "    def forward(self, x):",
            "        z = self.linear(x.flatten(1))",
            "        return torch.cat([torch.zeros_like(z), z], dim=1)" if classes == 2 else "        return z",
            "",
            "",
            "model = Linear()",
        ]
        return lines

    return write


def _size(pre: dict[str, Any]) -> int:
    size = 1
    for side in pre.get("input_size", []):
        size *= int(side)
    return size


def _outputs(pre: dict[str, Any]) -> int:
    return int(pre.get("num_classes") or pre.get("num_outputs") or 1)


#: The architectures whose card carries a standalone script, and how each writes its module.
MODULES: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[str] | None]] = {
    "mlp": _mlp,
    "cnn": _cnn,
    "logistic": _linear(),
    "linear-svm": _linear(),
}
