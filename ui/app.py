"""The archzoo browser app: ``archzoo ui`` starts it.

Seven tabs (Models, Train, Runs, Studies, Evaluate, Inference, Checkpoints) over
the same functions the CLI calls.  :func:`build_app` makes the Gradio Blocks;
:func:`launch` serves them (on 127.0.0.1 unless told otherwise) and blocks;
:func:`serve` starts them in the background and returns the URL (tests and
benchmarks use it).

Offline by default: Gradio's analytics are off and the theme uses the
system's fonts, so the page makes no request beyond this server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import partial

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from archzoo import api  # noqa: E402
from archzoo.errors import ArchzooError  # noqa: E402
from archzoo.registry.host import Host, get_host  # noqa: E402
from archzoo.registry.paths import PathPolicy  # noqa: E402
from archzoo.training.queue import RunManager  # noqa: E402

from . import (  # noqa: E402
    checkpoints_tab,
    evaluate_tab,
    inference_tab,
    models_tab,
    runs_tab,
    studies_tab,
    train_tab,
)
from .common import AppContext  # noqa: E402
from .guard import RequestGuard, allowed_host_names  # noqa: E402
from .study_worker import StudyWorker  # noqa: E402

TITLE = "archzoo"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
.az-msg { padding: 8px 12px; border-radius: 6px; margin: 4px 0; line-height: 1.45; }
.az-msg ul { margin: 4px 0 0 18px; }
.az-ok { background: #ecfdf3; border: 1px solid #abefc6; color: #05603a; }
.az-info { background: #eff8ff; border: 1px solid #b2ddff; color: #194185; }
.az-error { background: #fef3f2; border: 1px solid #fecdca; color: #912018; font-weight: 500; }
.az-progress { position: relative; height: 28px; border-radius: 6px; background: #eaecf0; overflow: hidden; }
.az-progress-fill { position: absolute; inset: 0 auto 0 0; background: linear-gradient(90deg, #53b1fd, #2e90fa);
                    transition: width 0.25s ease; }
.az-progress-text { position: relative; line-height: 28px; padding: 0 10px; font-size: 14px; color: #101828;
                    font-variant-numeric: tabular-nums; }
#az-intro p { margin: 0; }
#az-seen img { image-rendering: pixelated; }
.az-bad { outline: 2px solid #d92d20; outline-offset: 2px; border-radius: 6px; }
.az-bad .info, .az-bad [data-testid="block-info"] + div { color: #b42318; }
"""


def theme() -> gr.themes.Base:
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS, primary_hue="blue")


def build_app(
    host: Host | None = None, runs: RunManager | None = None, *, lend_hub_token: bool | None = None
) -> gr.Blocks:
    """The whole app as Gradio Blocks (not yet served).

    ``lend_hub_token`` (default: registry.toml's ``[app] lend_hub_token``, off) lets a
    browser user with an empty token field use this machine's Hub login."""
    host = host or get_host()
    _register_hooks(host)
    lend = host.settings.lend_hub_token if lend_hub_token is None else lend_hub_token
    host.paths = PathPolicy.for_app(host.settings)  # paths from the browser stay in the store and data roots
    host.hub_token = None if lend else False  # an hf:// location typed in the page borrows no token
    temp_dir = _own_temp_dir()
    ctx = AppContext(host=host, runs=runs or RunManager(host, train=api.train), lend_hub_token=lend, temp_dir=temp_dir)
    ctx.studies = StudyWorker(host, ctx.runs)  # holds ctx.runs' training slot while a study runs
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(
            "# archzoo\n"
            "Classic neural networks, each a plugin: train one, measure it, use it. "
            "**New here?** Open **Train** and press **Start** (a small network learns handwritten digits in seconds), "
            "then draw a digit in **Inference**.",
            elem_id="az-intro",
        )
        with gr.Tabs(elem_id="az-tabs", overflow_behavior="wrap") as tabs:  # a phone shows every tab, on two rows
            with gr.Tab("Models", id="models") as models_page:
                models = models_tab.build(ctx)
            with gr.Tab("Train", id="train") as train_page:
                train = train_tab.build(ctx)
            with gr.Tab("Runs", id="runs") as runs_page:
                runs = runs_tab.build(ctx)
            with gr.Tab("Studies", id="studies") as studies_page:
                studies = studies_tab.build(ctx)
            with gr.Tab("Evaluate", id="evaluate") as evaluate_page:
                evaluate = evaluate_tab.build(ctx)
            with gr.Tab("Inference", id="inference") as inference_page:
                infer = inference_tab.build(ctx)
            with gr.Tab("Checkpoints", id="checkpoints") as checkpoints_page:
                checkpoints = checkpoints_tab.build(ctx)
        train["connect"]([evaluate["checkpoint"], infer["checkpoint"]], app)
        # A model's page opens it in the Train form (whose own change handler fills the fields).
        models["train"].click(
            lambda name: (gr.Tabs(selected="train"), gr.update(value=name)),
            models["chosen"],
            [tabs, train["name"]],
            api_visibility="undocumented",
        )
        studies["connect"](runs["one"], tabs, runs["timer"])
        # Checkpoints written elsewhere (the CLI, another page) appear when a tab is opened.
        fn, inputs, outputs = runs["refresh"]
        runs_page.select(fn, inputs, outputs, api_visibility="undocumented", show_progress="hidden")
        # The Studies tab shows the study in the storage now: on opening it, and on a fresh or reloaded page.
        fn, inputs, outputs = studies["refresh"]
        studies_page.select(fn, inputs, outputs, api_visibility="undocumented", show_progress="hidden")
        app.load(fn, inputs, outputs, api_visibility="undocumented", show_progress="hidden")
        for page, handles in ((evaluate_page, evaluate), (inference_page, infer), (checkpoints_page, checkpoints)):
            fn, inputs, outputs = handles["refresh"]
            page.select(fn, inputs, outputs, api_visibility="undocumented", show_progress="hidden")
            # A fresh page shows the newest checkpoints, not those of when the server started.
            app.load(_newest(fn), inputs, outputs, api_visibility="undocumented", show_progress="hidden")
        # The run list and the study refresh themselves only while they are in view.
        pages = (models_page, train_page, runs_page, studies_page, evaluate_page, inference_page, checkpoints_page)
        for page in pages:
            page.select(
                partial(_ticking, page is runs_page, page is studies_page),
                None,
                [runs["timer"], studies["timer"]],
                api_visibility="undocumented",
                show_progress="hidden",
            )
        app.archzoo = ctx  # for tests and benchmarks: the host and the run queue behind this app
        app.archzoo_temp_dir = temp_dir
    return app


