"""The GOLD estimator (Mo et al. 2019, §3.1) and the example weights of eq. 5, as plain tensor functions.

Every function takes the two heads of an ACGAN discriminator: the adversarial logit ``adv`` (B,), which for a
non-saturating D is ``log D_G(x) / (1 - D_G(x))`` (the marginal term), and the class logits ``cls`` (B, C), whose
softmax is ``D_C(c|x)``.

- eq. 3: ``d(x, c) = adv + log D_C(c|x)`` for a generated sample, ``adv - log D_C(c|x)`` for a real one;
- eq. 4: the balanced form multiplies the conditional term by ``ratio = sigma_G / sigma_C``, the standard deviations
  of the marginal and conditional terms among samples (:func:`balance_ratio`, or :class:`RunningBalance` over
  training);
- eq. 8 / 9: for an unlabelled real sample the conditional term becomes the entropy ``H[D_C(.|x)]``;
- eq. 5: the weight of a generated sample is ``d^beta`` with the signed power ``x^beta = -|x|^beta`` for ``x < 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, ShapeError

__all__ = [
    "ClassHeadError",
    "LabelRangeError",
    "RunningBalance",
    "balance_ratio",
    "check_labels",
    "conditional_term",
    "d_heads",
    "entropy_term",
    "gold_estimator",
    "gold_unlabelled",
    "sample_weights",
    "signed_power",
    "weighted_mean",
]

WEIGHTINGS = ("per_sample", "official_batch_mean")


class ClassHeadError(ShapeError):
    """The discriminator has no class head (GOLD needs D_C(c|x))."""


class LabelRangeError(ShapeError):
    """Labels outside [0, num_classes)."""


# --------------------------------------------------------------------------------------------- D's two heads
def d_heads(out: Any, num_classes: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(adv (B,), cls (B, C))`` from a discriminator's output.

    Accepts core's dict (``{"adv": (B,), "cls": (B, C), ...}``) or a user's tuple ``(logit, class_logits)`` with the
    logit of shape (B,) or (B, 1). Raises :class:`ClassHeadError` when there is no class head.
    """
    if isinstance(out, dict):
        if "adv" not in out:
            raise ShapeError(f"the discriminator's output has no 'adv' logit (keys: {sorted(out)})")
        if out.get("cls") is None:
            raise ClassHeadError(
                "GOLD needs a discriminator with a class head: D(x) must return {'adv': (B,), 'cls': (B, C)} or "
                "(logit, class_logits); this one returns only "
                + ", ".join(sorted(k for k in out if out[k] is not None))
                + ". Build an ACGAN-style D (e.g. backbone acgan_mnist_gold, acgan_cifar_gold, toy_mlp_gold)"
            )
        adv, cls = out["adv"], out["cls"]
    elif isinstance(out, (tuple, list)):
        if len(out) < 2 or out[1] is None:
            raise ClassHeadError(
                "GOLD needs a discriminator with a class head: D(x) returned one output; return (logit, class_logits)"
            )
        adv, cls = out[0], out[1]
    else:
        raise ClassHeadError(
            f"GOLD needs D(x) -> (logit, class_logits) or {{'adv', 'cls'}}; got a {type(out).__name__} (one head only)"
        )
    if adv.ndim == 2 and adv.shape[1] == 1:
        adv = adv[:, 0]
    if adv.ndim != 1 or cls.ndim != 2 or cls.shape[0] != adv.shape[0]:
        raise ShapeError(
            f"D's heads must be (B,) or (B, 1) logits and (B, C) class logits; got {tuple(adv.shape)} and "
            f"{tuple(cls.shape)}"
        )
    if num_classes is not None and cls.shape[1] != num_classes:
        raise ShapeError(f"D's class head has {cls.shape[1]} classes but the generator / data have {num_classes}")
    return adv, cls


