"""Checkpoints tab: the local store with metrics and model cards; push one to
the Hugging Face Hub, pull one from it (:mod:`archzoo.checkpoints.hub`, as ``archzoo push``
and ``archzoo pull`` do); fold a LoRA checkpoint's adapter into a plain
transformers model (as ``archzoo train lora --merge`` does)."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pandas as pd

from archzoo.checkpoints.hub import parse_reference, push_to_hub
from archzoo.checkpoints.hub import pull as hub_pull
from archzoo.checkpoints.locate import output_dir
from archzoo.checkpoints.merge import merge_adapter
from archzoo.checkpoints.store import card_body, list_checkpoints, read_card
from archzoo.errors import ArchzooError
from archzoo.registry.catalog import count_text

from .common import (
    AppContext,
    bind,
    error_message,
    ok,
    pick,
    table,
)

HEADERS = ["checkpoint", "architecture", "task", "dataset", "result", "parameters", "created", "plugin", "notes"]


def checkpoints_table(ctx: AppContext) -> pd.DataFrame:
    rows = []
    for e in list_checkpoints(host=ctx.host):
        if e.error:
            rows.append([e.name, "", "", "", "", "", "", "", e.error])
            continue
        notes = []
        if e.problem:
            notes.append(e.problem)
        if e.resumable:
            notes.append("resumable")
        rows.append(
            [
                e.name,
                e.architecture,
                e.task,
                e.dataset,
                e.headline,
                count_text(e.parameters),
                e.created.replace("T", " ")[:19],
                f"{e.distribution} {e.plugin_version}".strip(),
                "; ".join(notes),
            ]
        )
    return table(rows, HEADERS)


def all_choices(ctx: AppContext) -> list[tuple[str, str]]:
    return [(e.label, str(e.path)) for e in list_checkpoints(host=ctx.host)]


def card(ctx: AppContext, location: str | None) -> str:
    if not location:
        return "*Choose a checkpoint to see its model card.*"
    try:
        return in_the_page(card_body(read_card(location, host=ctx.host)))
    except Exception as exc:  # shown as text in the card's place
        return f"**Cannot show this card:** {exc}"


#: A Markdown image or link whose target is a path inside the checkpoint (no scheme, not absolute).
RELATIVE = re.compile(r"(!?)\[([^\]]*)\]\((?![a-z][a-z0-9+.-]*:|/|#)([^)\s]+)\)", re.IGNORECASE)


def in_the_page(body: str) -> str:
    """The card with its links into the checkpoint folder (the evaluation report and its
    figures, which the Hub shows beside the card) named as files: this page does not
    serve the store, so as links they would lead nowhere."""

    def named(found: re.Match) -> str:
        image, text, target = found.groups()
        if image:
            return f"*(figure: `{target}` in the checkpoint folder; the Evaluate tab draws it)*"
        return f"`{target}` (in the checkpoint folder)"

    return RELATIVE.sub(named, body)


def push(ctx: AppContext, location: str | None, repo_id: str, private: bool, token: str):
    try:
        if not location:
            raise ArchzooError("choose a checkpoint to push")
        repo_id = (repo_id or "").strip()
        if not repo_id or "/" not in repo_id.strip("/"):
            raise ArchzooError("give the Hub repository as user/name (for example alice/mlp-digits)")
        url = push_to_hub(location, repo_id, private=bool(private), token=ctx.hub_token(token))
    except Exception as exc:
        return error_message(exc)
    return ok(f"Pushed to {url or repo_id}.")


def pull(ctx: AppContext, reference: str, token: str):
    """-> (message, table, choices update)."""
    try:
        reference = (reference or "").strip()
        if not reference:
            raise ArchzooError("give a Hub reference: user/name, user/name@revision or hf://user/name")
        ref = parse_reference(reference)
        # Into the store (not only the Hugging Face cache), so it is listed here and in the other tabs;
        # pulling again replaces the earlier pull (an archzoo checkpoint in the store, nothing else).
        revision = f"@{ref.revision.replace('/', '--')}" if ref.revision else ""
        folder = ctx.host.settings.checkpoint_dir / "hub" / (ref.repo_id + revision)
        path = hub_pull(reference, to=folder, token=ctx.hub_token(token), overwrite=True)
    except Exception as exc:
        return error_message(exc), gr.skip(), gr.skip()
    options = all_choices(ctx)
    return (
        ok(f"Pulled {reference} into {path}."),
        checkpoints_table(ctx),
        gr.update(choices=options, value=pick(options, str(path))),
    )


def merge(ctx: AppContext, location: str | None, destination: str):
    """Write a LoRA checkpoint's encoder with its adapter merged in; -> message.

    The default folder sits beside the checkpoint (``RUN/merged`` for
    ``RUN/best``), as the command line's ``--merge`` writes it; a name typed
    here lives in the checkpoint store.  An existing folder is never overwritten."""
    try:
        if not location:
            raise ArchzooError("choose a LoRA checkpoint to merge")

        source = Path(location)
        if (destination or "").strip():
            target = output_dir(destination.strip(), ctx.host.settings.checkpoint_dir)
        elif source.name in ("best", "last"):
            target = source.parent / "merged"
        else:
            target = source.parent / f"{source.name}-merged"
        if ctx.host.paths is not None:
            ctx.host.paths.writable(target, "merge destination")
        written = merge_adapter(location, target, host=ctx.host)
    except Exception as exc:
        return error_message(exc)
    return ok(
        f"Merged into {written}: a plain transformers model (AutoModel.from_pretrained loads it) "
        "with its tokenizer and the classification head beside it."
    )


def build(ctx: AppContext) -> dict:
    store = ctx.host.settings.checkpoint_dir
    gr.Markdown(
        f"Checkpoints in the local store, `{store}` (set `ARCHZOO_CHECKPOINTS` to move it), newest first. "
        "A training run writes `RUN/best` (best validation result) and `RUN/last` (resumable)."
    )
    listing = gr.Dataframe(
        checkpoints_table(ctx),
        label="Local checkpoints",
        interactive=False,
        wrap=True,
        elem_id="az-checkpoints-table",
        max_height=420,
        column_widths=["20%", "8%", "12%", "8%", "15%", "8%", "11%", "8%", "10%"],
    )
    refresh = gr.Button("Refresh", size="sm")
    options = all_choices(ctx)
    first = pick(options, None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chosen = gr.Dropdown(
                options, value=first, label="Checkpoint", allow_custom_value=True, elem_id="az-checkpoints-chosen"
            )
            model_card = gr.Markdown(card(ctx, first), elem_id="az-card", container=True, max_height=520)
        with gr.Column(scale=2):
            gr.Markdown("### Share on the Hugging Face Hub")
            token = gr.Textbox(
                label="Hub token",
                type="password",
                info=(
                    "optional: when empty, this server's own Hub login is used (the operator allowed it); never stored"
                    if ctx.lend_hub_token
                    else "your own Hub access token: needed to push, and to pull private repositories; never stored"
                ),
            )
            repo = gr.Textbox(label="Push to repository", placeholder="user/name", elem_id="az-push-repo")
            private = gr.Checkbox(False, label="private repository")
            push_button = gr.Button("Push the chosen checkpoint", elem_id="az-push")
            reference = gr.Textbox(
                label="Pull from the Hub", placeholder="user/name or user/name@revision", elem_id="az-pull-ref"
            )
            pull_button = gr.Button("Pull", elem_id="az-pull")
            hub_status = gr.HTML(elem_id="az-hub-status")
            gr.Markdown("### LoRA: merge the adapter")
            merge_to = gr.Textbox(
                label="Into folder",
                placeholder="empty: beside the checkpoint (RUN/merged)",
                info="a new folder; the checkpoint itself is left as it is",
            )
            merge_button = gr.Button("Merge the adapter into the encoder", elem_id="az-merge")
            merge_status = gr.HTML(elem_id="az-merge-status")

    def refresh_all(current):
        choices = all_choices(ctx)
        value = pick(choices, current)
        return checkpoints_table(ctx), gr.update(choices=choices, value=value), card(ctx, value)

    refresh.click(refresh_all, chosen, [listing, chosen, model_card], api_name="checkpoints")
    chosen.change(bind(card, ctx, ["checkpoint"]), chosen, model_card, api_name="card")
    push_button.click(
        bind(push, ctx, ["checkpoint", "repo_id", "private", "token"]),
        [chosen, repo, private, token],
        hub_status,
        api_name="push",
        concurrency_limit=1,
    )
    pull_button.click(
        bind(pull, ctx, ["reference", "token"]),
        [reference, token],
        [hub_status, listing, chosen],
        api_name="pull",
        concurrency_limit=1,
    )
    merge_button.click(
        bind(merge, ctx, ["checkpoint", "destination"]),
        [chosen, merge_to],
        merge_status,
        api_name="merge_adapter",
        concurrency_limit=1,
    )
    return {"checkpoint": chosen, "refresh": (refresh_all, [chosen], [listing, chosen, model_card])}
