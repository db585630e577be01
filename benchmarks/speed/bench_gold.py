"""GOLD's costs at the MNIST paper config: the re-weighting overhead per training step, and rejection sampling.

1. Training steps of the ``gold`` method on the official 1-channel G/D (acgan_mnist_gold, batch 128, n_dis 1) with
   re-weighting on, against the same run without re-weighting (the baseline, loss (1)): ``overhead_pct`` =
   (t_gold / t_baseline - 1) x 100, for ``gold_forward: shared`` (the default: weights from the loss forward) and
   ``train`` (the official second no-grad forward). The runs alternate in blocks so that machine load hits all of
   them alike; the goal is <= 10 %.
2. GOLD rejection sampling of ``--n`` samples (50,000 at paper size) from the same G/D: accepted samples per second
   and acceptance rate (p = 0.1), statistics over ``--n-stats`` samples included in the time.

    python benchmarks/speed/bench_gold.py [--steps 10] [--blocks 3] [--n 50000] [--n-stats 50000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def _trainer(variant: str, out: Path, steps: int):
    from ganlab.core.data import get_dataset
    from ganlab.core.train.config import ExperimentConfig, MethodConfig
    from ganlab.core.train.trainer import Trainer

    cfg = ExperimentConfig()
    cfg.name, cfg.out_dir = f"bench_gold_{variant}", str(out)
    cfg.data.name, cfg.data.resolution = "mnist5k", 32
    cfg.model.backbone = "acgan_mnist_gold"
    cfg.optim.betas = (0.5, 0.999)
    cfg.train.steps, cfg.train.batch_size = 10**6, 128
    cfg.train.log_every = cfg.train.sample_every = cfg.train.checkpoint_every = 0
    cfg.train.progress, cfg.train.tensorboard = False, False
    opts = {
        "reweight": variant != "baseline",
        "start_epoch": 0,
        "gold_forward": "train" if variant == "train" else "shared",
    }
    cfg.method = MethodConfig(name="gold", options=opts)
    ds = get_dataset("mnist5k", resolution=32)
    return Trainer(cfg, run_dir=out / cfg.name, dataset=ds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per block and variant")
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--n", type=int, default=50000, help="rejection-sampled bank size")
    parser.add_argument("--n-stats", type=int, default=50000)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", default="runs/bench")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    variants = ("baseline", "shared", "train")
    trainers = {v: _trainer(v, out / "bench_gold_runs", args.steps) for v in variants}
    times = {v: 0.0 for v in variants}
    for tr in trainers.values():
        tr.train_step()  # warm-up
    for _ in range(args.blocks):
        for v, tr in trainers.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                tr.train_step()
            times[v] += time.perf_counter() - t0
    n_steps = args.blocks * args.steps
    per_step = {v: t / n_steps for v, t in times.items()}
    result = {
        "config": "acgan_mnist_gold, batch 128, n_dis 1, CPU",
        "threads": torch.get_num_threads(),
        "s_per_step": per_step,
        "overhead_pct_shared": 100 * (per_step["shared"] / per_step["baseline"] - 1),
        "overhead_pct_train_forward": 100 * (per_step["train"] / per_step["baseline"] - 1),
    }
    from ganlab.gold.rejection import gold_rejection_sample

    tr = trainers["baseline"]
    res = gold_rejection_sample(
        tr.unwrap(tr.G), tr.unwrap(tr.D), args.n, p=0.1, n_stats=args.n_stats, device=tr.device, progress=True
    )
    result["rejection"] = {k: res.summary()[k] for k in ("n", "acceptance_rate", "accepted_per_s", "wall_s")}
    result["rejection"]["n_stats"] = args.n_stats
    print(json.dumps(result, indent=2))
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_gold.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