def _ticking(*on: bool) -> tuple[gr.Timer, ...]:
    return tuple(gr.Timer(active=each) for each in on)


def _own_temp_dir() -> str:
    """A temporary folder for this app alone (Gradio's ``GRADIO_TEMP_DIR``, read when
    components and the server are made): files made for one app's users are not served
    by another app on the same machine, and two apps never write the same file."""
    folder = tempfile.mkdtemp(prefix="archzoo-ui-")
    os.environ["GRADIO_TEMP_DIR"] = folder
    return folder


def _register_hooks(host: Host) -> None:
    """Register every architecture's model hooks now, in one thread: the host
    registers them on first use without a lock, and the app uses it from many
    threads at once (a training run and several predictions)."""
    import logging

    for spec in list(host.architectures.values()):
        try:
            host.hooks(spec)
        except Exception as exc:  # an architecture that cannot load says so when it is used
            logging.getLogger("archzoo.ui").warning("architecture %s: %s", spec.name, exc)


def _newest(refresh):
    """A refresh handler that ignores the current choice, so the newest checkpoint is picked."""

    def newest(*current):
        return refresh(*([None] * len(current)))

    return newest


def serve(
    app: gr.Blocks | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    block: bool = False,
    quiet: bool = True,
    allowed_hosts: tuple[str, ...] = (),
) -> str:
    """Serve ``app`` (default: a fresh :func:`build_app`) and return its local URL.

    Requests pass :class:`~archzoo.ui.guard.RequestGuard` first: only the host names
    :func:`~archzoo.ui.guard.allowed_host_names` gives (plus ``allowed_hosts`` and
    registry.toml's ``[app] allowed_hosts``), only the app's own origin, sign-ins throttled.
    With ``block`` it does not return until the server is stopped (Ctrl-C)."""
    app = app or build_app()
    app.queue(default_concurrency_limit=4)
    names = allowed_host_names(host, (*allowed_hosts, *app.archzoo.host.settings.allowed_hosts), share=share)
    os.environ["GRADIO_TEMP_DIR"] = app.archzoo_temp_dir  # the server's uploads go there too
    try:
        app.launch(
            app_kwargs={"middleware": [Middleware(RequestGuard, allowed_hosts=names)]},
            server_name=host,
            server_port=port,
            auth=auth,
            share=share,
            prevent_thread_lock=not block,
            quiet=quiet,
            show_error=True,
            inbrowser=False,
            ssr_mode=False,
            theme=theme(),
            css=CSS,
            max_file_size="20mb",
            auth_message="archzoo: sign in with the user name and password given to --auth",
        )
    except OSError as exc:
        if "empty port" in str(exc):
            raise ArchzooError(
                f"port {port} on {host} is in use by another program; choose another with --port"
            ) from None
        raise ArchzooError(f"cannot serve on {host}:{port}: {exc}") from None
    return app.local_url


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    allowed_hosts: tuple[str, ...] = (),
    lend_hub_token: bool = False,
) -> None:
    """``archzoo ui``: serve the app until Ctrl-C."""
    app = build_app(lend_hub_token=lend_hub_token or None)
    store = app.archzoo.host.settings.checkpoint_dir
    url = serve(app, host=host, port=port, auth=auth, share=share, quiet=True, allowed_hosts=allowed_hosts)
    if host in ("0.0.0.0", "::"):
        url = f"http://127.0.0.1:{port}/"
    print(
        f"archzoo ui: open {url}"
        + (" (sign-in required)" if auth else "")
        + (f"; public link: {app.share_url}" if share and app.share_url else ""),
        flush=True,
    )
    print(f"archzoo ui: checkpoints in {store.resolve()}; press Ctrl-C to stop", flush=True)
    if app.archzoo.lend_hub_token:
        print(
            "archzoo ui: this machine's Hub login is lent to every user who leaves the token field empty "
            "(--lend-hub-token); the page says so",
            flush=True,
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"archzoo ui: listening on {host}: anyone who can reach this machine can use the app"
            + ("" if auth else "; consider --auth USER:PASS"),
            flush=True,
        )
    try:
        app.block_thread()
    finally:
        app.archzoo.runs.shutdown(timeout=30)  # a running training stops and keeps a resumable checkpoint
        app.archzoo.drawer.shutdown()
        shutil.rmtree(app.archzoo_temp_dir, ignore_errors=True)
