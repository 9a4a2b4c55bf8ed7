"""Pieces every tab uses: messages in the page, checkpoint choices, tables.

The UI never decides anything a CLI user could not: every button calls a
function of :mod:`archzoo.api`, :mod:`archzoo.inference.tasks`, :mod:`archzoo.evaluation.metrics`,
:mod:`archzoo.checkpoints.store`, :mod:`archzoo.training.queue`, :mod:`archzoo.registry.catalog` or
:mod:`archzoo.checkpoints.hub`.  What is here is only how the answers are shown.
"""

from __future__ import annotations

import html
import inspect
import logging
import tempfile
import traceback
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import pandas as pd

from archzoo.checkpoints.store import list_checkpoints
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host
from archzoo.training.queue import RunManager

from .live_drawing import Drawer

log = logging.getLogger("archzoo.ui")


@dataclass
class AppContext:
    """What the tabs share: the plugin host, the one training queue, and what the operator allowed."""

    host: Host
    runs: RunManager
    #: May a browser user with an empty token field push and pull with the operator's own
    #: Hub token (HF_TOKEN or the saved login)?  Only when the operator said so
    #: (``archzoo ui --lend-hub-token``): otherwise the app asks for the user's own.
    lend_hub_token: bool = False
    #: This app's own temporary folder (Gradio's cache for it); pictures it makes are written there.
    temp_dir: str = ""
    #: The server's one study worker (ui.study_worker.StudyWorker), made by build_app.
    studies: Any = None
    #: Draws the Train tab's live pictures in a process of its own (started on the first).
    drawer: Drawer = field(default_factory=Drawer)

    def hub_token(self, typed: str | None) -> str | bool | None:
        """The token a Hub request from the page uses: the one typed in, else the operator's
        (None: huggingface_hub finds it) only if lent, else False (huggingface_hub sends none)."""
        typed = (typed or "").strip()
        if typed:
            return typed
        return None if self.lend_hub_token else False


def own_image_file(ctx: AppContext, image: Any) -> str | None:
    """Write a picture (PIL image or array) for the page as a PNG of its own, under a fresh
    name in this app's temporary folder, and return its path.

    Gradio would store it under a name made from its bytes, rewriting the same file for
    two identical answers at once, so one reader could get the other's half-written
    file; a file written whole under a new name and renamed into place cannot clash."""
    if image is None:
        return None
    import os
    import uuid

    import numpy as np
    from PIL import Image

    picture = Image.fromarray(np.asarray(image)) if not isinstance(image, Image.Image) else image
    folder = os.path.join(ctx.temp_dir or tempfile.gettempdir(), "archzoo-images")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4().hex}.png")
    partial = path + ".part"
    picture.save(partial, format="PNG")
    os.replace(partial, path)
    return path


# -- messages --------------------------------------------------------------------------


def ok(text: str) -> str:
    return f'<div class="az-msg az-ok">{_escape(text)}</div>'


def info(text: str) -> str:
    return f'<div class="az-msg az-info">{_escape(text)}</div>'


def problem(text: str) -> str:
    return f'<div class="az-msg az-error" role="alert"><b>Problem:</b> {_escape(text)}</div>'


def notes_html(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_escape(n)}</li>" for n in notes)
    return f'<div class="az-msg az-info"><b>What was changed to fit the model:</b><ul>{items}</ul></div>'


def in_page_words(text: str, words: dict[str, str]) -> str:
    """``text`` with the CLI's option names replaced by what the page calls the same box:
    core speaks of ``--ood-data-dir DIR``; the Evaluate tab has a box for it."""
    for option in sorted(words, key=len, reverse=True):  # "--ood-data-dir DIR" before "--ood"
        text = text.replace(option, words[option])
    return text


def error_message(exc: BaseException, words: dict[str, str] | None = None) -> str:
    """A user's mistake is shown as it is (in the page's ``words``); anything else is a bug,
    logged with its traceback."""
    if isinstance(exc, ArchzooError):
        return problem(in_page_words(str(exc), words or {}))
    log.error("unexpected error in the UI:\n%s", "".join(traceback.format_exception(exc)))
    return problem(
        f"Something went wrong inside archzoo ({type(exc).__name__}: {exc}). "
        "The server log has the details; the app keeps running."
    )


def _escape(text: str) -> str:
    return html.escape(str(text), quote=False).replace("\n", "<br>")


# -- tables ------------------------------------------------------------------------------


def table(rows: list[list[Any]] | list[tuple], headers: list[str]) -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in rows], columns=headers)


# -- checkpoint choices ------------------------------------------------------------------


class EpochCurves(gr.LinePlot):
    """Lines of ``value`` against ``epoch``, drawn as dots while every series has a single epoch:
    a line of one point draws nothing, and a one-epoch run's chart looked empty.

    A subclass, not a wrapped method: Gradio rebuilds a component from its class when a
    handler updates its label.  (Gradio also writes a ``common.pyi`` of type hints beside
    any Component subclass; .gitignore leaves it out.)"""

    def postprocess(self, value: Any) -> Any:
        data = super().postprocess(value)
        if data is not None and isinstance(value, pd.DataFrame) and len(value):
            if value.groupby(self.color)[self.x].nunique().max() <= 1:
                data.mark = "point"
        return data


def curve_plot(label: str, y_title: str, elem_id: str | None = None) -> gr.LinePlot:
    """An empty plot of ``value`` against ``epoch``, one line per ``series``: every curve in the app.
    Epoch ticks read 1, 1.5, 2 (not 1.000000), short enough not to overlap on a phone."""
    return EpochCurves(
        None,
        x="epoch",
        y="value",
        color="series",
        label=label,
        x_title="epoch",
        y_title=y_title,
        x_axis_format="~g",
        elem_id=elem_id,
    )


def checkpoint_choices(ctx: AppContext, tasks: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(label, path) pairs for every checkpoint in the store, newest first; the
    ``last`` copies of finished runs are left out when a ``best`` exists beside them."""
    entries = [e for e in list_checkpoints(host=ctx.host) if not e.error]
    bests = {str(e.path.parent) for e in entries if e.path.name == "best"}
    chosen = [e for e in entries if not (e.path.name == "last" and str(e.path.parent) in bests)]
    if tasks:
        chosen = [e for e in chosen if e.task in tasks or not e.installed]
    return [(e.label, str(e.path)) for e in chosen]


def pick(choices: list[tuple[str, str]], current: str | None) -> str | None:
    """Keep the current choice if it is still offered (or is a typed path), else the newest."""
    values = [v for _, v in choices]
    if current and (current in values or "/" in str(current)):
        return current
    return values[0] if values else None


# -- giving a handler named API parameters ---------------------------------------------------


def with_parameters(fn, names: list[str]):
    """Give ``fn(*values)`` a signature with these parameter names, so that
    ``gradio_client`` users can pass settings by name (``epochs=3``)."""
    fn.__signature__ = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return fn


def bind(fn, ctx: AppContext, names: list[str]):
    """``fn(ctx, *values)`` as a handler whose API parameters have these names."""

    def call(*values):
        return fn(ctx, *values)

    call.__name__ = fn.__name__
    return with_parameters(call, names)
