"""Fully connected G/D for small images (28 px digits): the cheapest image GAN that learns MNIST on a CPU in
minutes — a few milliseconds per step where a DCGAN's transposed convolutions take a tenth of a second.

G: ``z ⊕ onehot(y) ⊕ feat`` -> [Linear -> BN -> LeakyReLU 0.2] x depth -> Linear -> tanh -> (C, H, W).
D: flatten -> [Linear (SN) -> LeakyReLU 0.2] x depth -> heads (adv, a projection, or ACGAN's ``cls``), as the
other small families.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganlab.core.nn.base import Discriminator, Generator
from ganlab.core.nn.dcgan import _d_outputs, _g_input, _maybe_sn, _setup_heads
from ganlab.core.nn.layers import check_images, init_weights

__all__ = ["MLPImageConfig", "build_mlp_image"]


@dataclass
class MLPImageConfig:
    """Options of the ``mlp_image`` family (widths double towards the image side of G and the input side of D)."""

    resolution: int = 28
    channels: int = 1
    z_dim: int = 64
    width: int = 256
    depth: int = 2
    num_classes: int = 0
    feat_dim: int = 0
    acgan: bool = False
    sn: bool = True
    init: str = "default"


def _widths(cfg: MLPImageConfig) -> list[int]:
    return [cfg.width * 2**i for i in range(cfg.depth)]


class MLPImageGenerator(Generator):
    def __init__(self, cfg: MLPImageConfig) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim = cfg.z_dim, cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        dims = [cfg.z_dim + cfg.num_classes + cfg.feat_dim, *_widths(cfg)]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(dims[-1], cfg.channels * cfg.resolution**2), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, cfg.init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        out = self.net(_g_input(self, z, y, feat))
        return out.view(z.shape[0], self.channels, self.resolution, self.resolution)


class MLPImageDiscriminator(Discriminator):
    def __init__(self, cfg: MLPImageConfig) -> None:
        super().__init__()
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.class_input = bool(cfg.num_classes) and not cfg.acgan
        dims = [cfg.channels * cfg.resolution**2, *reversed(_widths(cfg))]
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [_maybe_sn(nn.Linear(a, b), cfg.sn), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        _setup_heads(self, dims[-1], cfg.num_classes, cfg.feat_dim, cfg.acgan, cfg.sn)
        init_weights(self, cfg.init)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "MLP image discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "MLP image discriminator")
        return _d_outputs(self, self.net(x), y, feat)


def build_mlp_image(cfg: MLPImageConfig) -> tuple[MLPImageGenerator, MLPImageDiscriminator]:
    """Build the fully connected image (G, D) pair."""
    return MLPImageGenerator(cfg), MLPImageDiscriminator(cfg)
