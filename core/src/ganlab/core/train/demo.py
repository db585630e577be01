"""``ganlab demo``: train a small DCGAN on the bundled 5,000 MNIST digits on CPU and evaluate it.

The run directory holds the config, metrics.jsonl (losses every few steps), fixed-z sample grids, checkpoints, a
final grid of G_ema and results.json/csv + summary.md with FID and precision/recall/density/coverage. No network is
downloaded, so the features come from a *randomly initialised* LeNet (``random:lenet``): the numbers compare runs on
this data with each other (and with the real-vs-real floor and the untrained generator printed beside them); they are
not comparable with published Inception FIDs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.images import images_to_png
from ganlab.core.results import RunDir, atomic_write_bytes

DEMO_EXTRACTOR = "random:lenet"


def _features(extractor, images: torch.Tensor) -> np.ndarray:
    from ganlab.core.features import extract_features

    return extract_features(extractor, images, batch_size=256, progress=False)


def _metrics(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """FID and, when available, PRDC (k=5) on two feature sets."""
    from ganlab.core.metrics.fid import fid_from_features

    out = {"fid": fid_from_features(real, fake)}
    try:
        from ganlab.core.metrics.prdc import prdc
    except ImportError:  # the PRDC module is optional for the demo
        return out
    out.update({k: float(v) for k, v in prdc(real, fake, k=5).items()})
    return out


@torch.no_grad()
def _generate(G: torch.nn.Module, n: int, seed: int, device: torch.device) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    was = G.training
    G.eval()
    parts = []
    for i in range(0, n, 250):
        z = torch.randn(min(250, n - i), G.z_dim, generator=gen).to(device)
        parts.append(G(z).float().cpu())
    G.train(was)
    return torch.cat(parts)


def run_demo(out_dir: str | Path = "runs", overrides: list[str] = (), n_eval: int = 2000) -> RunDir:
    """Train the ``demo`` config into ``out_dir/demo`` and write its evaluation tables; returns the run directory.

    Re-running it continues an unfinished run from its checkpoint and leaves a finished, evaluated one as it is.
    """
    from ganlab.core.features import get_extractor
    from ganlab.core.train.checkpoint import list_checkpoints, step_of
    from ganlab.core.train.config import load_experiment
    from ganlab.core.train.trainer import Trainer

    cfg = load_experiment("demo", list(overrides))
    cfg.out_dir = str(out_dir)
    run = RunDir(Path(out_dir) / cfg.name)
    done = list_checkpoints(run.checkpoints)
    if done and step_of(done[-1]) >= cfg.train.steps and (run.path / "results.json").is_file():
        return run
    from ganlab.core.train.build import build_models
    from ganlab.core.train.seeding import seed_everything

    seed_everything(cfg.seed)
    G0, _ = build_models(cfg)  # the initial weights (the trainer seeds the same way), for the "untrained" row
    trainer = Trainer(cfg, run_dir=run, resume="auto")
    device = trainer.device
    untrained = _generate(G0.to(device), n_eval, seed=cfg.seed + 1, device=device)

    t0 = time.perf_counter()
    summary = trainer.fit()
    train_s = time.perf_counter() - t0
    trainer.export_generator()
    if not trainer.is_main:
        return run

    final = _generate(trainer.G_ema, n_eval, seed=cfg.seed + 1, device=device)
    atomic_write_bytes(run.path / "final_grid.png", images_to_png(final[:64]))

    ds = trainer.dataset
    n_eval = min(n_eval, len(ds) // 2)
    perm = np.random.default_rng(cfg.seed).permutation(len(ds))
    real_a = ds.get_batch(perm[:n_eval])["image"]
    real_b = ds.get_batch(perm[n_eval : 2 * n_eval])["image"]
    extractor = get_extractor(DEMO_EXTRACTOR, in_channels=real_a.shape[1], seed=0)
    f_real = _features(extractor, real_a)
    rows: list[dict[str, Any]] = []
    protocol = {
        "extractor": f"{DEMO_EXTRACTOR} (random weights, seed 0; not Inception)",
        "n_real": n_eval,
        "n_fake": n_eval,
        "k": 5,
    }
    for label, images in (
        ("real vs real (floor)", real_b),
        ("untrained G", untrained[:n_eval]),
        (f"G_ema after {trainer.step} steps", final[:n_eval]),
    ):
        values = _metrics(f_real, _features(extractor, images))
        rows.append({"model": label, **{k: round(v, 4) for k, v in values.items()}, **protocol})
        for metric, value in values.items():
            run.log_metrics({"step": trainer.step, "metric": metric, "value": value, "model": label, **protocol})
    rows.append(
        {
            "model": "training",
            "steps": trainer.step,
            "train_s": round(train_s, 1),
            "img_per_s": round(summary["img_per_s"], 1),
        }
    )
    run.write_results(rows, title=f"ganlab demo: DCGAN on {cfg.data.name} ({trainer.step} steps, CPU-sized)")
    return run
