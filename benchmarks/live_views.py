"""What the live views cost training: the default 2-D preset (mlp-moons, or any preset given)
trained with and without its live view, side by side.

Each round trains the preset three ways, in an order that rotates every round:
``without`` (no watch), ``with`` (the live view's numbers taken each epoch into
``RUN/views/``, as ``archzoo train`` and the app do), and ``with + drawing`` (as the
Train tab does while it streams: a second thread draws the newest kept epoch, again
after max(1 s, 20 x its drawing time), the Train tab's pace).  The table gives the
median training seconds of each and the median of the per-round ratios to ``without``;
the target is ``with`` under 1.05.

    python benchmarks/live_views.py [--rounds 7] [--preset mlp-moons] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

TARGET = 1.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--preset", action="append", help="default: mlp-moons")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["ARCHZOO_CHECKPOINTS"] = tempfile.mkdtemp(prefix="archzoo-live-")

    import torch

    from archzoo.inference.views import live
    from archzoo.training.launch import train

    torch.set_num_threads(args.threads)
    presets = args.preset or ["mlp-moons"]
    print(
        "| preset | epochs | without (s) | with (s) | with + drawing (s) | with / without | "
        "with + drawing / without | frames kept |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for preset in presets:
        train(preset, out=f"warm-{preset}", overrides={"epochs": 2}, watch=live.watcher)  # imports, data, matplotlib
        seconds: dict[str, list[float]] = {"without": [], "with": [], "drawing": []}
        kept = 0
        epochs = 0
        for round_ in range(args.rounds):
            ways = ["without", "with", "drawing"]
            ways = ways[round_ % 3 :] + ways[: round_ % 3]
            for way in ways:
                out = Path(os.environ["ARCHZOO_CHECKPOINTS"]) / f"{preset}-{way}-{round_}"
                drawer = _Drawer(out) if way == "drawing" else None
                result = train(preset, out=out, watch=None if way == "without" else live.watcher)
                if drawer is not None:
                    drawer.stop()
                seconds[way].append(result.seconds)
                epochs = len(result.history)
                if way == "with":
                    kept = sum(len(epochs) for epochs in live.kept(out).values())
        ratio = [w / wo for w, wo in zip(seconds["with"], seconds["without"])]
        ratio_drawing = [d / wo for d, wo in zip(seconds["drawing"], seconds["without"])]
        print(
            f"| {preset} | {epochs} | {statistics.median(seconds['without']):.2f} | "
            f"{statistics.median(seconds['with']):.2f} | {statistics.median(seconds['drawing']):.2f} | "
            f"{statistics.median(ratio):.3f} | {statistics.median(ratio_drawing):.3f} | {kept} of {epochs} |"
        )
    print(f"\ntarget: with / without under {TARGET}; {args.rounds} rounds, medians of per-round ratios")


class _Drawer:
    """Draws the newest kept epoch at the Train tab's pace (``ui.train_tab.LIVE_EVERY``)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from archzoo.inference.views import live
        from archzoo.ui.train_tab import DRAW_SHARE, LIVE_EVERY

        wait = LIVE_EVERY
        while not self.done.wait(wait):
            if live.kept(self.out):
                began = time.perf_counter()
                live.draw(self.out)
                wait = max(LIVE_EVERY, DRAW_SHARE * (time.perf_counter() - began))

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


if __name__ == "__main__":
    main()
