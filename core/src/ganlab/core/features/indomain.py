"""In-domain classifiers trained on a real dataset (LeNet / ResNet-20): the feature extractors and fitting-capacity
judges that stand in for Inception on small offline data (``classifier:<path>`` extractors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError

__all__ = ["holdout_split", "train_classifier_on_dataset"]


def holdout_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (train, test) index arrays: a seeded random ``fraction`` of ``range(n)`` is held out."""
    if not 0 < fraction < 1:
        raise ConfigError(f"holdout fraction must be in (0, 1), got {fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * fraction)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def train_classifier_on_dataset(
    dataset: str,
    *,
    arch: str = "lenet",
    split: str = "train",
    test_split: str | None = "test",
    holdout: float = 0.1,
    resolution: int | None = None,
    dataset_options: dict[str, Any] | None = None,
    protocol: str = "gold",
    out: str | Path | None = None,
    device: str | None = None,
    progress: bool = True,
    **overrides: Any,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train an in-domain classifier on a real dataset (one pass per epoch unless ``samples_per_epoch``)."""
    from ganlab.core.data import get_dataset
    from ganlab.core.features.classifier import get_protocol, save_classifier, train_classifier

    ds = get_dataset(dataset, split=split, resolution=resolution, **(dataset_options or {}))
    if not ds.num_classes:
        raise DatasetError(f"dataset {dataset!r} has no class labels; a classifier needs a labelled dataset")
    batch = ds.get_batch(np.arange(len(ds)))
    x, y = batch["image"], batch["label"]
    test_source = None
    if test_split:
        try:
            tds = get_dataset(dataset, split=test_split, resolution=resolution, **(dataset_options or {}))
            tb = tds.get_batch(np.arange(len(tds)))
            test = (tb["image"], tb["label"])
            test_source = f"{dataset}/{test_split}"
        except DatasetError:
            test = None
    if test_source is None:  # no test split (e.g. the bundled mnist5k): hold a seeded fraction out
        seed = overrides.get("seed", 0) or 0
        tr, te = holdout_split(len(ds), holdout, seed)
        test = (x[te], y[te])
        x, y = x[tr], y[tr]
        test_source = f"{dataset}/{split} holdout {holdout} (seed {seed})"
    # real data: one pass over the training set per epoch unless samples_per_epoch is given
    spe = overrides.pop("samples_per_epoch", None)
    proto = get_protocol(protocol, arch=arch, **overrides).replace(samples_per_epoch=spe)
    model, result = train_classifier(
        (x, y),
        num_classes=ds.num_classes,
        in_channels=x.shape[1],
        test=test,
        protocol=proto,
        device=device,
        progress=progress,
    )
    meta = {
        "dataset": dataset,
        "split": split,
        "resolution": resolution,
        "fingerprint": ds.fingerprint,
        "test": test_source,
        "accuracy": result.get("accuracy"),
        "best_accuracy": result.get("best_accuracy"),
        "protocol": result["protocol"],
    }
    if out is not None:
        save_classifier(model, out, arch=arch, meta=meta)
    return model, meta
