"""Speed, memory and agreement of ganlab's metrics against the reference packages, measured in one run.

    python benchmarks/speed/bench_metrics.py [--prdc-n 10000] [--prdc-d 2048] [--large-n 50000] [--fid-d 2048]

- P/R/D/C at N×N×D (float32): ``ganlab.core.metrics.prdc.prdc`` vs the ``prdc`` package (dense N×N matrices);
  time ratio, peak RSS of each, values compared for identity.
- P/R/D/C at ``--large-n`` (ours only; the package would need ~40 GB): time and peak RSS (goal < 4 GB).
  ``--large-n 0`` skips it (it takes long on a few CPU cores).
- Fréchet distance at ``--fid-d``: ours vs clean-fid's ``frechet_distance`` (scipy ``sqrtm``); ratio and |Δ|/FID.

Each measurement runs in a fresh process so that ``ru_maxrss`` is its own peak. Writes ``runs/bench/metrics.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import platform
import resource
import time
import warnings
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _features(n: int, d: int, seed: int, scale: float = 1.0, shift: float = 0.0):
    """Inception-like float32 features: non-negative, low-rank structure plus noise, generated in chunks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    w = np.random.default_rng(1234).standard_normal((32, d)).astype(np.float32) / np.float32(np.sqrt(32))
    out = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 8192):
        m = min(8192, n - s)
        z = rng.standard_normal((m, 32), dtype=np.float32) * np.float32(scale)
        out[s : s + m] = np.abs(z @ w + np.float32(shift) + 0.4 * rng.standard_normal((m, d), dtype=np.float32))
    return out


def _prdc_child(queue, impl: str, n: int, d: int, k: int) -> None:
    if impl == "ganlab":
        from ganlab.core.metrics.prdc import prdc
    else:
        from prdc import compute_prdc
    real = _features(n, d, seed=1)
    fake = _features(n, d, seed=2, scale=1.15, shift=0.03)
    rss_inputs = _rss_mb()
    t0 = time.perf_counter()
    if impl == "ganlab":
        values = prdc(real, fake, k=k)
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            values = {key: float(v) for key, v in compute_prdc(real, fake, k).items()}
    seconds = time.perf_counter() - t0
    queue.put({"impl": impl, "n": n, "d": d, "k": k, "seconds": seconds, "values": values,
               "peak_rss_mb": _rss_mb(), "rss_after_inputs_mb": rss_inputs})  # fmt: skip


def _fid_child(queue, impl: str, d: int, repeats: int) -> None:
    import numpy as np

    if impl == "ganlab":
        from ganlab.core.metrics.fid import frechet_distance as fd
    else:
        from cleanfid.fid import frechet_distance as fd

    rng = np.random.default_rng(0)
    a = rng.standard_normal((d, 2 * d)) / np.sqrt(2 * d)
    b = (a + 0.1 * rng.standard_normal((d, 2 * d)) / np.sqrt(2 * d)) * 1.1
    s1, s2 = a @ a.T, b @ b.T  # full-rank covariance-like matrices, as from 2d samples
    mu1, mu2 = rng.standard_normal(d) * 0.1, rng.standard_normal(d) * 0.1
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(fd(mu1, s1, mu2, s2))
        times.append(time.perf_counter() - t0)
    queue.put({"impl": impl, "d": d, "seconds": min(times), "all_seconds": times, "value": value,
               "peak_rss_mb": _rss_mb()})  # fmt: skip


def _run(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue, *args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prdc-n", type=int, default=10_000, help="real = fake count for the comparison (0: skip)")
    parser.add_argument("--prdc-d", type=int, default=2048)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--large-n", type=int, default=50_000, help="ours-only size for the memory check (0: skip)")
    parser.add_argument("--fid-d", type=int, default=2048, help="Fréchet distance dimension (0: skip)")
    parser.add_argument("--fid-repeats", type=int, default=1, help="best of this many timings of each")
    parser.add_argument("--out", default="runs/bench/metrics.json")
    args = parser.parse_args()
    report: dict = {"benchmark": "metrics", "args": vars(args), "cpus": os.cpu_count(), "machine": platform.platform()}

    if args.prdc_n:
        ours = _run(_prdc_child, "ganlab", args.prdc_n, args.prdc_d, args.k)
        ref = _run(_prdc_child, "prdc", args.prdc_n, args.prdc_d, args.k)
        identical = ours["values"] == ref["values"]
        report["prdc"] = {"ganlab": ours, "prdc_package": ref, "speedup": ref["seconds"] / ours["seconds"],
                          "identical_values": identical}  # fmt: skip
        print(f"\nP/R/D/C, {args.prdc_n} real x {args.prdc_n} fake x {args.prdc_d}-d float32, k={args.k}")
        print(f"{'impl':8s} {'seconds':>9s} {'peak RSS MB':>12s}  values")
        for r in (ours, ref):
            vals = ", ".join(f"{key}={v:.6f}" for key, v in r["values"].items())
            print(f"{r['impl']:8s} {r['seconds']:9.2f} {r['peak_rss_mb']:12.0f}  {vals}")
        print(f"speed-up (prdc / ganlab): {report['prdc']['speedup']:.2f}x; identical values: {identical}")

    if args.large_n:
        big = _run(_prdc_child, "ganlab", args.large_n, args.prdc_d, args.k)
        report["prdc_large"] = big
        vals = ", ".join(f"{key}={v:.6f}" for key, v in big["values"].items())
        print(f"\nP/R/D/C ganlab only, {args.large_n} x {args.large_n} x {args.prdc_d}: {big['seconds']:.1f} s, "
              f"peak RSS {big['peak_rss_mb']:.0f} MB (inputs {big['rss_after_inputs_mb']:.0f} MB); {vals}")  # fmt: skip

    if args.fid_d:
        ours = _run(_fid_child, "ganlab", args.fid_d, args.fid_repeats)
        ref = _run(_fid_child, "cleanfid", args.fid_d, args.fid_repeats)
        rel = abs(ours["value"] - ref["value"]) / abs(ref["value"])
        report["frechet"] = {"ganlab": ours, "cleanfid": ref, "speedup": ref["seconds"] / ours["seconds"],
                             "relative_difference": rel}  # fmt: skip
        print(f"\nFréchet distance, {args.fid_d}-d (best of {args.fid_repeats})")
        print(f"{'impl':8s} {'seconds':>9s} {'value':>22s}")
        for r in (ours, ref):
            print(f"{r['impl']:8s} {r['seconds']:9.2f} {r['value']:22.12f}")
        print(f"speed-up (clean-fid / ganlab): {report['frechet']['speedup']:.2f}x; |Δ|/FID = {rel:.2e}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
