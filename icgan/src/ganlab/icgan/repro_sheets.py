"""Figure 1 of the reproductions: instance sheets, class / instance swaps (cc-IC-GAN) and transfer sheets of one
trained arm, with the in-domain classifier's agreement between a conditioning image and its sample.

Transfer: another dataset's images (``experiment.transfer``) embedded with the arm's own feature extractor condition
G; the sheet shows each image then its samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab.core.results import RunDir, atomic_write_bytes
from ganlab.icgan.repro_eval import Context, Trained, logits_of, sample_fn


def figure1_record(ctx: Context, run: Trained, run_dir: RunDir, arm: str, seed: int) -> dict[str, Any]:
    """One (arm, seed) of Figure 1: the sheets written under ``samples/`` and the agreement numbers."""
    from ganlab.icgan.generate import class_swap_sheet, images_png, instance_sheet
    from ganlab.icgan.instances import select_instances

    p = ctx.cfg.experiment
    m, ds, device = run.method, run.trainer.dataset, run.trainer.device
    labels_all = np.asarray(ds.labels) if m.class_conditional else None
    n = min(int(p.sheet_rows), len(m.features))
    stored = select_instances(
        m.features, n, method="kmeans", seed=1234, neighbourhoods=m.neighbourhoods, labels=labels_all
    )
    feats = torch.from_numpy(stored.features)
    labels = torch.from_numpy(stored.neighbour_labels[:, 0]) if stored.neighbour_labels is not None else None
    images = ds.get_batch(stored.indices)["image"]
    tag = f"{arm}_seed{seed}"

    def write(name: str, sheet: torch.Tensor, per_row: int) -> str:
        atomic_write_bytes(run_dir.samples / f"{tag}_{name}.png", images_png(sheet, per_row))
        return f"samples/{tag}_{name}.png"

    sheet = instance_sheet(run.G, feats, images, p.per_instance, labels=labels, seed=seed, device=device)
    rec: dict[str, Any] = {"sheet": write("instances", sheet, 1 + p.per_instance)}
    if m.class_conditional and p.swap_classes:
        swap = class_swap_sheet(run.G, feats, p.swap_classes, seed=seed, device=device)
        rec["class_swap_sheet"] = write("class_swap", swap, len(p.swap_classes))
        fixed = torch.full((len(stored),), int(p.swap_classes[0]))  # one class for every row, the instances change
        inst = instance_sheet(run.G, feats, images, p.per_instance, labels=fixed, seed=seed, device=device)
        rec["instance_swap_sheet"] = write("instance_swap", inst, 1 + p.per_instance)
    idx = np.sort(np.random.default_rng(seed).permutation(len(ds))[: p.transfer_n])
    rec.update(agreement(ctx, run, ds, idx, "train"))
    if p.transfer:
        rec.update(transfer(ctx, run, run_dir, tag, seed))
    return rec


def agreement(
    ctx: Context, run: Trained, images_ds: Any, idx: np.ndarray, tag: str, features: torch.Tensor | None = None
) -> dict[str, float]:
    """How often the in-domain classifier gives a sample the class it gives its conditioning image."""
    from ganlab.icgan.generate import conditioned_samples

    if not getattr(images_ds, "num_classes", 0):
        return {}
    ext = logits_of(ctx).to(ctx.device)
    images = images_ds.get_batch(idx)["image"]
    if features is None:
        features = run.method.features.get(idx)
    labels = torch.from_numpy(np.asarray(images_ds.labels)[idx]) if run.method.class_conditional else None
    samples = conditioned_samples(run.G, features, 1, labels=labels, seed=0, device=ctx.device)
    with torch.no_grad():
        pred_inst = ext(images.to(ctx.device)).argmax(1).cpu()
        pred_fake = ext(samples.to(ctx.device)).argmax(1).cpu()
        truth = torch.as_tensor(np.asarray(images_ds.labels)[idx])
    return {
        f"{tag}_sample_class_agreement": float((pred_inst == pred_fake).float().mean()),
        f"{tag}_instance_classifier_acc": float((pred_inst == truth).float().mean()),
        f"{tag}_sample_matches_instance_label": float((pred_fake == truth).float().mean()),
    }


def transfer(ctx: Context, run: Trained, run_dir: RunDir, tag: str, seed: int) -> dict[str, Any]:
    """Condition on another dataset's images (embedded with the run's extractor): sheet and class agreement."""
    from ganlab.core.data import get_dataset
    from ganlab.icgan.features import extractor_of
    from ganlab.icgan.generate import images_png, instance_sheet
    from ganlab.icgan.transfer import transfer_instances

    p = ctx.cfg.experiment
    t = dict(p.transfer or {})
    ds = get_dataset(
        t.pop("name"), root=t.pop("root", None), resolution=t.pop("resolution", None), **t.pop("options", {})
    )
    m = run.method
    n = min(p.transfer_n, len(ds))
    idx = np.random.default_rng(seed).permutation(len(ds))[:n]
    images = ds.get_batch(idx)["image"]
    stored = transfer_instances(images, extractor_of(m.features), source=ds.name, device=ctx.device)
    rows = min(p.sheet_rows, n)
    labels = torch.as_tensor(np.asarray(ds.labels)[idx[:rows]]) if m.class_conditional else None
    feats = torch.from_numpy(stored.features[:rows])
    sheet = instance_sheet(run.G, feats, images[:rows], p.per_instance, labels=labels, seed=seed, device=ctx.device)
    atomic_write_bytes(run_dir.samples / f"{tag}_transfer_{ds.name}.png", images_png(sheet, 1 + p.per_instance))
    out: dict[str, Any] = {"transfer_dataset": ds.name, "transfer_sheet": f"samples/{tag}_transfer_{ds.name}.png"}
    out.update(agreement(ctx, run, ds, idx, "transfer", torch.from_numpy(stored.features)))
    return out


def sample_grid(run: Trained, stored: Any, run_dir: RunDir, tag: str) -> None:
    """64 samples of an arm (noise seed 0) as ``samples/<tag>.png``."""
    from ganlab.core.images import images_to_png

    images = sample_fn(run, stored, 0)(64).cpu()
    atomic_write_bytes(run_dir.samples / f"{tag}.png", images_to_png(images))
