"""A 2-D mini experiment where instance selection's effect is cheap to see (issue 11): 8 tight Gaussian modes on a
ring plus a broad low-density halo of outliers. The points are their own embedding and evaluation features, the
scorer is the per-class Gaussian likelihood of the paper (class = nearest mode), and a toy MLP GAN trains on the full
data, a uniform subset or the selected subset. P/R/D/C (K = 5) and the 2-D Fréchet distance are measured against
the FULL data, as the paper evaluates. The paper's direction: precision and density up, recall down.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch

from ganlab.core.data.base import TensorDataset, check_split
from ganlab.core.data.registry import register_dataset
from ganlab.core.results import RunDir, atomic_write_text, records_to_csv

NAME = "ring8_outliers"


@register_dataset(NAME)
def ring8_outliers(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    n: int = 4000,
    radius: float = 2.0,
    sigma: float = 0.1,
    outlier_fraction: float = 0.1,
    outlier_sigma: float = 1.5,
    seed: int = 0,
) -> TensorDataset:
    """8 Gaussians (std ``sigma``) on a circle of ``radius`` plus ``outlier_fraction`` of points from N(0,
    ``outlier_sigma``² I); label = the nearest mode, group 1 = outlier."""
    check_split(NAME, split, ("train",))
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(8) / 8
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    n_out = int(round(n * outlier_fraction))
    modes = rng.integers(0, 8, n - n_out)
    inliers = centers[modes] + sigma * rng.standard_normal((n - n_out, 2))
    outliers = outlier_sigma * rng.standard_normal((n_out, 2))
    points = np.concatenate([inliers, outliers])
    labels = np.argmin(((points[:, None] - centers[None]) ** 2).sum(-1), 1)
    groups = np.r_[np.zeros(n - n_out, np.int64), np.ones(n_out, np.int64)]
    perm = rng.permutation(n)
    identity = {"name": NAME, "n": n, "sigma": sigma, "outliers": outlier_fraction, "seed": seed}
    ds = TensorDataset(
        NAME,
        torch.from_numpy(points[perm].astype(np.float32)),
        labels[perm],
        num_classes=8,
        identity=identity,
        groups=groups[perm],
    )
    ds.centers, ds.sigma = centers, float(sigma)
    return ds


def frechet_2d(a: np.ndarray, b: np.ndarray) -> float:
    from ganlab.core.metrics.fid import fid_from_features

    return float(fid_from_features(a.astype(np.float64), b.astype(np.float64)))


def run_toy2d(proto: Any, run_cfg: Any, run_dir: RunDir) -> list[dict[str, Any]]:
    """Every arm x seed: select on the points, train the toy GAN, evaluate against the full data."""
    from ganlab.core.config import from_dict
    from ganlab.core.data import get_dataset
    from ganlab.core.metrics.prdc import prdc
    from ganlab.core.train import Trainer
    from ganlab.instance_selection.api import UNIFORM, SelectionConfig, select_instances
    from ganlab.instance_selection.arms import arm_run_config, mean_std
    from ganlab.instance_selection.methods import InstanceSelection

    d = run_cfg.data
    ds = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    points = ds.get_batch(np.arange(len(ds)))["image"].numpy()
    outlier = np.asarray(ds.groups) == 1
    per_seed = []
    for seed in proto.seeds:
        for arm in proto.arms:
            t0 = time.time()
            sel = None
            if arm.scorer != "none":
                base = {**proto.selection, "scorer": arm.scorer, "retention_ratio": arm.retention_ratio}
                if arm.per_class is not None:
                    base["per_class"] = arm.per_class
                cfg_sel = from_dict(SelectionConfig, {**base, "seed": seed}, where=f"arm {arm.name}")
                sel = select_instances(ds, cfg_sel, features=None if arm.scorer == UNIFORM else points)
            cfg = arm_run_config(run_cfg, arm)
            cfg.seed, cfg.name, cfg.train.progress = seed, f"{arm.name}_seed{seed}", False
            method = InstanceSelection(selection=sel) if sel is not None else None
            if sel is not None:
                cfg.method.name = "instance_selection"
                cfg.method.options = {"index_file": str(sel.save(run_dir.path / "indices" / f"{cfg.name}.npz"))}
            trainer = Trainer(copy.deepcopy(cfg), method, run_dir=run_dir.path / "runs" / cfg.name, dataset=ds)
            trainer.fit()
            G = trainer.G_ema.eval()
            gen = torch.Generator().manual_seed(10_000 + seed)
            with torch.no_grad():
                fake = G(torch.randn(proto.n_fake, trainer.z_dim, generator=gen)).float().numpy()
            kept = sel.indices if sel is not None else np.arange(len(ds))
            rec = {
                "arm": arm.name,
                "scorer": arm.scorer,
                "retention_ratio": arm.retention_ratio,
                "kept": len(kept),
                "kept_outlier_fraction": float(outlier[kept].mean()),
                "seed": seed,
                "fid": frechet_2d(points, fake),
                **prdc(points, fake, k=proto.k),
                "wall_s": time.time() - t0,
            }
            per_seed.append(rec)
            run_dir.log_metrics({"event": "arm_result", **rec})
    atomic_write_text(run_dir.path / "per_seed.csv", records_to_csv(per_seed))
    out = []
    for arm in proto.arms:
        rows = [r for r in per_seed if r["arm"] == arm.name]
        keys = ("fid", "precision", "recall", "density", "coverage", "kept_outlier_fraction", "wall_s")
        out.append({"arm": arm.name, "kept": rows[0]["kept"], "seeds": len(rows), **mean_std(rows, keys)})
    return out
