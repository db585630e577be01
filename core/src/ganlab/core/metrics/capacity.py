"""Fitting capacity / classifier accuracy score: train a classifier on generated samples, test it on real data.

GOLD (Mo et al., 2019, §4.1 "fitting capacity") measures a conditional generator by the real-test accuracy of a
LeNet trained only on its samples: 40 epochs, each on 10,000 freshly generated samples with uniform labels,
batch 128, Adam(1e-3, betas (0.5, 0.999)), lr x 0.1 at epoch 20; the last test accuracy is reported. Multi-GAN
boosting (Slim, 2020) uses the same idea with a width-64 CIFAR ResNet-20 (``protocol="multigan"``); Ravuri & Vinyals
call it the Classification Accuracy Score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ShapeError
from ganlab.core.features.classifier import ClassifierProtocol, get_protocol, label_sampler, train_classifier
from ganlab.core.features.extract import check_images
from ganlab.core.features.extractors import quantize_uint8

__all__ = ["conditional_sampler", "fitting_capacity", "classifier_accuracy_score", "label_sampler"]


def conditional_sampler(
    G: nn.Module,
    *,
    z_dim: int | None = None,
    seed: int = 0,
    truncation: float | None = None,
    device: torch.device | str | None = None,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``fn(labels) -> G(z, labels)`` with z ~ N(0, I) (or truncated at ``truncation``), G in eval mode, no grad."""
    z_dim = z_dim or getattr(G, "z_dim", None)
    if z_dim is None:
        raise ShapeError("the generator has no z_dim attribute; pass z_dim=")
    if device is None:
        device = next(G.parameters()).device
    g = torch.Generator(device="cpu").manual_seed(seed)

    @torch.no_grad()
    def sample(y: torch.Tensor) -> torch.Tensor:
        G.eval()
        if truncation is not None:
            from ganlab.core.sampling import truncated_normal

            z = truncated_normal(len(y), z_dim, truncation, generator=g)
        else:
            z = torch.randn(len(y), z_dim, generator=g)
        return G(z.to(device), y.to(device))

    return sample


def fitting_capacity(
    generated: Callable[[torch.Tensor], torch.Tensor] | tuple[Any, Any],
    test_images: torch.Tensor,
    test_labels: np.ndarray | torch.Tensor,
    *,
    num_classes: int | None = None,
    protocol: str | ClassifierProtocol = "gold",
    quantize: bool = False,
    device: torch.device | str | None = None,
    progress: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Real-test accuracy of a classifier trained only on generated samples (GOLD's fitting capacity).

    ``generated``: ``fn(labels) -> images`` drawing fresh conditional samples (GOLD: new samples every epoch), or a
    fixed labelled set ``(images, labels)`` (e.g. GOLD's 50k rejection-sampled bank). Images in [-1, 1] at the
    classifier's resolution (32x32 for LeNet). ``overrides`` change protocol fields (``epochs``, ``arch``, ``seed``...).
    Returns ``{"fitting_capacity": last test accuracy, "best_accuracy", "history", "protocol"}``.
    """
    test_images = torch.as_tensor(test_images)
    check_images(test_images, "test images")
    test_labels = torch.as_tensor(np.asarray(test_labels), dtype=torch.long)
    if len(test_images) != len(test_labels):
        raise ShapeError(f"{len(test_images)} test images but {len(test_labels)} test labels")
    if num_classes is None:
        num_classes = int(test_labels.max()) + 1
    proto = get_protocol(protocol, **overrides)
    in_channels = test_images.shape[1]

    if callable(generated) and not isinstance(generated, tuple):
        fn = generated

        def train_source(y: torch.Tensor) -> torch.Tensor:
            x = fn(y)
            check_images(x, "generated images")
            if x.shape[1:] != test_images.shape[1:]:
                raise ShapeError(
                    f"generated images have shape {tuple(x.shape[1:])} but the real test images "
                    f"{tuple(test_images.shape[1:])}; evaluate at the generator's resolution"
                )
            return quantize_uint8(x) if quantize else x

        train: Any = train_source
    else:
        images, labels = generated
        images = torch.as_tensor(images)
        check_images(images, "generated images")
        train = (quantize_uint8(images) if quantize else images, torch.as_tensor(np.asarray(labels)))
    _, result = train_classifier(
        train,
        num_classes=num_classes,
        in_channels=in_channels,
        test=(test_images, test_labels),
        protocol=proto,
        device=device,
        progress=progress,
    )
    return {
        "fitting_capacity": result["accuracy"],
        "best_accuracy": result["best_accuracy"],
        "history": result["history"],
        "protocol": result["protocol"],
        "n_test": len(test_images),
    }


classifier_accuracy_score = fitting_capacity
