"""IC-GAN: neighbourhoods, k-means stored instances and the neighbour data loader, side by side with the plain ways.

1. ``neighbours``: ``ganlab.icgan.compute_neighbourhoods`` (core.knn, batched queries, self excluded) on
   memory-mapped float32 features against the official route, a faiss ``IndexFlatL2`` filled with all unit features
   and searched for k + 1 neighbours in one call; wall time and peak resident memory of each, measured in its own
   process, plus whether the neighbour sets agree.
2. ``kmeans``: ``ganlab.icgan.instances.kmeans_indices`` (1000 stored instances) against ``faiss.Kmeans`` +
   ``IndexFlatL2.search(centroids, 1)`` directly (the official ``store_kmeans_indexes.py``); overhead target <= 10 %.
3. ``loader``: training steps of one tiny IC-GAN with the neighbour stream against the same model and method whose
   real images are the drawn instances themselves (uniform sampling); target <= 5 % slower.

    python benchmarks/speed/bench_icgan.py [--n 100000] [--dim 2048] [--only neighbours,kmeans,loader]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_features(path: Path, n: int, d: int, seed: int = 0) -> None:
    """Clustered non-negative features (like pooled CNN activations) written to a .npy memmap in chunks."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    centres = np.abs(rng.normal(size=(200, d))).astype(np.float32)
    for s in range(0, n, 10000):
        e = min(n, s + 10000)
        block = centres[rng.integers(0, 200, e - s)] + rng.normal(size=(e - s, d)).astype(np.float32) * 0.5
        out[s:e] = np.maximum(block, 0)
    out.flush()


def _child(kind: str, path: str, k: int, out: str) -> None:
    """Run one measurement in this (fresh) process and write {seconds, peak_rss_mb, ...} to ``out``."""
    import faiss

    # the same imports for both sides (torch included), so that peak memory above this baseline compares the work
    import ganlab.icgan.instances
    import ganlab.icgan.neighbours  # noqa: F401

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    feats = np.load(path, mmap_mode="r")
    t0 = time.perf_counter()
    if kind == "ours_neighbours":
        from ganlab.icgan.features import InstanceFeatures
        from ganlab.icgan.neighbours import compute_neighbourhoods

        f = InstanceFeatures(feats, None, {"fingerprint": "bench"})
        unit = np.lib.format.open_memmap(path + ".unit.npy", mode="w+", dtype=np.float32, shape=feats.shape)
        idx = compute_neighbourhoods(f, k, unit_out=unit, batch_size=4096).indices
    elif kind == "faiss_neighbours":
        unit = np.asarray(feats, dtype=np.float32)
        unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
        index = faiss.IndexFlatL2(unit.shape[1])
        index.add(unit)
        _, nn = index.search(unit, k + 1)
        idx = np.stack([row[row != i][:k] for i, row in enumerate(nn)])
    elif kind == "ours_kmeans":
        from ganlab.icgan.features import unit_rows
        from ganlab.icgan.instances import kmeans_indices

        idx = kmeans_indices(unit_rows(feats), 1000)
    elif kind == "faiss_kmeans":
        from ganlab.icgan.features import unit_rows

        unit = unit_rows(feats)  # the same normalised input as ours (k-means is sensitive to the last bit)
        km = faiss.Kmeans(unit.shape[1], 1000, niter=100, min_points_per_centroid=200, seed=1234, verbose=False)
        km.train(unit)
        index = faiss.IndexFlatL2(unit.shape[1])
        index.add(unit)
        idx = index.search(km.centroids, 1)[1][:, 0]
    else:
        raise SystemExit(f"unknown kind {kind}")
    seconds = time.perf_counter() - t0
    np.save(out + ".idx.npy", np.asarray(idx))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": rss, "work_rss_mb": rss - base_rss}))


def _measure(kind: str, path: Path, k: int, tmp: Path) -> tuple[dict, np.ndarray]:
    out = tmp / f"{kind}.json"
    subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(k), str(out)], check=True)
    return json.loads(out.read_text()), np.load(str(out) + ".idx.npy")


def _ab(
    kind_a: str, kind_b: str, path: Path, k: int, tmp: Path, repeats: int
) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Alternate the two measurements (A B A B ...) so that a shared machine's load hits both alike."""
    runs_a, runs_b = [], []
    for _ in range(repeats):
        ra, a = _measure(kind_a, path, k, tmp)
        rb, b = _measure(kind_b, path, k, tmp)
        runs_a.append(ra)
        runs_b.append(rb)
    return runs_a, runs_b, a, b


def _summary(runs: list[dict], key: str) -> float:
    return float(np.median([r[key] for r in runs]))


