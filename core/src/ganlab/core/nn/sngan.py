"""SNGAN ResNet backbones at 32, 48, 64 and 128 px and SSGAN (rotation head), as torch-mimicry defines them
(the base library of Dia-GAN's CIFAR-10 / CelebA runs).

G: Linear(z -> bw^2 * C) -> upsampling residual blocks (BN-ReLU-bilinear x2-conv3-BN-ReLU-conv3, 1x1 shortcut)
-> BN -> ReLU -> conv3 -> tanh. D (SN everywhere): an "optimised" first block, residual blocks, ReLU, global sum
pooling, SN-Linear. Init: Xavier-uniform, gain sqrt(2) in residual convs and 1 elsewhere (mimicry).
The same conditioning interface as BigGAN is available (per-layer class embeddings in the BNs, a projection
head for class / instance), which makes cGAN-PD; the paper presets are unconditional.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.nn.base import Discriminator, Generator
from ganlab.core.nn.layers import (
    SQRT2,
    ConditionalBatchNorm2d,
    ConditionEmbedding,
    ProjectionHead,
    check_images,
    check_resolution,
    layer_factories,
    sn_linear,
    xavier_,
)

__all__ = ["SNGANConfig", "SNGANDiscriminator", "SNGANGenerator", "build_sngan"]

# G: (bottom width, default ngf, channel shifts of the block inputs/outputs relative to ngf)
G_ARCH = {
    32: (4, 256, [(0, 0), (0, 0), (0, 0)]),
    48: (6, 512, [(0, 1), (1, 2), (2, 3)]),
    64: (4, 1024, [(0, 1), (1, 2), (2, 3), (3, 4)]),
    128: (4, 1024, [(0, 0), (0, 1), (1, 2), (2, 3), (3, 4)]),
}
# D: (default ndf, [(in shift, out shift, downsample)]); the first block is the optimised one, input = image
D_ARCH = {
    32: (128, [(None, 0, True), (0, 0, True), (0, 0, False), (0, 0, False)]),
    48: (1024, [(None, 4, True), (4, 3, True), (3, 2, True), (2, 1, True), (1, 0, False)]),
    64: (1024, [(None, 4, True), (4, 3, True), (3, 2, True), (2, 1, True), (1, 0, True)]),
    128: (1024, [(None, 4, True), (4, 3, True), (3, 2, True), (2, 1, True), (1, 0, True), (0, 0, False)]),
}


@dataclass
class SNGANConfig:
    """Options of the SNGAN / SSGAN family (torch-mimicry defaults per resolution when ngf/ndf are 0)."""

    resolution: int = 32
    channels: int = 3
    z_dim: int = 128
    ngf: int = 0  # 0 = mimicry default for the resolution (256 at 32, 512 at 48, 1024 at 64/128)
    ndf: int = 0  # 0 = mimicry default (128 at 32, 1024 otherwise)
    num_classes: int = 0
    feat_dim: int = 0
    feat_embed_dim: int = 512
    rotation_head: bool = False  # SSGAN: D also returns `rot`, 4-way rotation logits
    sn_eps: float = 1e-12


class _GBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, bn) -> None:
        super().__init__()
        self.b1, self.c1 = bn(in_ch), nn.Conv2d(in_ch, out_ch, 3, 1, 1)
        self.b2, self.c2 = bn(out_ch), nn.Conv2d(out_ch, out_ch, 3, 1, 1)
        self.c_sc = nn.Conv2d(in_ch, out_ch, 1, 1, 0)  # every G block upsamples, so the shortcut is learnable
        for m, gain in ((self.c1, SQRT2), (self.c2, SQRT2), (self.c_sc, 1.0)):
            xavier_(m, gain)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None, y: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.b1(x, c, y))
        h = self.c1(F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False))
        h = self.c2(F.relu(self.b2(h, c, y)))
        return h + self.c_sc(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


class _DBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, downsample: bool, optimized: bool, conv) -> None:
        super().__init__()
        hidden = out_ch if optimized else in_ch  # mimicry: hidden = in_channels except in the optimised block
        self.c1, self.c2 = conv(in_ch, hidden), conv(hidden, out_ch)
        self.optimized, self.downsample = optimized, downsample
        learnable = optimized or in_ch != out_ch or downsample
        self.c_sc = conv(in_ch, out_ch, kernel_size=1, padding=0) if learnable else None
        for m, gain in ((self.c1, SQRT2), (self.c2, SQRT2), (self.c_sc, 1.0)):
            if m is not None:
                xavier_(m, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.optimized else F.relu(x)
        h = self.c2(F.relu(self.c1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.optimized:  # pool, then 1x1 conv
            sc = self.c_sc(F.avg_pool2d(x, 2))
        else:
            sc = self.c_sc(x) if self.c_sc is not None else x
            if self.downsample:
                sc = F.avg_pool2d(sc, 2)
        return h + sc


class SNGANGenerator(Generator):
    """torch-mimicry SNGAN generator (no SN in G)."""

    def __init__(self, cfg: SNGANConfig) -> None:
        super().__init__()
        check_resolution("sngan", cfg.resolution, G_ARCH)
        bw, ngf_default, shifts = G_ARCH[cfg.resolution]
        ngf = cfg.ngf or ngf_default
        self.z_dim, self.resolution, self.channels = cfg.z_dim, cfg.resolution, cfg.channels
        self.num_classes, self.feat_dim, self.bottom_width = cfg.num_classes, cfg.feat_dim, bw
        _, linear = layer_factories(True, cfg.sn_eps)
        # cGAN-PD style: per-layer class embeddings in the BNs; the instance feature through an SN-linear
        self.cond = ConditionEmbedding(
            cfg.num_classes, cfg.feat_dim, feat_embed_dim=cfg.feat_embed_dim, shared=False, linear=linear
        )

        def bn(c: int) -> ConditionalBatchNorm2d:
            return ConditionalBatchNorm2d(c, self.cond.out_dim, self.cond.bn_classes)

        self.l1 = nn.Linear(cfg.z_dim, bw * bw * ngf)
        self.blocks = nn.ModuleList(_GBlock(ngf >> a, ngf >> b, bn) for a, b in shifts)
        last = ngf >> shifts[-1][1]
        self.out_bn = nn.BatchNorm2d(last)
        self.out_conv = nn.Conv2d(last, cfg.channels, 3, 1, 1)
        xavier_(self.l1, 1.0)
        xavier_(self.out_conv, 1.0)
        self._first_ch = ngf

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        self._check_z(z)
        y, feat = self._conditions(z.shape[0], y, feat, "SNGAN generator")
        c = self.cond(y, feat)
        h = self.l1(z).view(z.shape[0], self._first_ch, self.bottom_width, self.bottom_width)
        for block in self.blocks:
            h = block(h, c, y)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))


class SNGANDiscriminator(Discriminator):
    """torch-mimicry SNGAN discriminator; with ``rotation_head`` the SSGAN one (adds ``rot``)."""

    def __init__(self, cfg: SNGANConfig) -> None:
        super().__init__()
        check_resolution("sngan", cfg.resolution, D_ARCH)
        ndf_default, spec = D_ARCH[cfg.resolution]
        ndf = cfg.ndf or ndf_default
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        conv, _ = layer_factories(True, cfg.sn_eps)
        blocks = []
        for k, (a, b, down) in enumerate(spec):
            in_ch = cfg.channels if k == 0 else ndf >> a
            blocks.append(_DBlock(in_ch, ndf >> b, down, optimized=k == 0, conv=conv))
        self.blocks = nn.Sequential(*blocks)
        width = ndf >> spec[-1][1]
        self.head = ProjectionHead(width, cfg.num_classes, cfg.feat_dim, sn=True, eps=cfg.sn_eps)
        xavier_(self.head.linear, 1.0)
        self.rot = sn_linear(width, 4, eps=cfg.sn_eps) if cfg.rotation_head else None
        if self.rot is not None:
            xavier_(self.rot, 1.0)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "SNGAN discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "SNGAN discriminator")
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        out = {"adv": self.head(h, y, feat), "features": h}
        if self.rot is not None:
            out["rot"] = self.rot(h)
        return out


def build_sngan(cfg: SNGANConfig) -> tuple[SNGANGenerator, SNGANDiscriminator]:
    """Build the (G, D) pair of the SNGAN / SSGAN family."""
    return SNGANGenerator(cfg), SNGANDiscriminator(cfg)