def check_labels(labels: torch.Tensor | np.ndarray | Sequence[int], num_classes: int, what: str = "labels") -> None:
    """Raise :class:`LabelRangeError` unless every label lies in [0, num_classes)."""
    y = torch.as_tensor(np.asarray(labels) if not torch.is_tensor(labels) else labels)
    if y.numel() == 0:
        return
    if y.is_floating_point():
        raise LabelRangeError(f"{what} must be integer class indices, got dtype {y.dtype}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= num_classes:
        raise LabelRangeError(
            f"{what} must lie in [0, {num_classes}) (the class head has {num_classes} classes); got values in "
            f"[{lo}, {hi}]"
        )


# ------------------------------------------------------------------------------------------------ the terms
def conditional_term(cls: torch.Tensor, labels: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """``log D_C(c|x)`` (B,); ``eps > 0`` gives ``log(softmax + eps)`` as the official training code."""
    labels = labels.reshape(-1).long()
    if eps > 0:
        p = torch.softmax(cls.float(), dim=1).gather(1, labels[:, None])[:, 0]
        return torch.log(p + eps)
    return torch.log_softmax(cls.float(), dim=1).gather(1, labels[:, None])[:, 0]


def entropy_term(cls: torch.Tensor) -> torch.Tensor:
    """``H[D_C(.|x)] = -sum_c p log p`` (B,) of the class softmax (eq. 7)."""
    logp = torch.log_softmax(cls.float(), dim=1)
    return -(logp.exp() * logp).sum(dim=1)


def gold_estimator(
    adv: torch.Tensor,
    cls: torch.Tensor,
    labels: torch.Tensor,
    *,
    real: bool = False,
    ratio: float | torch.Tensor = 1.0,
    eps: float = 0.0,
) -> torch.Tensor:
    """The GOLD estimator (eq. 3; eq. 4 with ``ratio = sigma_G / sigma_C``).

    Generated samples (``real=False``): ``adv + ratio * log D_C(c|x)``; real samples: ``adv - ratio * log D_C(c|x)``.
    """
    cond = conditional_term(cls, labels, eps)
    sign = -1.0 if real else 1.0
    return adv.float().reshape(-1) + sign * ratio * cond


def gold_unlabelled(adv: torch.Tensor, cls: torch.Tensor, *, ratio: float | torch.Tensor = 1.0) -> torch.Tensor:
    """GOLD of unlabelled real samples: ``adv + ratio * H[D_C(.|x)]`` (eq. 8; eq. 9: ``ratio = sigma_G/sigma_C``)."""
    return adv.float().reshape(-1) + ratio * entropy_term(cls)


def balance_ratio(marginal: Any, conditional: Any, eps: float = 1e-12) -> float:
    """``sigma_G / sigma_C``: population standard deviations of the two terms among the given samples (eq. 4/9)."""
    m = np.asarray(torch.as_tensor(marginal).detach().double().cpu(), dtype=np.float64).reshape(-1)
    c = np.asarray(torch.as_tensor(conditional).detach().double().cpu(), dtype=np.float64).reshape(-1)
    if m.size < 2 or c.size < 2:
        raise ShapeError("the balanced estimator needs at least 2 samples to estimate sigma_G / sigma_C")
    return float(m.std() / max(c.std(), eps))


class RunningBalance:
    """``sigma_G / sigma_C`` estimated over all samples seen during training (Chan/Welford moment merging).

    The paper's eq. 4 uses the standard deviations of the two terms "among samples" and notes they must be computed
    "along training": every :meth:`update` merges one batch, so the ratio covers the whole run so far.
    """

    def __init__(self) -> None:
        self.n = 0
        self.mean = np.zeros(2)
        self.m2 = np.zeros(2)

    def update(self, marginal: torch.Tensor, conditional: torch.Tensor) -> None:
        x = torch.stack([marginal.detach().double().reshape(-1), conditional.detach().double().reshape(-1)], 1)
        x = x.cpu().numpy()
        nb = x.shape[0]
        if nb == 0:
            return
        mb = x.mean(0)
        m2b = ((x - mb) ** 2).sum(0)
        delta = mb - self.mean
        tot = self.n + nb
        self.mean = self.mean + delta * nb / tot
        self.m2 = self.m2 + m2b + delta**2 * self.n * nb / tot
        self.n = tot

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / max(self.n, 1))

    @property
    def ratio(self) -> float:
        """``sigma_G / sigma_C`` so far (1.0 before two samples were seen)."""
        if self.n < 2:
            return 1.0
        sg, sc = self.std
        return float(sg / sc) if sc > 0 else 1.0

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean.tolist(), "m2": self.m2.tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.n = int(state["n"])
        self.mean = np.asarray(state["mean"], dtype=np.float64)
        self.m2 = np.asarray(state["m2"], dtype=np.float64)


# --------------------------------------------------------------------------------------------- re-weighting
def signed_power(x: torch.Tensor, beta: float) -> torch.Tensor:
    """``x^beta`` with ``x^beta = -|x|^beta`` for ``x < 0`` (eq. 5); ``beta = 0`` means no re-weighting (all ones).

    The paper's ``beta = 0`` for the generator is the official code's unweighted G loss, so 0 gives weight 1
    everywhere rather than the sign of ``x``.
    """
    if beta < 0 or not math.isfinite(beta):
        raise ConfigError(f"beta must be a finite number >= 0 (eq. 5), got {beta}")
    if beta == 0:
        return torch.ones_like(x)
    if beta == 1:
        return x.clone()
    return torch.sign(x) * x.abs().pow(beta)


def sample_weights(gold: torch.Tensor, beta: float) -> torch.Tensor:
    """The eq.-5 weights of generated samples from their GOLD values (detached: weights carry no gradient)."""
    return signed_power(gold.detach(), beta)


def weighted_mean(loss: torch.Tensor, weights: torch.Tensor, mode: str = "per_sample") -> torch.Tensor:
    """Mean of a per-sample loss (B,) under per-sample weights (B,).

    ``per_sample``: ``mean(w_i * loss_i)`` (eq. 5). ``official_batch_mean``: ``mean(loss) * mean(w)``, what the official
    code's ``(B, 1) * (B,)`` broadcast computes for the adversarial fake term (a batch-level scale, not a per-sample
    weight); offered to reproduce its numbers.
    """
    if mode not in WEIGHTINGS:
        raise ConfigError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {mode!r}")
    loss = loss.reshape(-1)
    weights = weights.reshape(-1).to(loss.dtype)
    if loss.shape != weights.shape:
        raise ShapeError(f"{loss.shape[0]} losses but {weights.shape[0]} weights")
    if mode == "per_sample":
        return (loss * weights).mean()
    return loss.mean() * weights.mean()
