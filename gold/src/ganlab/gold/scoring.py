"""GOLD values of whole sets: real training items (eq. 3 real branch, eq. 8 / 9 for unlabelled ones) and freshly
generated samples (eq. 3 / 4), computed batch-wise under no-grad with D (and G) in eval mode.

These are plain functions of ``(D, images, labels)`` or ``(G, D, n)``, usable on any conditional G/D following core's
model protocol, or on a D that returns ``(logit, class_logits)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ShapeError
from ganlab.gold.estimator import (
    balance_ratio,
    check_labels,
    conditional_term,
    d_heads,
    entropy_term,
)

__all__ = ["eval_mode", "score_generated", "score_real"]


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put modules in eval mode for the block and restore each one's previous mode."""
    states = [m.training for m in modules]
    try:
        for m in modules:
            m.eval()
        yield
    finally:
        for m, s in zip(modules, states):
            m.train(s)


def _device_of(module: nn.Module, device: Any) -> torch.device:
    if device is not None:
        return torch.device(device)
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _call_d(D: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> Any:
    try:
        return D(x, y=y)
    except TypeError:  # a plain D(x) module
        return D(x)


def _heads_of_images(
    D: nn.Module, images: Any, labels: torch.Tensor | None, batch_size: int, device: torch.device, num_classes
) -> tuple[torch.Tensor, torch.Tensor]:
    advs, clss = [], []
    n = len(images)
    with torch.no_grad(), eval_mode(D):
        for i in range(0, n, batch_size):
            if hasattr(images, "get_batch"):
                x = images.get_batch(np.arange(i, min(i + batch_size, n)))["image"]
            else:
                x = images[i : i + batch_size]
            x = torch.as_tensor(x).to(device, torch.float32)
            y = None if labels is None else labels[i : i + batch_size].to(device)
            adv, cls = d_heads(_call_d(D, x, y), num_classes)
            advs.append(adv.float().cpu())
            clss.append(cls.float().cpu())
    return torch.cat(advs), torch.cat(clss)


def score_real(
    D: nn.Module,
    images: Any,
    labels: Any = None,
    *,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
    num_classes: int | None = None,
) -> dict[str, np.ndarray]:
    """GOLD terms of real items: ``images`` is an (N, ...) tensor or a dataset with ``get_batch`` (its ``labels``
    attribute is used when ``labels`` is None).

    Returns float64 arrays (N,): ``marginal`` (the logit), ``entropy``, ``gold_unlabelled`` (eq. 8),
    ``gold_unlabelled_balanced`` (eq. 9, sigma_G / sigma_C among these items); with labels also ``conditional``
    (log D_C(c|x)), ``gold_real`` (eq. 3, real branch: logit - log D_C(c|x)) and ``gold_real_balanced`` (eq. 4).
    """
    device = _device_of(D, device)
    if labels is None and hasattr(images, "get_batch") and getattr(images, "num_classes", 0):
        labels = images.labels
    y = None if labels is None else torch.as_tensor(np.asarray(labels)).long().reshape(-1)
    if y is not None:
        if len(y) != len(images):
            raise ShapeError(f"{len(images)} images but {len(y)} labels")
    adv, cls = _heads_of_images(D, images, y, batch_size, device, num_classes)
    if y is not None:
        check_labels(y, cls.shape[1])
    ent = entropy_term(cls)
    out = {"marginal": adv.double().numpy(), "entropy": ent.double().numpy()}
    out["gold_unlabelled"] = (adv + ent).double().numpy()
    if len(adv) >= 2:
        r = balance_ratio(adv, ent)
        out["gold_unlabelled_balanced"] = (adv + r * ent).double().numpy()
    if y is not None:
        cond = conditional_term(cls, y)
        out["conditional"] = cond.double().numpy()
        out["gold_real"] = (adv - cond).double().numpy()
        if len(adv) >= 2:
            r = balance_ratio(adv, cond)
            out["gold_real_balanced"] = (adv - r * cond).double().numpy()
    return out


def score_generated(
    G: nn.Module,
    D: nn.Module,
    n: int,
    *,
    labels: torch.Tensor | None = None,
    batch_size: int = 500,
    seed: int = 0,
    device: torch.device | str | None = None,
    keep_images: bool = False,
) -> dict[str, Any]:
    """``n`` fresh samples of G (uniform labels unless given) and their GOLD terms (eq. 3 / 4, generated branch).

    Returns ``labels``, ``marginal``, ``conditional`` (log D_C(c|x), no eps), ``gold`` (eq. 3), ``gold_balanced``
    (eq. 4, sigma_G / sigma_C among these samples) and, with ``keep_images``, the ``images`` (CPU).
    """
    device = _device_of(G, device)
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    z_dim = int(getattr(G, "z_dim", 0) or 0)
    if not num_classes or not z_dim:
        raise ShapeError("GOLD needs a class-conditional generator with z_dim and num_classes attributes")
    g = torch.Generator().manual_seed(int(seed))
    y_all = torch.randint(0, num_classes, (n,), generator=g) if labels is None else torch.as_tensor(labels).long()
    check_labels(y_all, num_classes)
    advs, conds, imgs = [], [], []
    with torch.no_grad(), eval_mode(G, D):
        for i in range(0, n, batch_size):
            y = y_all[i : i + batch_size].to(device)
            z = torch.randn(len(y), z_dim, generator=g).to(device)
            x = G(z, y)
            adv, cls = d_heads(_call_d(D, x, y), num_classes)
            advs.append(adv.float().cpu())
            conds.append(conditional_term(cls, y).cpu())
            if keep_images:
                imgs.append(x.cpu())
    adv, cond = torch.cat(advs), torch.cat(conds)
    out: dict[str, Any] = {
        "labels": y_all.numpy(),
        "marginal": adv.double().numpy(),
        "conditional": cond.double().numpy(),
    }
    out["gold"] = (adv + cond).double().numpy()
    if n >= 2:
        out["gold_balanced"] = (adv + balance_ratio(adv, cond) * cond).double().numpy()
    if keep_images:
        out["images"] = torch.cat(imgs)
    return out
