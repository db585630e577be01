"""Classifier training on a synthetic source or on real data (Slim 2020 §3.2, public ``train_classifier.py``).

CIFAR ResNet-20 (width 64, or 16), SGD(0.1, momentum 0.9, wd 1e-4), ``epochs`` x ``iters_per_epoch`` x ``batch``
(paper: 180 x 400 x 125), lr / 10 at epochs 100 and 150. Test accuracy is measured every epoch; two numbers are
reported: the best test accuracy over training (the report's protocol: model selection on the test set) and the test
accuracy at the epoch with the best held-out validation accuracy (the honest one), plus the last epoch's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import CheckpointError, ConfigError, ShapeError
from ganlab.core.features.classifier import evaluate_accuracy
from ganlab.core.nn.classifiers import build_classifier
from ganlab.multigan_boosting.synthetic import flip_crop

__all__ = ["ClassifierConfig", "RealSource", "train_classifier", "train_classifier_on_generators"]

BatchSource = Callable[[int], tuple[torch.Tensor, torch.Tensor]]
LabelledSet = tuple[torch.Tensor, torch.Tensor]


@dataclass
class ClassifierConfig:
    """The classifier protocol (defaults: the paper's)."""

    arch: str = "resnet20_w64"  # or resnet20 (width 16)
    epochs: int = 180
    iters_per_epoch: int = 400
    batch_size: int = 125
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [100, 150])
    gamma: float = 0.1
    eval_every: int = 1
    seed: int = 0

    def validate(self) -> None:
        if self.arch not in ("resnet20_w64", "resnet20", "lenet"):
            raise ConfigError(f"classifier.arch must be resnet20_w64, resnet20 or lenet, got {self.arch!r}")
        for k in ("epochs", "iters_per_epoch", "batch_size", "eval_every"):
            if int(getattr(self, k)) < 1:
                raise ConfigError(f"classifier.{k} must be >= 1, got {getattr(self, k)}")
        if not self.lr > 0:
            raise ConfigError(f"classifier.lr must be > 0, got {self.lr}")


