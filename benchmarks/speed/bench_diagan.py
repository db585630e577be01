"""Dia-GAN's LDR recording cost as a share of phase-1 training time, at the CIFAR-10 paper config.

Paper config (Table 2): SNGAN 32 (ngf 256, ndf 128), batch 64, n_dis 5, N = 50,000 training images, one LDR
record (a D forward over the whole training set, eval mode, no grad) every 100 steps over the 50 records of
[35k, 40k) of a 40k-step phase 1. The script times real trainer steps and one real record of ``--n-record`` images
through the Dia-GAN method on the same backbone, then extrapolates the record to N images (recording is linear in
N) and reports

- ``window_overhead_pct``: recording time / training time while the window is recorded (1 record per 100 steps);
- ``phase1_overhead_pct``: the 50 records / the whole 40k-step phase 1 (the paper schedule).

The goal is <= 15 %. Smoke size by default (a few steps, 512 images) so it runs on a CPU; ``--device cuda``
on a GPU (recording then uses bfloat16 autocast).

    python benchmarks/speed/bench_diagan.py [--steps 3] [--n-record 512] [--threads 2] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed training steps (after one warm-up step)")
    parser.add_argument("--n-record", type=int, default=512, help="images in the timed LDR record")
    parser.add_argument("--eval-batch-size", type=int, default=512)
    parser.add_argument("--n-data", type=int, default=50000, help="training-set size to extrapolate to (CIFAR-10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads on CPU (0 = leave the default)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default="runs/bench")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from accelerate import Accelerator

    from ganlab.core.data import get_dataset
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.core.train.trainer import Trainer
    from ganlab.diagan.method import DiaGAN, DiaGANOptions

    cfg = ExperimentConfig()
    cfg.name, cfg.out_dir = "bench_diagan", str(Path(args.out) / "bench_diagan_run")
    cfg.model.backbone = "sngan32_cifar"
    cfg.optim.betas, cfg.optim.n_dis, cfg.optim.lr_decay = (0.0, 0.9), 5, "linear"
    cfg.train.steps, cfg.train.batch_size = 40000, 64
    cfg.train.log_every = cfg.train.sample_every = cfg.train.checkpoint_every = 0
    cfg.train.progress, cfg.train.tensorboard = False, False
    # CIFAR-10 needs a download: the 3-channel 32x32 Colored MNIST has the same image size (costs are per image)
    ds = get_dataset("colored_mnist", resolution=32, num_data=args.n_record, rho=0.9)
    opts = DiaGANOptions(phase1_steps=40000, k=0.3, eval_batch_size=args.eval_batch_size)
    method = DiaGAN(opts)
    accelerator = Accelerator(cpu=args.device == "cpu") if args.device else None
    trainer = Trainer(cfg, method, run_dir=cfg.out_dir, dataset=ds, accelerator=accelerator)
    device = trainer.device
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)

    trainer.train_step()  # warm-up
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    sync()
    step_s = (time.perf_counter() - t0) / args.steps

    method.record(trainer)  # warm-up
    trainer.step += 1  # records must come at increasing steps
    sync()
    t0 = time.perf_counter()
    method.record(trainer)
    sync()
    record_s = time.perf_counter() - t0
    record_full_s = record_s * args.n_data / len(ds)

    window_pct = 100.0 * record_full_s / (opts.record_every * step_s)
    n_records = opts.window
    phase1_pct = 100.0 * n_records * record_full_s / (opts.phase1_steps * step_s)
    result = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "step_s": step_s,
        "record_s_measured": record_s,
        "record_images_measured": len(ds),
        "record_s_at_n_data": record_full_s,
        "n_data": args.n_data,
        "window_overhead_pct": window_pct,
        "phase1_overhead_pct": phase1_pct,
        "goal_pct": 15.0,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_diagan.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
