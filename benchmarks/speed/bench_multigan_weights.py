"""Algorithm 1 distance sums of multi-GAN boosting at paper size: 50k real x 50k synthetic x 256-d, per class.

CIFAR-10 has 10 classes of 5,000 real images and the weights use 5,000 synthetic images per class, so the work is
10 per-class problems of 5k x 5k x 256. Side by side, each in a fresh subprocess (so peak memory is its own):

* ``blockwise``: ``ganlab.multigan_boosting.weights.class_distance_sums`` (addmm expansion over blocks of real rows,
  memory O(block x n_fake));
* ``naive_cdist``: ``torch.cdist(real_k, fake_k).sum(1)`` per class (the full 5k x 5k matrix per class).

Peak memory is the process's peak RSS above its RSS after the features were created (CPU), or
``torch.cuda.max_memory_allocated`` above the features (CUDA). Both sums are compared (max relative difference).

    python benchmarks/speed/bench_multigan_weights.py [--per-class 5000] [--classes 10] [--dim 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _worker(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from ganlab.multigan_boosting.weights import class_distance_sums

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    real = [torch.randn(args.per_class, args.dim, generator=g).to(dev) for _ in range(args.classes)]
    fake = [(torch.randn(args.per_class, args.dim, generator=g) + 0.1).to(dev) for _ in range(args.classes)]
    if dev.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    try:  # reset the peak-RSS mark, so VmHWM below is this computation's peak, not the imports'
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    base_rss = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    sums = []
    for r, f in zip(real, fake, strict=True):
        if args.variant == "blockwise":
            sums.append(class_distance_sums(r, f, block_size=args.block))
        else:
            sums.append(torch.cdist(r, f).sum(1, dtype=torch.float64).cpu().numpy())
    if dev.type == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    peak = (
        (torch.cuda.max_memory_allocated() - base) / 2**20
        if dev.type == "cuda"
        else (_rss_kib("VmHWM") - base_rss) / 1024
    )
    np.save(args.save, np.concatenate(sums))
    print(json.dumps({"variant": args.variant, "wall_s": wall, "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=5000, help="real = synthetic items per class")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--block", type=int, default=1024, help="real rows per block (blockwise)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--save", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        _worker(args)
        return
    import numpy as np

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, sums = {}, {}
    for variant in ("blockwise", "naive_cdist"):
        save = out / f"multigan_weights_{variant}.npy"
        cmd = [sys.executable, __file__, "--variant", variant, "--save", str(save)]
        for key in ("per_class", "classes", "dim", "block", "threads", "device"):
            cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows[variant] = json.loads(res.stdout.strip().splitlines()[-1])
        sums[variant] = np.load(save)
        save.unlink()
    b, n = sums["blockwise"], sums["naive_cdist"]
    result = {
        "problem": f"{args.classes} classes x ({args.per_class} real x {args.per_class} synthetic) x {args.dim}-d",
        "device": args.device,
        "threads": args.threads,
        "block": args.block,
        "blockwise": rows["blockwise"],
        "naive_cdist": rows["naive_cdist"],
        "speedup_vs_cdist": rows["naive_cdist"]["wall_s"] / rows["blockwise"]["wall_s"],
        "max_rel_diff": float(np.max(np.abs(b - n) / np.abs(n))),
        "full_matrix_mib_per_class": args.per_class**2 * 4 / 2**20,
    }
    print(json.dumps(result, indent=2))
    (out / "bench_multigan_weights.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
