"""Training in-domain classifiers: the feature networks of ``classifier:<path>`` and the fitting-capacity metric.

The training data is either a fixed labelled set (real images, or generated images saved once) or a sampler
``fn(labels) -> images`` that makes fresh images for the labels it is given (GOLD's fitting capacity draws 10k new
generated samples every epoch). :data:`PROTOCOLS` holds the two published recipes:

- ``gold`` (GOLD, Mo et al. 2019, ``evals/evals.py``): LeNet-32, 40 epochs x 10k fresh samples, batch 128,
  Adam(1e-3, betas (0.5, 0.999)), lr x 0.1^(epoch // 20) with epochs counted from 1, test accuracy of the last epoch.
- ``multigan`` (Slim 2020, ``train_classifier.py``): ResNet-20 width 64, 180 epochs x 400 batches x 125 images,
  SGD(0.1, momentum 0.9, wd 1e-4), lr x 0.1 at epochs 100 and 150, random flip + 4-pixel-padded crop; the report
  quotes the best test accuracy over training (``best_accuracy``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import CheckpointError, ConfigError, ShapeError
from ganlab.core.nn.classifiers import build_classifier

LabelSampler = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ClassifierProtocol:
    """How a classifier is trained and tested (see the module docstring for the two presets)."""

    arch: str = "lenet"
    epochs: int = 40
    #: images per epoch; None = one pass over a fixed training set
    samples_per_epoch: int | None = 10_000
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.0
    #: "step": lr * gamma^(epoch // step_every) with epochs counted from 1 (GOLD); "multistep": x gamma at milestones
    schedule: str = "step"
    step_every: int = 20
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    augment: bool = False
    eval_every: int = 10
    eval_batch_size: int = 1000
    seed: int = 0

    def replace(self, **changes: Any) -> ClassifierProtocol:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown classifier protocol fields {sorted(unknown)}")
        return dataclasses.replace(self, **changes)


PROTOCOLS: dict[str, ClassifierProtocol] = {
    "gold": ClassifierProtocol(),
    "multigan": ClassifierProtocol(
        arch="resnet20_w64",
        epochs=180,
        samples_per_epoch=400 * 125,
        batch_size=125,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        schedule="multistep",
        milestones=(100, 150),
        augment=True,
        eval_every=1,
    ),
}


def get_protocol(name_or_protocol: str | ClassifierProtocol, **overrides: Any) -> ClassifierProtocol:
    if isinstance(name_or_protocol, ClassifierProtocol):
        proto = name_or_protocol
    else:
        if name_or_protocol not in PROTOCOLS:
            raise ConfigError(f"unknown classifier protocol {name_or_protocol!r}; choose one of {sorted(PROTOCOLS)}")
        proto = PROTOCOLS[name_or_protocol]
    return proto.replace(**overrides) if overrides else proto


def lr_factor(protocol: ClassifierProtocol, epoch: int) -> float:
    """Learning-rate multiplier for a 1-based epoch."""
    if protocol.schedule == "step":
        # GOLD computes 0.1 ** (epoch // 20) with epochs from 1: the first decay already hits epoch 20
        return protocol.gamma ** (epoch // protocol.step_every)
    if protocol.schedule == "multistep":
        # MultiStepLR counts finished epochs: epoch e (1-based) runs after e-1 scheduler steps
        return protocol.gamma ** sum(epoch - 1 >= m for m in protocol.milestones)
    if protocol.schedule == "constant":
        return 1.0
    raise ConfigError(f"unknown lr schedule {protocol.schedule!r}; choose step, multistep or constant")


def augment_flip_crop(
    x: torch.Tensor, generator: torch.Generator, padding: int = 4, flip: bool = True, fill: float = 0.0
) -> torch.Tensor:
    """Random horizontal flip (``flip``) and random crop with ``fill``-valued padding, batched (one gather, no
    per-image loop). On [-1, 1] images ``fill=0`` pads grey; torchvision's ``RandomCrop(padding=4)`` on [0, 1] images
    followed by ``Normalize(0.5, 0.5)`` pads black, i.e. ``fill=-1``."""
    b, c, h, w = x.shape
    dev = x.device
    if flip:
        mirror = torch.rand(b, generator=generator, device="cpu").to(dev) < 0.5
        x = torch.where(mirror.view(b, 1, 1, 1), x.flip(-1), x)
    xp = F.pad(x, (padding, padding, padding, padding), value=float(fill))
    oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(dev)
    ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(dev)
    rows = oy.view(b, 1, 1) + torch.arange(h, device=dev).view(1, h, 1)
    cols = ox.view(b, 1, 1) + torch.arange(w, device=dev).view(1, 1, w)
    out = xp[torch.arange(b, device=dev).view(b, 1, 1), :, rows, cols]  # (b, h, w, c)
    return out.permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``model`` on a labelled set, in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device, torch.float32)
        y = labels[i : i + batch_size].to(device)
        correct += (model(x).argmax(1) == y).sum().item()
    model.train(was_training)
    return correct / max(len(images), 1)


class _FixedSet:
    """Draws shuffled epochs from a fixed labelled set (without replacement within a pass)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> None:
        self.images, self.labels, self.g = images, labels, generator
        self.order = torch.empty(0, dtype=torch.long)
        self.pos = 0

    def take(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        parts = []
        while k > 0:
            if self.pos >= len(self.order):
                self.order = torch.randperm(len(self.images), generator=self.g)
                self.pos = 0
            idx = self.order[self.pos : self.pos + k]
            self.pos += len(idx)
            k -= len(idx)
            parts.append(idx)
        idx = torch.cat(parts)
        return self.images[idx], self.labels[idx]


def train_classifier(
    train: tuple[torch.Tensor, torch.Tensor] | LabelSampler,
    *,
    num_classes: int,
    in_channels: int,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    protocol: str | ClassifierProtocol = "gold",
    device: torch.device | str | None = None,
    model: nn.Module | None = None,
    progress: bool = False,
    **overrides: Any,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a classifier on a fixed set ``(images, labels)`` or on fresh images from ``fn(labels) -> images``.

    Images are float in [-1, 1], (N, C, H, W). Fresh samples get uniformly random labels (GOLD). Returns the model
    (eval mode) and ``{"accuracy": last test accuracy, "best_accuracy", "history": [[epoch, acc], ...]}``.
    """
    from tqdm.auto import tqdm

    proto = get_protocol(protocol, **overrides)
    device = torch.device(device) if device is not None else _default_device()
    if model is None:
        torch.manual_seed(proto.seed)
        model = build_classifier(proto.arch, num_classes=num_classes, in_channels=in_channels)
    model = model.to(device).train()
    g = torch.Generator().manual_seed(proto.seed)
    if callable(train) and not isinstance(train, tuple):
        fixed = None
        sampler = train
        per_epoch = proto.samples_per_epoch
        if per_epoch is None:
            raise ConfigError("samples_per_epoch must be set when training on freshly generated samples")
    else:
        images, labels = train
        labels = torch.as_tensor(labels, dtype=torch.long)
        if len(images) != len(labels):
            raise ShapeError(f"{len(images)} training images but {len(labels)} labels")
        fixed = _FixedSet(images, labels, g)
        sampler = None
        per_epoch = proto.samples_per_epoch or len(images)
    if proto.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=proto.lr, betas=proto.betas, weight_decay=proto.weight_decay)
    elif proto.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=proto.lr, momentum=proto.momentum, weight_decay=proto.weight_decay)
    else:
        raise ConfigError(f"unknown optimizer {proto.optimizer!r}; choose adam or sgd")
    steps = math.ceil(per_epoch / proto.batch_size)
    history: list[list[float]] = []
    bar = tqdm(range(1, proto.epochs + 1), desc=f"train {proto.arch}", disable=not progress, leave=False)
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = proto.lr * lr_factor(proto, epoch)
        model.train()
        for s in range(steps):
            bs = min(proto.batch_size, per_epoch - s * proto.batch_size)
            if fixed is not None:
                x, y = fixed.take(bs)
                x, y = x.to(device, torch.float32), y.to(device)
            else:
                y = torch.randint(0, num_classes, (bs,), generator=g).to(device)
                with torch.no_grad():
                    x = sampler(y).to(device, torch.float32)
                if x.shape[0] != bs:
                    raise ShapeError(f"the sampler returned {x.shape[0]} images for {bs} labels")
            if proto.augment:
                x = augment_flip_crop(x, g, fill=0.0)  # this protocol's padding: zeros (grey on [-1, 1])
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if test is not None and (epoch % proto.eval_every == 0 or epoch == proto.epochs):
            acc = evaluate_accuracy(model, test[0], torch.as_tensor(test[1]), proto.eval_batch_size)
            history.append([epoch, acc])
            bar.set_postfix(acc=f"{acc:.4f}")
    model.eval()
    result: dict[str, Any] = {"history": history, "protocol": dataclasses.asdict(proto)}
    if history:
        result["accuracy"] = history[-1][1]
        result["best_accuracy"] = max(a for _, a in history)
    return model, result


def _default_device() -> torch.device:
    try:
        from ganlab.core.processes import process_state

        return process_state().device
    except Exception:  # accelerate missing or not initialisable: plain CPU
        return torch.device("cpu")


# ------------------------------------------------------------------------------------------ save and load
FORMAT = "ganlab-classifier/1"


def save_classifier(model: nn.Module, path: str | Path, *, arch: str, meta: dict[str, Any] | None = None) -> None:
    """Save a classifier so that ``classifier:<path>`` and :func:`load_classifier` can rebuild it (atomic write)."""
    from ganlab.core.results import atomic_save

    width = getattr(model, "feat_dim", 0) // 4 if arch.startswith("resnet20") else None
    payload = {
        "format": FORMAT,
        "arch": arch,
        "build": {
            "num_classes": model.num_classes,
            "in_channels": model.in_channels,
            **({"width": width} if arch == "resnet20" else {}),
        },
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    atomic_save(payload, path)


def load_classifier(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a classifier saved by :func:`save_classifier`; returns ``(model in eval mode, info)``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"classifier checkpoint {path} does not exist; train one with `ganlab features train-classifier`"
        )
    try:
        payload = torch.load(str(path), map_location=map_location, weights_only=False)
    except Exception as exc:
        raise CheckpointError(f"could not read classifier checkpoint {path}: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a classifier saved by `ganlab features train-classifier`")
    model = build_classifier(payload["arch"], **payload["build"])
    model.load_state_dict(payload["state_dict"])
    info = {"arch": payload["arch"], **payload["build"], **payload.get("meta", {})}
    return model.eval(), info


def label_sampler(images: torch.Tensor, labels: np.ndarray | torch.Tensor, seed: int = 0) -> LabelSampler:
    """A sampler ``fn(y) -> images`` that returns random images of the requested classes from a labelled set.

    Used to treat real data as a "generator" (the sanity check of fitting capacity) and for fixed sample banks.
    """
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    order = torch.argsort(labels, stable=True)
    counts = torch.bincount(labels)
    starts = torch.cumsum(counts, 0) - counts

    def sample(y: torch.Tensor) -> torch.Tensor:
        yc = y.cpu()
        if (yc >= len(counts)).any() or (counts[yc] == 0).any():
            raise ShapeError("the labelled set has no image of a requested class")
        r = (torch.rand(len(yc), generator=g) * counts[yc]).long()
        return images[order[starts[yc] + r]].to(y.device)

    return sample
