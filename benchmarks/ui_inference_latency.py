"""Inference through the browser app's API: latency and concurrent clients.

Starts ``archzoo ui`` in its own process on a free loopback port, with a
checkpoint store holding one MLP trained on digits (the default run, trained
here unless --checkpoint names one), then:

1. sequential: one ``gradio_client`` client classifies digit images (uploads,
   28x28 PNGs) through ``/classify_image`` one after another; prints the
   median, 90th percentile and maximum round-trip latency (target: median
   under 100 ms);
   For scale it also times a near-empty endpoint through the same client, and
   the same prediction over Gradio's plain HTTP protocol (``gradio_client``
   polls for answers every 50 ms, so its latencies come in ~50 ms steps);
2. concurrent: 20 clients send one request each at the same moment; every
   answer must arrive and equal what ``archzoo.api.predict`` answers for the
   same image in this process.

    python benchmarks/ui_inference_latency.py [--requests 100] [--clients 20] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"archzoo ui exited early:\n{process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("archzoo ui did not answer in time")
        time.sleep(0.1)


def digit_files(folder: Path, count: int) -> list[tuple[Path, str]]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    files = []
    for i in range(count):
        path = folder / f"digit{i}.png"
        image = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8), mode="L")
        image.resize((28, 28), Image.Resampling.NEAREST).save(path)
        files.append((path, str(digits.target[i])))
    return files


def raw_round_trip(url: str, checkpoint: str, path: Path) -> float:
    """One prediction over Gradio's HTTP protocol without ``gradio_client``
    (upload, join the queue, read the event stream until the answer), in ms.

    For scale only: ``gradio_client`` waits for answers by polling every 50 ms
    (``utils.get_pred_from_sse_v1plus``), so its latencies come in steps of
    about 50 ms on top of this."""
    import json
    import uuid

    import httpx

    config = httpx.get(url + "config").json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "classify_image")
    session = uuid.uuid4().hex[:10]
    with httpx.Client() as http:
        tick = time.perf_counter()
        with open(path, "rb") as handle:
            uploaded = http.post(url + "gradio_api/upload", files={"files": (path.name, handle, "image/png")}).json()
        image = {"path": uploaded[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
        http.post(
            url + "gradio_api/queue/join",
            json={
                "data": [checkpoint, image, 3, True],
                "fn_index": fn_index,
                "session_hash": session,
                "event_data": None,
                "trigger_id": None,
            },
        )
        with http.stream("GET", url + f"gradio_api/queue/data?session_hash={session}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                    break
        return (time.perf_counter() - tick) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="sequential requests to time")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--checkpoint", help="an existing MLP checkpoint (default: train the default run)")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

    from archzoo.api import predict, train

    work = Path(tempfile.mkdtemp(prefix="archzoo-bench-"))
    store = work / "store"
    try:
        if args.checkpoint:
            checkpoint = Path(args.checkpoint).resolve()
        else:
            started = time.perf_counter()
            checkpoint = train(out=str(store / "bench-mlp")).best_dir
            print(f"trained the default MLP on digits in {time.perf_counter() - started:.1f}s: {checkpoint}")
        files = digit_files(work, max(args.clients, 10))
        expected = {
            str(p): r[0][0] for (p, _), r in zip(files, predict(checkpoint, [str(p) for p, _ in files], top_k=1)[0])
        }

        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
        process = subprocess.Popen(
            [sys.executable, "-m", "archzoo.cli", "ui", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            wait_for_server(url, process)
            # The answer is the label; the picture of what the model saw is not fetched.
            client = Client(url, verbose=False, download_files=False)

            def ask(c, path):
                label, _, _ = c.predict(str(checkpoint), handle_file(str(path)), 3, True, api_name="/classify_image")
                return label["label"]

            for path, _ in files[:5]:  # warm up: first load of the model code, caches
                ask(client, path)
            latencies, agree, right = [], 0, 0
            for i in range(args.requests):
                path, truth = files[i % len(files)]
                tick = time.perf_counter()
                answer = ask(client, path)
                latencies.append((time.perf_counter() - tick) * 1000)
                agree += answer == expected[str(path)]
                right += answer == truth

            raw = [
                raw_round_trip(url, str(checkpoint), files[i % len(files)][0]) for i in range(min(args.requests, 50))
            ]
            # For scale: the same round trip to an endpoint that does almost nothing (the run queue).
            floor = []
            for _ in range(min(args.requests, 50)):
                tick = time.perf_counter()
                client.predict(api_name="/runs")
                floor.append((time.perf_counter() - tick) * 1000)

            clients = [Client(url, verbose=False, download_files=False) for _ in range(args.clients)]
            barrier = threading.Barrier(args.clients)
            answers: list[str | None] = [None] * args.clients
            errors: list[str] = []
            times: list[float] = [0.0] * args.clients

            def one(index: int) -> None:
                path, _ = files[index % len(files)]
                barrier.wait()
                tick = time.perf_counter()
                try:
                    answers[index] = ask(clients[index], path)
                except Exception as exc:  # counted, and shown below
                    errors.append(f"client {index}: {type(exc).__name__}: {exc}")
                times[index] = (time.perf_counter() - tick) * 1000

            threads = [threading.Thread(target=one, args=(i,)) for i in range(args.clients)]
            wall = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            wall = (time.perf_counter() - wall) * 1000
            answered = sum(a is not None for a in answers)
            correct = sum(a == expected[str(files[i % len(files)][0])] for i, a in enumerate(answers))
        finally:
            process.terminate()
            process.wait(30)

        load = os.getloadavg()  # other work on the machine slows every number here
        print(
            f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 "
            "min)"
        )
        median = statistics.median(latencies)
        p90 = statistics.quantiles(latencies, n=10)[-1]
        print()
        print("| measurement | value | target |")
        print("|---|---|---|")
        print(f"| sequential requests | {args.requests} | |")
        print(f"| median latency | {median:.1f} ms | < 100 ms: {'PASS' if median < 100 else 'FAIL'} |")
        print(f"| 90th percentile | {p90:.1f} ms | |")
        print(f"| maximum | {max(latencies):.1f} ms | |")
        print(f"| for scale: median of a near-empty endpoint (/runs) | {statistics.median(floor):.1f} ms | |")
        print(
            "| for scale: median over plain HTTP, without gradio_client's 50 ms polling | "
            f"{statistics.median(raw):.1f} ms | |"
        )
        print(f"| same answer as archzoo.api.predict | {agree}/{args.requests} | all |")
        print(f"| top-1 equals the true digit | {right}/{args.requests} | (model accuracy) |")
        print(f"| concurrent clients | {args.clients} | |")
        ok = answered == args.clients and correct == args.clients and not errors
        print(f"| answered / correct | {answered}/{correct} | all: {'PASS' if ok else 'FAIL'} |")
        print(f"| concurrent: slowest answer, wall time | {max(times):.0f} ms, {wall:.0f} ms | |")
        for error in errors:
            print(f"error: {error}")
        if not ok or median >= 100:
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
