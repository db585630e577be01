"""The Instance Selection reproductions that are not arms x seeds tables: Figure 2 (per-class density against
per-class FID), Figure 12 (one class's data manifold, kept data and samples in one 2-D map) and the Spearman
correlations between the scoring functions. Their generators train through the core harness all the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.metrics.fid import fid_from_features
from ganlab.core.train.config import ExperimentConfig
from ganlab.instance_selection.api import SelectionConfig
from ganlab.instance_selection.context import Context
from ganlab.instance_selection.evaluate import fake_source, prdc_metrics
from ganlab.instance_selection.figures import density_fid_scatter


def scorer_correlations(ctx: Context) -> list[dict[str, Any]]:
    """Spearman rank correlation between the per-instance Gaussian, PPCA and KNN scores (per class, pooled)."""
    from scipy.stats import spearmanr

    from ganlab.instance_selection.api import dataset_labels
    from ganlab.instance_selection.scoring import class_groups, score_instances

    base = from_dict(SelectionConfig, {**ctx.cfg.selection}, where="selection")
    feats = ctx.embedding(base.embedding, base.embedding_options)
    labels = dataset_labels(ctx.dataset, base.per_class)
    scores = {}
    for name in ("gaussian", "ppca", "knn"):
        cfg = from_dict(SelectionConfig, {**ctx.cfg.selection, "scorer": name}, where="selection")
        scores[name] = score_instances(feats, labels, cfg.scorer_config(), device=ctx.device)
    out = []
    names = list(scores)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            # within-class ranks are what per-class selection uses: average the per-class coefficients
            per_class = [spearmanr(scores[a][idx], scores[b][idx])[0] for _, idx in class_groups(labels, len(feats))]
            out.append({"arm": f"spearman {a} vs {b}", "spearman_within_class": float(np.mean(per_class))})
    return out


def load_generator(path: str | Path, device: Any = "cpu") -> tuple[torch.nn.Module, ExperimentConfig]:
    """A generator exported by ``Trainer.export_generator`` (config + G_ema weights)."""
    from ganlab.core.errors import CheckpointError
    from ganlab.core.nn import build_backbone

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"generator file {path} not found; train one with `ganlab train` (it writes G_ema.pt) and pass its path"
        )
    payload = torch.load(str(path), map_location="cpu", weights_only=False)
    cfg = from_dict(ExperimentConfig, payload["config"], where=str(path))
    G, _ = build_backbone(cfg.model.backbone, **cfg.model.options)
    G.load_state_dict(payload["G"])
    return G.to(device).eval(), cfg


def run_density_vs_fid(h: Any, ctx: Context, standin: Any) -> list[dict[str, Any]]:
    """Figure 2: per class, density of the real class manifold (x) against the class FID of a conditional G (y);
    without ``generator``, the G is trained here on the full data as arm ``standin``."""
    from scipy.stats import pearsonr, spearmanr

    from ganlab.core.features import extract_features
    from ganlab.instance_selection.scoring import score_instances

    cfg, ds = ctx.cfg, ctx.dataset
    if not ds.num_classes:
        raise ConfigError("Figure 2 needs a labelled dataset and a class-conditional generator")
    if cfg.generator is not None:
        G, _ = load_generator(cfg.generator, ctx.device)
        z_dim, num_classes = G.z_dim, G.num_classes
    else:  # stand-in: a class-conditional GAN trained here on the configured data
        trainer = h.train(standin, cfg.seeds[0])
        G, z_dim, num_classes = trainer.G_ema.eval(), trainer.z_dim, trainer.num_classes
    if num_classes != ds.num_classes:
        raise ConfigError(f"the generator has {num_classes} classes but the dataset has {ds.num_classes}")
    sel_cfg = from_dict(SelectionConfig, {**cfg.selection}, where="selection")
    emb = ctx.embedding(sel_cfg.embedding, sel_cfg.embedding_options)
    real_eval = ctx.real_features
    rng = np.random.default_rng(cfg.seeds[0])
    classes = np.unique(ds.labels)
    if cfg.max_classes is not None:
        classes = classes[: cfg.max_classes]
    records = []
    for c in classes:
        idx = np.flatnonzero(ds.labels == c)
        idx = np.sort(rng.choice(idx, size=min(cfg.samples_per_class, len(idx)), replace=False))
        rec: dict[str, Any] = {"class": int(c), "n_real": len(idx)}
        for name in cfg.scorers:
            s_cfg = from_dict(SelectionConfig, {**cfg.selection, "scorer": name}, where="selection")
            s = score_instances(emb[idx], None, s_cfg.scorer_config(), device=ctx.device)
            rec[f"density_{name}"] = float(-s.mean())  # lower = denser, as Figure 2's x axis
        fn = fake_source(G, num_classes=num_classes, z_dim=z_dim, device=ctx.device, seed=int(c), labels=int(c))
        fake = extract_features(ctx.extractor, fn, n=len(idx), batch_size=cfg.protocol.batch_size, progress=False)
        rec["fid"] = float(fid_from_features(real_eval[idx], fake))
        records.append(rec)
    per_class = list(records)
    fids = [r["fid"] for r in per_class]
    for name in cfg.scorers:
        xs = [r[f"density_{name}"] for r in per_class]
        records.append(
            {
                "class": f"correlation ({name})",
                "pearson": float(pearsonr(xs, fids)[0]) if len(xs) > 2 else float("nan"),
                "spearman": float(spearmanr(xs, fids)[0]) if len(xs) > 2 else float("nan"),
            }
        )
    density_fid_scatter(records, cfg.scorers, h.run_dir.path / "figure2_density_vs_fid.png")
    return records


def run_manifold(h: Any, ctx: Context, selections: dict[str, Any]) -> list[dict[str, Any]]:
    """Figure 12: one class's full data, kept data and class-conditional samples of both GANs in one 2-D map."""
    from ganlab.core.features import extract_features
    from ganlab.instance_selection.figures import manifold_figure

    cfg, ds = ctx.cfg, ctx.dataset
    c = cfg.manifold_class
    if ds.num_classes and c not in set(np.unique(ds.labels).tolist()):
        raise ConfigError(f"manifold_class {c} is not a class of the dataset")
    members = np.flatnonzero(ds.labels == c) if ds.num_classes else np.arange(len(ds))
    real = ctx.real_features
    panels: dict[str, np.ndarray] = {"(a) full data": real[members]}
    for arm in cfg.arms:
        if selections[arm.name] is not None:
            kept = np.intersect1d(selections[arm.name].indices, members)
            panels[f"(b) kept by {arm.name}"] = real[kept]
    records = []
    for arm in cfg.arms:
        trainer = h.train(arm, cfg.seeds[0])
        fn = fake_source(
            trainer.G_ema.eval(),
            num_classes=trainer.num_classes,
            z_dim=trainer.z_dim,
            device=ctx.device,
            seed=c,
            labels=c if trainer.num_classes else None,
        )
        fake = extract_features(
            ctx.extractor, fn, n=cfg.manifold_samples, batch_size=cfg.protocol.batch_size, progress=False
        )
        panels[f"samples, GAN on {arm.name}"] = fake
        n = min(len(members), len(fake))
        rec = {"arm": arm.name, "class": c, "n_class": len(members)}
        rec.update(prdc_metrics(real[members][:n], fake[:n], k=cfg.protocol.prdc.k))
        records.append(rec)
    manifold_figure(panels, real[members], h.run_dir.path / "figure12_manifold.png", cfg.projection)
    return records
