"""One classifier run from a config: real data, or samples of one or several trained generators (Slim 2020 §3, §5).

Used by ``ganlab multigan-boosting train-classifier`` and by the reproductions. The real training set is split once
(stratified, ``data.split_seed``) into train / held-out validation (and test, for data without a test split); the
held-out validation set selects the honest epoch, the test set gives both reported accuracies.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.multigan_boosting.classifier import ClassifierConfig, RealSource, train_classifier

__all__ = ["ClassifyConfig", "DataConfig", "SourceConfig", "Splits", "load_splits", "resolve_device", "run_classify"]


@dataclass
class DataConfig:
    name: str = "cifar10"
    root: str | None = None
    resolution: int | None = 32
    test_split: str | None = "test"  # null: hold ``test_size`` images out of the training split instead
    test_size: int = 0
    val_size: int = 5000  # held out of the training split (our choice: the report selects on the test set)
    split_seed: int = 0


@dataclass
class SourceConfig:
    generators: list[str] = field(default_factory=list)  # run dirs / G_ema.pt; empty: train on the real split
    weights: list[float] | None = None  # per-generator choice probabilities (None: uniform)
    fixed: bool = False  # a fixed synthetic set of ``fixed_size`` images instead of on-the-fly generation
    fixed_size: int = 50000
    transform: bool = True  # random flip + crop (pad 4); on real data the baseline's augmentation
    flip: bool = True  # the transform's horizontal flip (the report's CIFAR-10); false: crop only (digits)
    filter: str | None = None  # a classifier checkpoint (core save_classifier) used as the sample filter
    threshold: float = 0.9
    truncation: float | None = None  # psi of the truncated normal z (the report's truncated columns: 1.5)
    max_tries: int = 100

    def validate(self, n_generators: int | None = None) -> None:
        """``n_generators``: the number of generator modules given directly (default: ``generators``' length)."""
        from ganlab.multigan_boosting.synthetic import check_threshold

        check_threshold(self.threshold)
        n = len(self.generators) if n_generators is None else n_generators
        if self.weights is not None and len(self.weights) != n:
            raise ConfigError(f"source.weights has {len(self.weights)} entries for {n} generators; give one each")
        if self.weights is not None and any(w < 0 for w in self.weights):
            raise ConfigError(f"source.weights must be >= 0, got {self.weights}")
        if self.truncation is not None and not self.truncation > 0:
            raise ConfigError(f"source.truncation must be > 0 or null, got {self.truncation}")
        if self.fixed and self.fixed_size < 1:
            raise ConfigError(f"source.fixed_size must be >= 1, got {self.fixed_size}")
        if self.filter is not None and not Path(self.filter).is_file():
            raise ConfigError(f"source.filter {self.filter!r} is not a classifier checkpoint file")


@dataclass
class ClassifyConfig:
    name: str = "classifier"
    seed: int = 0
    device: str = "auto"  # auto: Accelerate's device
    data: DataConfig = field(default_factory=DataConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)

    def validate(self, n_generators: int | None = None) -> None:
        self.source.validate(n_generators)
        self.classifier.validate()


def resolve_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    try:
        from ganlab.core.processes import process_state

        return process_state().device
    except Exception:  # accelerate missing or not initialisable: plain CPU
        return torch.device("cpu")


@dataclass
class Splits:
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor] | None
    test: tuple[torch.Tensor, torch.Tensor]
    train_indices: np.ndarray
    num_classes: int
    dataset: Any  # the full training-split dataset (GANs train on its ``train_indices`` subset)

    def protocol(self) -> dict[str, int]:
        return {"n_real_train": len(self.train[1]), "n_val": 0 if self.val is None else len(self.val[1]),
                "n_test": len(self.test[1])}  # fmt: skip


