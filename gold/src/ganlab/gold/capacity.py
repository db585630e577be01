"""Fitting capacity (Ravuri & Vinyals 2019; GOLD §4): a classifier trained only on generated samples, tested on real.

Images use core's implementation (:func:`ganlab.core.features.classifier.train_classifier`, protocol ``gold``:
LeNet-32, 40 epochs x 10,000 fresh samples, batch 128, Adam 1e-3 (0.5, 0.999), lr x 0.1^(epoch // 20)). One
classifier is trained and scored on several real sets at once (the official code scores the same LeNet on the test
set and on the 100-image validation set).

2-D points (the synthetic 6-cluster set) need a classifier of vectors; the official LeNet-only code cannot score
them, so we use a small MLP (2 -> 64 -> 64 -> C, ReLU) under the same protocol (our choice).
Images that are not 32x32 (Imagenette / Imagewoof at 128 px) are resized to 32x32 for LeNet-32 (our choice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ShapeError
from ganlab.core.nn.classifiers import CLASSIFIERS

__all__ = ["MLPClassifier", "fitting_capacity_multi", "generator_sampler", "to_classifier_input"]


class MLPClassifier(nn.Module):
    """Classifier of 2-D points for the synthetic set's fitting capacity (2 -> 64 -> 64 -> C)."""

    def __init__(self, num_classes: int = 2, in_channels: int = 2, width: int = 64) -> None:
        super().__init__()
        self.num_classes, self.in_channels, self.feat_dim = num_classes, in_channels, width
        self.body = nn.Sequential(nn.Linear(in_channels, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_channels:
            raise ShapeError(f"the point classifier expects (B, {self.in_channels}) inputs, got {tuple(x.shape)}")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


if "mlp_points" not in CLASSIFIERS:
    CLASSIFIERS.register("mlp_points")(lambda num_classes=2, in_channels=2: MLPClassifier(num_classes, in_channels))


def to_classifier_input(x: torch.Tensor) -> torch.Tensor:
    """Images as LeNet-32 needs them (resized to 32x32 when they are not); points unchanged."""
    if x.ndim == 4 and tuple(x.shape[-2:]) != (32, 32):
        return F.interpolate(x.float(), size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    return x


def generator_sampler(
    G: nn.Module, *, seed: int = 0, device: torch.device | str | None = None, batch_size: int = 1000
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``fn(labels) -> G(z, labels)`` with fresh z ~ N(0, I), G in eval mode, no grad, in chunks of ``batch_size``."""
    z_dim = int(getattr(G, "z_dim", 0) or 0)
    if not z_dim:
        raise ShapeError("the generator has no z_dim attribute (core's model protocol)")
    device = device if device is not None else next(G.parameters()).device
    g = torch.Generator().manual_seed(int(seed))

    @torch.no_grad()
    def sample(y: torch.Tensor) -> torch.Tensor:
        was = G.training
        G.eval()
        try:
            parts = []
            for i in range(0, len(y), batch_size):
                yy = y[i : i + batch_size].to(device)
                z = torch.randn(len(yy), z_dim, generator=g).to(device)
                parts.append(to_classifier_input(G(z, yy)))
            return torch.cat(parts)
        finally:
            G.train(was)

    return sample


def fitting_capacity_multi(
    train: Callable[[torch.Tensor], torch.Tensor] | tuple[torch.Tensor, torch.Tensor],
    tests: Mapping[str, tuple[torch.Tensor, np.ndarray | torch.Tensor]],
    *,
    num_classes: int,
    device: torch.device | str | None = None,
    protocol: str = "gold",
    progress: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Train one classifier on generated samples (a sampler or a fixed ``(images, labels)`` set); its accuracy on each
    real set of ``tests`` (``{"test": (images, labels), "val": ...}``) as ``cap_<name>``, plus the protocol."""
    from ganlab.core.features.classifier import evaluate_accuracy, train_classifier

    first = next(iter(tests.values()))[0] if tests else None
    points = first is not None and first.ndim == 2
    if points:
        overrides = {"arch": "mlp_points", **overrides}
    in_channels = int(first.shape[1]) if first is not None else 1
    if callable(train) and not isinstance(train, tuple):
        source = train
    else:
        images, labels = train
        source = (to_classifier_input(torch.as_tensor(images).float()), torch.as_tensor(np.asarray(labels)))
    model, info = train_classifier(
        source,
        num_classes=num_classes,
        in_channels=in_channels,
        test=None,
        protocol=protocol,
        device=device,
        progress=progress,
        **overrides,
    )
    out: dict[str, Any] = {"protocol": info["protocol"]}
    for name, (x, y) in tests.items():
        x = to_classifier_input(torch.as_tensor(x).float())
        out[f"cap_{name}"] = float(evaluate_accuracy(model, x, torch.as_tensor(np.asarray(y)).long()))
        out[f"n_{name}"] = int(len(x))
    return out


def final_capacity(
    G: nn.Module,
    test: tuple[torch.Tensor, np.ndarray],
    *,
    num_classes: int,
    seed: int,
    device: Any,
    bank: tuple[torch.Tensor, np.ndarray] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Fitting capacity of G (fresh samples each epoch) or of a fixed ``bank`` (one pass per epoch), on ``test``."""
    if bank is not None:
        overrides = {"samples_per_epoch": None, **overrides}
        source: Any = bank
    else:
        source = generator_sampler(G, seed=seed, device=device)
    return fitting_capacity_multi(
        source, {"test": test}, num_classes=num_classes, device=device, seed=seed, **overrides
    )