def bench_neighbours(path: Path, n: int, d: int, k: int, tmp: Path, repeats: int = 2) -> dict:
    ours, ref, a, b = _ab("ours_neighbours", "faiss_neighbours", path, k, tmp, repeats)
    same = float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b)]))
    return {
        "n": n,
        "dim": d,
        "k": k,
        "features_mb": n * d * 4 / 2**20,
        "ours_s": _summary(ours, "seconds"),
        "faiss_s": _summary(ref, "seconds"),
        "time_ratio": _summary(ours, "seconds") / _summary(ref, "seconds"),
        "ours_work_rss_mb": _summary(ours, "work_rss_mb"),
        "faiss_work_rss_mb": _summary(ref, "work_rss_mb"),
        "neighbour_overlap": same,
    }


def bench_kmeans(path: Path, n: int, d: int, tmp: Path, repeats: int = 1) -> dict:
    ours, ref, a, b = _ab("ours_kmeans", "faiss_kmeans", path, 0, tmp, repeats)
    return {
        "n": n,
        "dim": d,
        "centroids": 1000,
        "ours_s": _summary(ours, "seconds"),
        "faiss_s": _summary(ref, "seconds"),
        "overhead": _summary(ours, "seconds") / _summary(ref, "seconds") - 1,
        "same_instances": float(np.mean(a == b)),
    }


def bench_loader(steps: int = 30) -> dict:
    import torch

    from ganlab.core.config import from_dict
    from ganlab.core.data import get_dataset
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.core.train.trainer import Trainer
    from ganlab.icgan.method import ICGAN, ICGANOptions

    class Uniform(ICGAN):
        """The same method, but D's real image is the drawn instance itself (plain uniform sampling)."""

        def next_real(self, run):
            batch = run.next_batch("main")
            draw = run.sampler_of("main").last
            batch["cond"] = self.conditioning(draw.instance_idx, None, run.device)
            return batch

        def sampler(self, run):
            from ganlab.icgan.data import RealDraw

            s = super().sampler(run)
            no = np.zeros(0, dtype=bool)
            s.draws.real = lambda drawn: RealDraw(drawn, drawn, np.zeros(len(drawn), bool), no)
            return s

    torch.set_num_threads(1)
    ds = get_dataset("digits", resolution=32)
    opts = {
        "resolution": 32,
        "channels": 1,
        "ch": 8,
        "z_dim": 64,
        "shared_dim": 32,
        "feat_embed_dim": 64,
        "g_attn": "0",
        "d_attn": "0",
        "num_classes": 0,
        "feat_dim": 84,
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cls in (("uniform", Uniform), ("neighbours", ICGAN), ("uniform_2", Uniform), ("neighbours_2", ICGAN)):
            cfg = from_dict(
                ExperimentConfig,
                {
                    "name": name,
                    "out_dir": tmp,
                    "data": {"name": "digits", "resolution": 32},
                    "model": {"backbone": "biggan", "options": opts},
                    "loss": {"name": "hinge"},
                    "train": {
                        "steps": steps,
                        "batch_size": 32,
                        "log_every": 0,
                        "sample_every": 0,
                        "checkpoint_every": 0,
                        "progress": False,
                    },
                    "method": {"name": "icgan", "options": {"extractor": "random:lenet", "k": 5}},
                },
            )
            t = Trainer(cfg, method=cls(ICGANOptions(extractor="random:lenet", k=5, cache_dir=tmp)), dataset=ds)
            t.fit(stop_at=3)  # warm-up
            t0 = time.perf_counter()
            t.fit()
            out[name] = (time.perf_counter() - t0) / (steps - 3)
    uni = (out["uniform"] + out["uniform_2"]) / 2
    nei = (out["neighbours"] + out["neighbours_2"]) / 2
    return {"uniform_s_per_step": uni, "neighbours_s_per_step": nei, "slowdown": nei / uni - 1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--only", default="neighbours,kmeans,loader")
    ap.add_argument("--out", default="runs/bench")
    ap.add_argument("--child", nargs=4, default=None)
    args = ap.parse_args()
    if args.child:
        kind, path, k, out = args.child
        _child(kind, path, int(k), out)
        return
    parts = args.only.split(",")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "feats.npy"
        if {"neighbours", "kmeans"} & set(parts):
            make_features(path, args.n, args.dim)
        if "neighbours" in parts:
            results["neighbours"] = bench_neighbours(path, args.n, args.dim, args.k, tmp)
            print(json.dumps(results["neighbours"]))
        if "kmeans" in parts:
            results["kmeans"] = bench_kmeans(path, args.n, args.dim, tmp)
            print(json.dumps(results["kmeans"]))
    if "loader" in parts:
        results["loader"] = bench_loader()
        print(json.dumps(results["loader"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "icgan.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