def _stratified(labels: np.ndarray, n: int, rng: np.random.Generator, pool: np.ndarray) -> np.ndarray:
    """``n`` indices of ``pool`` with class proportions as in the pool (largest remainders)."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    classes, counts = np.unique(labels[pool], return_counts=True)
    quota = counts * n / counts.sum()
    take = np.floor(quota).astype(int)
    take[np.argsort(-(quota - take))[: n - take.sum()]] += 1
    out = [rng.choice(pool[labels[pool] == c], k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(out))


def load_splits(d: DataConfig) -> Splits:
    from ganlab.core.data import get_dataset

    ds = get_dataset(d.name, root=d.root, split="train", resolution=d.resolution)
    labels = np.asarray(ds.labels)
    if d.val_size < 0 or d.test_size < 0 or d.val_size + d.test_size >= len(labels):
        raise ConfigError(
            f"data.val_size + data.test_size must be in [0, {len(labels)}), got {d.val_size}+{d.test_size}"
        )
    rng = np.random.default_rng(d.split_seed)
    pool = np.arange(len(labels))
    test_idx = _stratified(labels, d.test_size if d.test_split is None else 0, rng, pool)
    pool = np.setdiff1d(pool, test_idx)
    val_idx = _stratified(labels, d.val_size, rng, pool)
    train_idx = np.setdiff1d(pool, val_idx)

    def take(idx, source=ds):
        b = source.get_batch(idx)
        return b["image"], torch.as_tensor(np.asarray(b["label"]), dtype=torch.long)

    if d.test_split is None:
        test = take(test_idx)
    else:
        tds = get_dataset(d.name, root=d.root, split=d.test_split, resolution=d.resolution)
        test = take(np.arange(len(tds)), tds)
    return Splits(take(train_idx), take(val_idx) if len(val_idx) else None, test, train_idx, ds.num_classes, ds)


def run_classify(
    cfg: ClassifyConfig,
    *,
    splits: Splits | None = None,
    generators: list[nn.Module] | None = None,
    filter_model: nn.Module | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train and score one classifier; with ``out``: ``out/classifier.pt``, ``out/result.json`` (+ a resumable
    ``out/train_state.pt`` while it runs). Inputs are all checked before anything is written."""
    from ganlab.core.features.classifier import load_classifier
    from ganlab.multigan_boosting.classifier import train_classifier_on_generators
    from ganlab.multigan_boosting.ensemble import load_generators

    cfg.validate(len(generators) if generators is not None else None)
    device = resolve_device(cfg.device)
    splits = splits or load_splits(cfg.data)
    s = cfg.source
    if generators is None and s.generators:
        generators = load_generators(s.generators, device=device)
    if filter_model is None and s.filter is not None:
        filter_model = load_classifier(s.filter)[0]
    ccfg = dataclasses.replace(cfg.classifier, seed=cfg.seed)
    ckpt = Path(out) / "train_state.pt" if out is not None else None
    rec: dict[str, Any] = {"name": cfg.name, "seed": cfg.seed, **splits.protocol()}
    if not generators:
        x, y = splits.train
        src = RealSource(x.to(device), y, augment=s.transform, flip=s.flip, seed=cfg.seed)
        if ckpt is not None:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
        model, res = train_classifier(
            src, num_classes=splits.num_classes, in_channels=int(x.shape[1]), test=splits.test, val=splits.val,
            config=ccfg, device=device, checkpoint=ckpt, progress=progress,
        )  # fmt: skip
        rec.update(source="real", n_fake=0)
    else:
        model, res = train_classifier_on_generators(
            generators, splits.num_classes, splits.test, val_set=splits.val, weights=s.weights, transform=s.transform,
            flip=s.flip, filter=filter_model, threshold=s.threshold, truncation=s.truncation,
            fixed_size=s.fixed_size if s.fixed else None, config=ccfg, device=device, seed=cfg.seed,
            max_tries=s.max_tries, checkpoint=ckpt, progress=progress,
        )  # fmt: skip
        n_fake = s.fixed_size if s.fixed else ccfg.epochs * ccfg.iters_per_epoch * ccfg.batch_size
        rec.update(source="fixed" if s.fixed else "on-the-fly", n_fake=n_fake)
    rec.update(transform=s.transform, flip=s.flip, filter=filter_model is not None, truncation=s.truncation)
    rec.update({k: v for k, v in res.items() if k != "protocol"})
    rec["protocol"] = (
        f"{ccfg.arch}, {ccfg.epochs} ep x {ccfg.iters_per_epoch} x {ccfg.batch_size}, SGD {ccfg.lr} m{ccfg.momentum} "
        f"wd {ccfg.weight_decay}; train on {rec['source']} ({rec['n_real_train']} real / {rec['n_fake']} fake); "
        f"val {rec['n_val']} held out of train; test {rec['n_test']}"
    )
    if out is not None:
        from ganlab.core.features.classifier import save_classifier
        from ganlab.core.results import atomic_write_text

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        save_classifier(model, out / "classifier.pt", arch=ccfg.arch, meta={"result": rec["best_test_accuracy"]})
        atomic_write_text(out / "result.json", json.dumps(rec, indent=2, default=str))
    return model, rec
