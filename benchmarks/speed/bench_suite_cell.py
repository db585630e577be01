"""Where a suite cell's wall time goes, and the trainer's cost against a plain PyTorch loop.

Part 1 runs cells of a suite (default: the ``demo`` suite's ``mnist`` setting) in a temporary folder and splits
each cell's wall time into training (the trainer's steps), checkpoints (``save_checkpoint``), evaluation (sampling,
features, FID, P/R/D/C), classifier training (the classifier-on-synthetic accuracy; and, once per setting, the
in-domain evaluator) and the rest of the cell (config, building the models, sheets); start-up is the time a fresh
worker process takes to import torch and the suite code, paid once per worker.

Part 2 times the trainer's step against a plain loop on the same models and data (one D and one G step, NS loss,
Adam, data in memory; the plain loop indexes a tensor), interleaved over rounds, median of each, on the suite's
MLP (``mlp_image``, 28 px) and SNGAN-32. The trainer's ratio must stay within 1.15x on the MLP and 1.05x on SNGAN.

    python benchmarks/speed/bench_suite_cell.py [--suite demo] [--setting mnist] [--methods vanilla,diagan]
        [--steps N] [--ratio-steps 300] [--rounds 3] [--skip-cells] [--skip-ratio]

Writes runs/bench/bench_suite_cell.json and prints both tables. One thread (OMP_NUM_THREADS=1 as the suite's
workers). On a shared machine the absolute times inflate; the split and the ratios hold better than they do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

PARTS = ("training", "checkpoints", "evaluation", "classifier training", "rest of the cell")
RATIO_MODELS = [  # (name, backbone, options, data shape, batch, limit, share of --ratio-steps)
    ("demo MLP", "mlp_image", {"resolution": 28, "channels": 1, "z_dim": 64, "width": 128}, (1, 28, 28), 64, 1.15, 1),
    ("SNGAN-32", "sngan", {"resolution": 32, "channels": 3, "ngf": 32, "ndf": 32}, (3, 32, 32), 64, 1.05, 0.1),
]


class Timers:
    """Wall time per label, from functions patched to report into it (nested labels are subtracted)."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    @contextlib.contextmanager
    def span(self, label: str):
        self._stack.append([0.0])
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            inner = self._stack.pop()[0]
            self.total[label] += dt - inner
            if self._stack:
                self._stack[-1][0] += dt

    def wrap(self, owner, attr: str, label: str):
        original = getattr(owner, attr)

        def wrapped(*args, **kwargs):
            with self.span(label):
                return original(*args, **kwargs)

        setattr(owner, attr, wrapped)
        return original


def startup_s() -> float:
    """Seconds a fresh Python process takes to import what a suite worker imports."""
    code = "import torch, ganlab.benchmarks.cells, ganlab.benchmarks.method_parts, ganlab.core.train.trainer"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def split_cells(suite_name: str, setting: str, methods: list[str], overrides: list[str]) -> dict:
    """Run ``methods`` (seed 0) of ``setting`` and return each cell's wall time split into PARTS."""
    import ganlab.benchmarks.cells as cells
    import ganlab.core.features.indomain as indomain
    import ganlab.core.metrics.capacity as capacity
    from ganlab.benchmarks.protocol import SettingContext
    from ganlab.benchmarks.suite import load_suite
    from ganlab.core.train.trainer import Trainer

    suite = load_suite(suite_name, overrides, methods=methods, seeds=1)
    suite.settings = {setting: suite.settings[setting]}
    timers = Timers()
    timers.wrap(Trainer, "fit", "training")
    timers.wrap(Trainer, "save_checkpoint", "checkpoints")
    timers.wrap(cells.Cell, "sample", "evaluation")
    timers.wrap(cells, "evaluate_samples", "evaluation")
    timers.wrap(capacity, "fitting_capacity", "classifier training")
    timers.wrap(indomain, "train_classifier_on_dataset", "evaluator training")
    out: dict = {"suite": suite_name, "setting": setting, "overrides": overrides, "cells": []}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = SettingContext(suite, setting, tmp)
        t0 = time.perf_counter()
        ctx.prepare()
        out["prepare_s"] = time.perf_counter() - t0
        out["evaluator_training_s"] = timers.total.pop("evaluator training", 0.0)
        for method in suite.methods:
            if setting not in suite.settings_of(method):
                continue
            timers.total.clear()
            cell = cells.Cell(suite, setting, method, suite.seeds[0], tmp, ctx=ctx)
            with timers.span("rest of the cell"):
                record = cells.run_cell(cell)
            parts = {k: round(timers.total.get(k, 0.0), 3) for k in PARTS}
            wall = sum(parts.values())
            out["cells"].append({"method": method, "status": record["status"], "wall_s": round(wall, 3), **parts})
            print(
                f"{method:22s} {wall:7.1f} s  "
                + "  ".join(f"{k} {parts[k]:6.1f} ({parts[k] / max(wall, 1e-9):4.0%})" for k in PARTS),
                flush=True,
            )
    return out