class RealSource:
    """Batches from a fixed labelled set, shuffled passes without replacement, optionally with random flip + crop
    (black padding; the real-data baseline trains on augmented data). A fixed synthetic set reuses this without
    augmentation: its images were transformed once before the filter. ``flip=False``: crop only."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, *, augment: bool = False, flip: bool = True, seed: int = 0
    ) -> None:
        labels = torch.as_tensor(labels, dtype=torch.long)
        if len(images) != len(labels) or len(images) == 0:
            raise ShapeError(f"a labelled set needs as many images as labels (> 0), got {len(images)}, {len(labels)}")
        self.images, self.labels, self.augment = images, labels.to(images.device), bool(augment)
        self.flip = bool(flip)
        self.g = torch.Generator().manual_seed(int(seed))
        self.order, self.pos = torch.empty(0, dtype=torch.long), 0

    def next_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        parts = []
        while n > 0:
            if self.pos >= len(self.order):
                self.order, self.pos = torch.randperm(len(self.images), generator=self.g), 0
            idx = self.order[self.pos : self.pos + n]
            self.pos += len(idx)
            n -= len(idx)
            parts.append(idx)
        idx = torch.cat(parts).to(self.images.device)
        x, y = self.images[idx].float(), self.labels[idx]
        return (flip_crop(x, self.g, flip=self.flip) if self.augment else x), y

    __call__ = next_batch

    def state_dict(self) -> dict:
        return {"g": self.g.get_state(), "order": self.order, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.g.set_state(state["g"])
        self.order, self.pos = state["order"], state["pos"]


def _lr_factor(cfg: ClassifierConfig, epoch: int) -> float:
    # MultiStepLR semantics: epoch e (1-based) runs after e - 1 scheduler steps
    return cfg.gamma ** sum(epoch - 1 >= m for m in cfg.milestones)


def _check_set(s: LabelledSet | None, num_classes: int, name: str) -> LabelledSet | None:
    if s is None:
        return None
    x, y = s[0], torch.as_tensor(s[1], dtype=torch.long)
    if x.ndim != 4 or len(x) != len(y) or len(x) == 0:
        raise ShapeError(f"the {name} set must be (N, C, H, W) images with N labels, got {tuple(x.shape)}, {len(y)}")
    if int(y.max()) >= num_classes or int(y.min()) < 0:
        raise ShapeError(f"the {name} set has labels outside [0, {num_classes})")
    return x, y


def train_classifier(
    source: BatchSource,
    *,
    num_classes: int,
    in_channels: int,
    test: LabelledSet,
    val: LabelledSet | None = None,
    config: ClassifierConfig | None = None,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = None,
    progress: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a classifier on batches ``source(n) -> (images in [-1, 1], labels)``; evaluate on ``test`` (and
    ``val``) every ``eval_every`` epochs. With ``checkpoint`` the state is saved after each epoch and a run resumes
    from it (the source's RNG state included when it has ``state_dict``). Returns ``(model, record)``."""
    from tqdm.auto import tqdm

    cfg = config or ClassifierConfig()
    cfg.validate()
    test = _check_set(test, num_classes, "test")
    val = _check_set(val, num_classes, "validation")
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    model = build_classifier(cfg.arch, num_classes=num_classes, in_channels=in_channels).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    history: list[dict[str, float]] = []
    start = 1
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.is_file():
        start, history = _resume(ckpt, cfg, model, opt, source)
    bar = tqdm(range(start, cfg.epochs + 1), desc=f"train {cfg.arch}", disable=not progress, leave=False)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * _lr_factor(cfg, epoch)
        model.train()
        for _ in range(cfg.iters_per_epoch):
            x, y = source(cfg.batch_size)
            loss = F.cross_entropy(model(x.to(device, torch.float32)), y.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            row = {"epoch": epoch, "test": evaluate_accuracy(model, test[0], test[1])}
            if val is not None:
                row["val"] = evaluate_accuracy(model, val[0], val[1])
            history.append(row)
            bar.set_postfix(test=f"{row['test']:.4f}")
        if ckpt is not None:
            _save(ckpt, cfg, model, opt, source, epoch, history)
    model.eval()
    return model, summarise(history, cfg, source)


def summarise(history: Sequence[dict[str, float]], cfg: ClassifierConfig, source: Any = None) -> dict[str, Any]:
    """Best test accuracy (report), test accuracy at the best-validation epoch (honest, first such epoch), last."""
    out: dict[str, Any] = {"history": list(history), "protocol": dataclasses.asdict(cfg)}
    if history:
        best = max(history, key=lambda r: r["test"])
        out.update(
            best_test_accuracy=best["test"], best_test_epoch=best["epoch"], final_test_accuracy=history[-1]["test"]
        )
        if "val" in history[0]:
            sel = max(history, key=lambda r: r["val"])
            out.update(val_selected_epoch=sel["epoch"], val_selected_test_accuracy=sel["test"], best_val=sel["val"])
    stats = getattr(source, "stats", None)
    if stats is not None and stats.generated:
        out.update(acceptance_rate=stats.acceptance_rate, generated=stats.generated)
    return out


def _save(path: Path, cfg, model, opt, source, epoch: int, history) -> None:
    from ganlab.core.results import atomic_save

    state = {
        "format": "ganlab-multigan-classifier-train/1",
        "config": dataclasses.asdict(cfg),
        "epoch": epoch,
        "history": history,
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "rng": torch.get_rng_state(),
        "source": source.state_dict() if hasattr(source, "state_dict") else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(state, path)


def _resume(path: Path, cfg, model, opt, source) -> tuple[int, list]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    same = {k: v for k, v in state.get("config", {}).items() if k != "epochs"}  # more epochs may follow
    if state.get("format") != "ganlab-multigan-classifier-train/1" or same != {
        k: v for k, v in dataclasses.asdict(cfg).items() if k != "epochs"
    }:
        raise CheckpointError(f"{path} is a checkpoint of another classifier protocol; delete it or use another path")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    torch.set_rng_state(state["rng"])
    if state["source"] is not None and hasattr(source, "load_state_dict"):
        source.load_state_dict(state["source"])
    return int(state["epoch"]) + 1, list(state["history"])


def train_classifier_on_generators(
    generators: nn.Module | Sequence[nn.Module],
    num_classes: int,
    test_set: LabelledSet,
    *,
    val_set: LabelledSet | None = None,
    weights: Sequence[float] | None = None,
    transform: bool = True,
    flip: bool = True,
    filter: nn.Module | None = None,
    threshold: float = 0.9,
    truncation: float | None = None,
    fixed_size: int | None = None,
    config: ClassifierConfig | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    max_tries: int = 100,
    checkpoint: str | Path | None = None,
    progress: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a classifier on samples of conditional generators (any ``nn.Module`` with ``z_dim`` and
    ``forward(z, y)``; several form an :class:`Ensemble`, chosen per generated batch, with optional ``weights``).

    Defaults follow the best single-GAN column of Table 1: on-the-fly generation with transforms; pass ``filter``
    (a classifier trained on real data) for the classifier filter at ``threshold``; ``flip=False`` makes the transform
    a crop only (digits are not mirror-symmetric). ``fixed_size``: generate that many images once (transformed,
    then filtered, as the public ``--fixed_dset``) and train on that cached set every epoch. Returns ``(model,
    record)`` with ``best_test_accuracy`` and (given ``val_set``) ``val_selected_test_accuracy``.
    """
    from ganlab.multigan_boosting.ensemble import Ensemble, as_conditional
    from ganlab.multigan_boosting.synthetic import SyntheticSource, fixed_synthetic_set

    cfg = config or ClassifierConfig()
    cfg.validate()
    gens = [generators] if isinstance(generators, nn.Module) else list(generators)
    gens = [as_conditional(G, num_classes).to(device) for G in gens]
    ens = Ensemble(gens, weights, seed=seed)
    test = _check_set(test_set, num_classes, "test")
    source = SyntheticSource(
        ens,
        num_classes,
        transform=transform,
        flip=flip,
        filter=filter.to(device) if filter is not None else None,
        threshold=threshold,
        truncation=truncation,
        gen_batch_size=cfg.batch_size,
        max_tries=max_tries,
        seed=seed,
        device=device,
    )
    probe, _ = source.generate(2)  # a bad generator fails here, before training
    if probe.shape[1:] != test[0].shape[1:]:
        raise ShapeError(
            f"the generators make {tuple(probe.shape[1:])} images but the test set has {tuple(test[0].shape[1:])}"
        )
    if fixed_size is not None:
        # the public --fixed_dset: generate, transform, filter the transformed images, cache them; later epochs only
        # reshuffle the cache (no new flip + crop)
        x, y = fixed_synthetic_set(source, fixed_size, cfg.batch_size)
        fixed = RealSource(x, y, augment=False, seed=seed)
        fixed.stats = source.stats  # type: ignore[attr-defined]
        batches: Any = fixed
    else:
        batches = source
    model, rec = train_classifier(
        batches,
        num_classes=num_classes,
        in_channels=int(probe.shape[1]),
        test=test,
        val=val_set,
        config=cfg,
        device=device,
        checkpoint=checkpoint,
        progress=progress,
    )
    rec.update(n_generators=len(gens), weights=None if weights is None else [float(w) for w in weights])
    return model, rec
