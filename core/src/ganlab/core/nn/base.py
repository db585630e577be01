"""Base classes that fix the generator / discriminator interface every backbone follows.

``G(z, y=None, feat=None) -> images`` and ``D(x, y=None, feat=None) -> dict(adv=(B,), ...)``. Conditioning is
declared by two attributes: ``num_classes`` (0 = no class input) and ``feat_dim`` (0 = no instance feature).
A model ignores an input it does not use (datasets always carry labels, so an unconditional model is simply
handed ``y`` and drops it), and raises ShapeError when an input it needs is missing or mis-shaped.
"""

from __future__ import annotations

import torch
from torch import nn

from ganlab.core.errors import ShapeError

__all__ = ["Discriminator", "Generator", "count_parameters"]


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``module``; buffers (BN statistics, SN vectors) are not counted."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


class _Conditioned(nn.Module):
    num_classes: int = 0
    feat_dim: int = 0
    resolution: int = 0  # 0 for models of vectors (toy MLPs)
    channels: int = 3
    #: whether forward consumes y (an ACGAN discriminator has classes but predicts them instead)
    class_input: bool | None = None

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of one sample: (channels, resolution, resolution) for images, (channels,) for 2-D toy points."""
        return (self.channels, self.resolution, self.resolution) if self.resolution else (self.channels,)

    @property
    def uses_class_input(self) -> bool:
        """Whether forward reads y (False for unconditional models, ACGAN discriminators, constant conditioning)."""
        return bool(self.num_classes) if self.class_input is None else bool(self.class_input)

    def _conditions(self, batch: int, y: torch.Tensor | None, feat: torch.Tensor | None, who: str):
        """Validate and return the (y, feat) this model uses; inputs it does not use become None."""
        if self.uses_class_input:
            if y is None:
                raise ShapeError(
                    f"{who} is class-conditional (num_classes={self.num_classes}): pass y, a (B,) "
                    "tensor of class indices"
                )
            y = y.reshape(-1).long()
            if y.shape[0] != batch:
                raise ShapeError(f"{who}: y has {y.shape[0]} labels for a batch of {batch}")
        else:
            y = None
        if self.feat_dim:
            if feat is None:
                raise ShapeError(
                    f"{who} is instance-conditional (feat_dim={self.feat_dim}): pass feat, a "
                    f"(B, {self.feat_dim}) tensor of instance features"
                )
            if feat.ndim != 2 or feat.shape != (batch, self.feat_dim):
                raise ShapeError(f"{who}: feat must have shape ({batch}, {self.feat_dim}), got {tuple(feat.shape)}")
        else:
            feat = None
        return y, feat


class Generator(_Conditioned):
    """Maps ``z`` of shape (B, z_dim) (and labels / instance features) to images in [-1, 1] (tanh).

    Attributes: ``z_dim``, ``num_classes``, ``feat_dim``, ``resolution``, ``channels``.
    """

    z_dim: int

    def _check_z(self, z: torch.Tensor) -> None:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ShapeError(f"{type(self).__name__} expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}")

    def sample_z(
        self, n: int, *, device: torch.device | str | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` standard-normal latents (B, z_dim)."""
        return torch.randn(n, self.z_dim, device=device, generator=generator)

    def sample_y(
        self, n: int, *, device: torch.device | str | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor | None:
        """``n`` uniform class labels, or None for a model without class input."""
        if not self.uses_class_input:
            return None
        return torch.randint(self.num_classes, (n,), device=device, generator=generator)

    def ortho_blacklist(self) -> list[nn.Parameter]:
        """Parameters BigGAN's orthogonal regularisation skips (the shared class embedding)."""
        return []


class Discriminator(_Conditioned):
    """Maps images (and labels / instance features) to ``dict(adv=(B,) logits, ...)``.

    Optional keys: ``cls`` (B, num_classes) ACGAN class logits, ``rot`` (B, 4) SSGAN rotation logits,
    ``features`` (B, F) the penultimate representation.
    """
