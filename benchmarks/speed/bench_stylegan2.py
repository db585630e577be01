"""StyleGAN2 training throughput: the 32-px preset with its recipe (lazy R1 every 16 D steps, lazy path length every
4 G steps, style mixing 0.9) vs the same model without the regularisers, through core's trainer; then a
torch.profiler table of where a step goes (operators by self time).

    python benchmarks/speed/bench_stylegan2.py [--steps 32] [--rounds 3] [--batch 16] [--profile-steps 8]

On CUDA it also times fp16 autocast (train.mixed_precision) and channels_last inputs. Writes
runs/bench/bench_stylegan2.json and runs/bench/bench_stylegan2_profile.txt; prints img/s (real images per second).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

RECIPE = {"r1_gamma": 0.0064, "r1_interval": 16, "pl_weight": 2.0, "pl_interval": 4, "style_mixing": 0.9}
PLAIN = {"r1_gamma": 0.0, "pl_weight": 0.0, "style_mixing": 0.0}


def _dataset(n: int = 512):
    from ganlab.core.data.base import TensorDataset

    images = torch.randint(0, 256, (n, 1, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    return TensorDataset("bench32", images, np.zeros(n, dtype=np.int64), num_classes=0, identity={"bench": 32})


def _trainer(options: dict, batch: int, out: str, mixed: str = "no"):
    from ganlab.core.train import Trainer
    from ganlab.core.train.config import ExperimentConfig, MethodConfig

    cfg = ExperimentConfig(name="bench", out_dir=out)
    cfg.model.backbone, cfg.model.options = "stylegan2_32_cpu", {"channels": 1}
    cfg.loss.name = "ns"
    cfg.ema.enabled = True
    cfg.optim.g_lr = cfg.optim.d_lr = 2.5e-3
    cfg.optim.betas = (0.0, 0.99)
    cfg.method = MethodConfig(name="stylegan2", options={**options, "ema_kimg": 10.0})
    cfg.train.batch_size, cfg.train.steps, cfg.train.mixed_precision = batch, 10**9, mixed
    cfg.train.progress = cfg.train.tensorboard = False
    cfg.train.log_every = cfg.train.sample_every = cfg.train.checkpoint_every = 0
    return Trainer(cfg, dataset=_dataset())


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def img_per_s(trainer, batch: int, steps: int) -> float:
    """Real images per second over ``steps`` G steps (a multiple of 16 includes every lazy regulariser step)."""
    _sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    _sync()
    return steps * batch / (time.perf_counter() - t0)


def profile(trainer, steps: int) -> str:
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=acts) as prof:
        for _ in range(steps):
            trainer.train_step()
    key = "self_cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=20, max_name_column_width=48)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--profile-steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--out", default="runs/bench")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    modes = [("no", False)] + ([("fp16", False), ("fp16", True)] if torch.cuda.is_available() else [])
    results: dict = {"batch": args.batch, "steps": args.steps, "threads": torch.get_num_threads(), "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for mixed, channels_last in modes:
            trainers = {}
            for name, opts in (("recipe", RECIPE), ("no_regularisers", PLAIN)):
                t = _trainer(opts, args.batch, f"{tmp}/{name}_{mixed}_{channels_last}", mixed)
                if channels_last:
                    for m in (t.unwrap(t.G), t.unwrap(t.D)):
                        m.to(memory_format=torch.channels_last)
                for _ in range(2):
                    t.train_step()
                trainers[name] = t
            speeds = {name: [] for name in trainers}
            for _ in range(args.rounds):  # interleaved: a shared machine slows both alike
                for name, t in trainers.items():
                    speeds[name].append(img_per_s(t, args.batch, args.steps))
            row = {"mixed_precision": mixed, "channels_last": channels_last}
            row.update({name: statistics.median(v) for name, v in speeds.items()})
            row["ratio"] = row["recipe"] / row["no_regularisers"]
            results["rows"].append(row)
            print(
                f"mixed_precision={mixed:4s} channels_last={channels_last!s:5s}  recipe {row['recipe']:7.1f} img/s  "
                f"no regularisers {row['no_regularisers']:7.1f} img/s  ratio {row['ratio']:.2f}"
            )
        table = profile(trainers["recipe"] if not torch.cuda.is_available() else trainers["recipe"], args.profile_steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_stylegan2_profile.txt").write_text(table)
    (out / "bench_stylegan2.json").write_text(json.dumps(results, indent=2))
    print(table)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
