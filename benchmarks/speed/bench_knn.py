"""Speed and peak memory of ``ganlab.core.knn.knn`` (exact, faiss): k=5 self-search on 100k×512 float32.

    python benchmarks/speed/bench_knn.py [--n 100000] [--d 512] [--k 5] [--sklearn]

Each measurement runs in a fresh process so that its peak resident memory (``ru_maxrss``) is its own; the numpy
allocation peak from ``tracemalloc`` is reported too (faiss' C++ buffers are invisible to it). Prints a table and
writes ``runs/bench/knn.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time
import tracemalloc
from pathlib import Path


def _data(n: int, d: int, seed: int = 0):
    import numpy as np

    return np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _child(queue, impl: str, n: int, d: int, k: int, metric: str) -> None:
    import numpy as np

    if impl == "ganlab":
        from ganlab.core.knn import knn
    else:
        from sklearn.neighbors import NearestNeighbors
    x = _data(n, d)
    rss_inputs = _rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    if impl == "ganlab":
        dist, idx = knn(x, k=k, metric=metric, exclude_self=True)
    else:
        sk_metric = "euclidean" if metric == "l2" else "cosine"
        dist, idx = NearestNeighbors(algorithm="brute", metric=sk_metric).fit(x).kneighbors(None, k)
    seconds = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    queue.put(
        {
            "impl": impl,
            "seconds": seconds,
            "queries_per_s": n / seconds,
            "peak_rss_mb": _rss_mb(),
            "rss_after_inputs_mb": rss_inputs,
            "tracemalloc_peak_mb": traced_peak / 2**20,
            "checksum": float(np.asarray(dist, np.float64).sum()),
            "indices_head": np.asarray(idx[:3]).tolist(),
        }
    )


def measure(impl: str, n: int, d: int, k: int, metric: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, impl, n, d, k, metric))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--metric", default="l2", choices=["l2", "cosine"])
    parser.add_argument("--sklearn", action="store_true", help="also time sklearn NearestNeighbors(brute)")
    parser.add_argument("--out", default="runs/bench/knn.json")
    args = parser.parse_args()

    import faiss

    rows = [measure("ganlab", args.n, args.d, args.k, args.metric)]
    if args.sklearn:
        rows.append(measure("sklearn", args.n, args.d, args.k, args.metric))
    input_mb = args.n * args.d * 4 / 2**20
    print(f"kNN self-search k={args.k} ({args.metric}) on {args.n}x{args.d} float32 (input {input_mb:.0f} MB), "
          f"{os.cpu_count()} CPUs, faiss {faiss.__version__} ({faiss.get_num_gpus()} GPUs)")  # fmt: skip
    print(f"{'impl':10s} {'seconds':>9s} {'queries/s':>10s} {'peak RSS MB':>12s} {'tracemalloc MB':>15s}")
    for r in rows:
        print(f"{r['impl']:10s} {r['seconds']:9.2f} {r['queries_per_s']:10.0f} {r['peak_rss_mb']:12.0f} "
              f"{r['tracemalloc_peak_mb']:15.0f}")  # fmt: skip
    if len(rows) == 2:
        same = rows[0]["indices_head"] == rows[1]["indices_head"]
        print(f"sklearn / ganlab time ratio: {rows[1]['seconds'] / rows[0]['seconds']:.2f}x; same neighbours: {same}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": "knn", "args": vars(args), "cpus": os.cpu_count(), "machine": platform.platform(),
               "faiss_gpus": faiss.get_num_gpus(), "results": rows}  # fmt: skip
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