def _plain_loop(G, D, images, batch):
    import torch.nn.functional as F

    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step():
        real = images[torch.randint(0, len(images), (batch,))]
        z = torch.randn(batch, G.z_dim)
        with torch.no_grad():
            fake = G(z)
        d_loss = F.softplus(-D(real)["adv"]).mean() + F.softplus(D(fake)["adv"]).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(torch.randn(batch, G.z_dim)))["adv"]).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d_loss.item(), g_loss.item()  # a loop that logs reads its losses

    return step


def _trainer(backbone, options, dataset, batch, tmp):
    from ganlab.core.nn import build_backbone
    from ganlab.core.train import Trainer
    from ganlab.core.train.config import ExperimentConfig

    cfg = ExperimentConfig(name="bench", out_dir=tmp)
    cfg.model.backbone, cfg.model.options = backbone, dict(options)
    cfg.train.batch_size, cfg.train.steps = batch, 10**9
    cfg.train.progress = cfg.train.tensorboard = False
    cfg.train.sample_every = cfg.train.checkpoint_every = 0
    cfg.train.log_every = 100  # the suite logs every 100 steps: its cost is part of the trainer's
    cfg.optim.betas = (0.5, 0.999)
    trainer = Trainer(cfg, dataset=dataset, models=lambda: build_backbone(backbone, **options))
    return trainer.train_step


def _time(step, steps: int) -> float:
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def ratios(steps: int, rounds: int) -> list[dict]:
    """Trainer and plain-loop seconds per step, interleaved ``rounds`` times; the medians and their ratio."""
    import numpy as np

    from ganlab.core.data.base import TensorDataset
    from ganlab.core.nn import build_backbone

    rows = []
    for name, backbone, options, shape, batch, limit, share in RATIO_MODELS:
        n = max(5, round(steps * share))
        g = torch.Generator().manual_seed(0)
        raw = torch.randint(0, 256, (1024, *shape), generator=g, dtype=torch.uint8)
        ds = TensorDataset("bench", raw, np.zeros(len(raw), dtype=np.int64), num_classes=0, identity={"b": 1})
        images = ds.get_batch(np.arange(len(ds)))["image"]
        trainer_s, plain_s = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(rounds):
                for side in ("plain", "trainer") if r % 2 == 0 else ("trainer", "plain"):  # alternate who goes first
                    torch.manual_seed(r)
                    if side == "plain":
                        G, D = build_backbone(backbone, **options)
                        plain_s.append(_time(_plain_loop(G, D, images, batch), n))
                    else:
                        trainer_s.append(_time(_trainer(backbone, options, ds, batch, f"{tmp}/{r}"), n))
        t, p = statistics.median(trainer_s), statistics.median(plain_s)
        row = {"model": name, "backbone": backbone, "batch": batch, "steps": n, "rounds": rounds,
               "trainer_ms": round(1e3 * t, 2), "plain_ms": round(1e3 * p, 2), "ratio": round(t / p, 3),
               "limit": limit, "ok": t / p <= limit}  # fmt: skip
        rows.append(row)
        print(f"{name:10s} trainer {1e3 * t:7.2f} ms/step  plain {1e3 * p:7.2f} ms/step  ratio {t / p:.3f} "
              f"(limit {limit})", flush=True)  # fmt: skip
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="demo")
    parser.add_argument("--setting", default="mnist")
    parser.add_argument("--methods", default="vanilla,diagan,acgan,gold_rejection,multigan2")
    parser.add_argument("--steps", type=int, default=0, help="override train.steps of the cells (0: the suite's)")
    parser.add_argument("--ratio-steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-cells", action="store_true")
    parser.add_argument("--skip-ratio", action="store_true")
    parser.add_argument("--out", default="runs/bench/bench_suite_cell.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    info: dict = {"torch": torch.__version__, "threads": 1}
    if not args.skip_cells:
        info["startup_s"] = round(startup_s(), 3)
        print(f"start-up of a worker process: {info['startup_s']:.1f} s", flush=True)
        overrides = [f"train.steps={args.steps}"] if args.steps else []
        info["split"] = split_cells(args.suite, args.setting, args.methods.split(","), overrides)
        print(f"in-domain evaluator (once per setting): {info['split']['evaluator_training_s']:.1f} s", flush=True)
    if not args.skip_ratio:
        info["ratio"] = ratios(args.ratio_steps, args.rounds)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
