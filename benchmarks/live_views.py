"""What the live views cost training: the default 2-D preset (mlp-moons, or any preset given)
trained with and without its live view, side by side.

Each round trains the preset four ways, in an order that rotates every round:
``without`` (no watch), ``with`` (the live view's numbers taken each epoch into
``RUN/views/``, as ``archzoo train`` and the app do), and with the numbers and the
Train tab's drawing beside the run: a second thread asks for the newest kept epoch's
picture again after max(1 s, 4 x its drawing time), the Train tab's pace, and it is
drawn either in the training's own process (``drawn here``, as the app drew it before)
or in the app's drawing process (``drawn apart``, ``ui.live_drawing.Drawer``, as it
does now).  The table gives the median training seconds of each and the median of the
per-round ratios to ``without``; the target is under 1.05 for ``with`` and ``drawn apart``.

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
    from archzoo.ui.live_drawing import Drawer

    torch.set_num_threads(args.threads)
    presets = args.preset or ["mlp-moons"]
    apart = Drawer()
    here = lambda folder, name, epoch: live.draw(folder, name, epoch).png  # noqa: E731
    ways = {"without": None, "with": None, "drawn here": here, "drawn apart": apart.draw}
    print(
        "| preset | epochs | without (s) | with (s) | drawn here (s) | drawn apart (s) | with / without | "
        "drawn here / without | drawn apart / without | pictures drawn apart | frames kept |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for preset in presets:
        warm = train(preset, out=f"warm-{preset}", overrides={"epochs": 2}, watch=live.watcher)  # imports, data
        for draw in here, apart.draw:  # matplotlib in both processes
            draw(warm.out_dir, *next((n, e[-1]) for n, e in live.kept(warm.out_dir).items()))
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        kept = drawn = epochs = 0
        for round_ in range(args.rounds):
            order = list(ways)[round_ % 4 :] + list(ways)[: round_ % 4]
            for way in order:
                out = Path(os.environ["ARCHZOO_CHECKPOINTS"]) / f"{preset}-{way.replace(' ', '-')}-{round_}"
                drawer = _Drawer(out, ways[way]) if ways[way] else None
                result = train(preset, out=out, watch=None if way == "without" else live.watcher)
                if drawer is not None:
                    drawer.stop()
                    drawn += drawer.pictures if way == "drawn apart" else 0
                seconds[way].append(result.seconds)
                epochs = len(result.history)
                if way == "with":
                    kept = sum(len(epochs) for epochs in live.kept(out).values())
        ratios = {way: [s / wo for s, wo in zip(seconds[way], seconds["without"])] for way in ways}
        medians = {way: statistics.median(seconds[way]) for way in ways}
        print(
            f"| {preset} | {epochs} | "
            + " | ".join(f"{medians[w]:.2f}" for w in ways)
            + " | "
            + " | ".join(f"{statistics.median(ratios[w]):.3f}" for w in list(ways)[1:])
            + f" | {drawn / args.rounds:.1f} a run | {kept} of {epochs} |"
        )
    apart.shutdown()
    print(
        f"\ntarget: with / without and drawn apart / without under {TARGET}; {args.rounds} rounds, "
        "medians of per-round ratios"
    )


class _Drawer:
    """Asks for the newest kept epoch's picture at the Train tab's pace (``ui.train_tab.LIVE_EVERY``)."""

    def __init__(self, out: Path, draw) -> None:
        self.out, self.draw, self.pictures = out, draw, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from archzoo.inference.views import live
        from archzoo.ui.train_tab import DRAW_SHARE, LIVE_EVERY

        wait = LIVE_EVERY
        while not self.done.wait(wait):
            views = live.kept(self.out)
            if views:
                name, epochs = next(iter(views.items()))
                began = time.perf_counter()
                self.draw(self.out, name, epochs[-1])
                self.pictures += 1
                wait = max(LIVE_EVERY, DRAW_SHARE * (time.perf_counter() - began))

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


if __name__ == "__main__":
    main()
