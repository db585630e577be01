"""``classifier:auto``: an in-domain classifier trained on the dataset itself, the offline stand-in for SwAV.

The paper conditions on a self-supervised ImageNet ResNet-50; on the bundled datasets (no pretrained weights can be
downloaded) the project trains a small in-domain classifier on the training images and uses its penultimate
features. Trained once per dataset fingerprint and specification, cached in the run's IC-GAN cache folder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import DatasetError


def auto_classifier(
    dataset: Any,
    cache_dir: str | Path,
    device: Any = None,
    *,
    arch: str = "lenet",
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    holdout: float = 0.1,
) -> Path:
    """Path of a classifier (``classifier:<path>``) trained on ``dataset``'s images and labels (cached)."""
    from ganlab.core.features import save_classifier, train_classifier

    if not int(getattr(dataset, "num_classes", 0) or 0):
        raise DatasetError(
            "classifier:auto trains an in-domain classifier and needs class labels; this dataset is unlabelled: "
            "name a pretrained extractor instead (swav, resnet50, classifier:<path>)"
        )
    spec = {"arch": arch, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "holdout": holdout}
    key = hashlib.sha256(
        json.dumps(
            {"dataset": getattr(dataset, "fingerprint", None), "n": len(dataset), **spec}, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    path = Path(cache_dir) / f"classifier_{key}.pt"
    if path.is_file():
        return path
    n = len(dataset)
    images = torch.cat([dataset.get_batch(np.arange(s, min(s + 4096, n)))["image"] for s in range(0, n, 4096)])
    labels = torch.as_tensor(np.asarray(dataset.labels), dtype=torch.long)
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * holdout)))
    test, train = order[:n_test], order[n_test:]
    model, info = train_classifier(
        (images[train], labels[train]),
        num_classes=int(dataset.num_classes),
        in_channels=images.shape[1],
        test=(images[test], labels[test]),
        protocol="gold",
        device=device,
        arch=arch,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        samples_per_epoch=None,
    )
    meta = {"dataset_fingerprint": getattr(dataset, "fingerprint", None), "accuracy": info.get("accuracy"), **spec}
    save_classifier(model.cpu(), path, arch=arch, meta=meta)
    return path
