"""GAN losses, per sample (no reduction) so that a method can weight samples (GOLD, Dia-GAN baselines, top-k).

Every loss maps the discriminator's raw outputs ``logits`` of shape (B,) to per-sample losses of shape (B,):

=============  =========================  =========================  ======================
name           ``d_real(l)``              ``d_fake(l)``              ``g(l)``
=============  =========================  =========================  ======================
``ns``         BCE(l, 1) = softplus(-l)   BCE(l, 0) = softplus(l)    softplus(-l)
``hinge``      relu(1 - l)                relu(1 + l)                -l
``wasserstein`` -l                        l                          -l
=============  =========================  =========================  ======================

``ns`` is the non-saturating loss of Goodfellow et al. (2014): D minimises the binary cross-entropy on logits and G
minimises ``-log sigmoid(l) = softplus(-l)`` (the numerically stable form of mimicry's
``-log(sigmoid(l) + 1e-8)``; the two agree to 1e-8 wherever the latter is finite).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganlab.core.errors import ShapeError
from ganlab.core.registry import Registry

LOSSES: Registry[type[GanLoss]] = Registry("loss")


def _check(logits: torch.Tensor) -> torch.Tensor:
    if logits.ndim == 2 and logits.shape[1] == 1:  # tolerate (B, 1) heads; everything downstream is (B,)
        logits = logits[:, 0]
    if logits.ndim != 1:
        raise ShapeError(f"a GAN loss takes discriminator logits of shape (B,), got {tuple(logits.shape)}")
    return logits


class GanLoss:
    """Per-sample adversarial losses; subclasses implement the three terms."""

    name = "base"

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample D loss on real samples, shape (B,)."""
        raise NotImplementedError

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample D loss on generated samples, shape (B,)."""
        raise NotImplementedError

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample G loss on generated samples, shape (B,)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@LOSSES.register("ns")
class NonSaturatingLoss(GanLoss):
    """Non-saturating GAN loss: D by BCE-with-logits, G by ``softplus(-l) = -log sigmoid(l)``."""

    name = "ns"

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        logits = _check(logits)
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        logits = _check(logits)
        return F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-_check(logits))


@LOSSES.register("hinge")
class HingeLoss(GanLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D by ``relu(1 -+ l)``, G by ``-l``."""

    name = "hinge"

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - _check(logits))

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 + _check(logits))

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return -_check(logits)


@LOSSES.register("wasserstein")
class WassersteinLoss(GanLoss):
    """Wasserstein critic loss (Arjovsky et al. 2017), without a Lipschitz penalty (pair it with SN or add one)."""

    name = "wasserstein"

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return -_check(logits)

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return _check(logits)

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return -_check(logits)


def get_loss(name: str) -> GanLoss:
    """The loss called ``name`` (``ns``, ``hinge``, ``wasserstein``); an unknown name raises RegistryError."""
    return LOSSES.get(name)()


def list_losses() -> list[str]:
    return LOSSES.names()


def log_density_ratio(logits: torch.Tensor) -> torch.Tensor:
    """``log D(x) / (1 - D(x))`` for ``D = sigmoid(logit)``, i.e. the raw logit (Dia-GAN Eq. 2, GOLD Eq. 3).

    For a discriminator trained with the NS loss this estimates ``log p_data(x) / p_g(x)``. Returned as float32, shape
    (B,), without detaching (call under ``torch.no_grad()`` when recording).
    """
    return _check(logits).float()
