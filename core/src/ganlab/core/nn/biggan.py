"""BigGAN / SAGAN family at 32, 64, 128 and 256 px (Brock et al. 2019; Zhang et al. 2019).

Architecture as BigGAN-PyTorch (channel tables, ResNet blocks, nearest upsampling, wide D with pre-activation
from the second block, global sum pooling, projection output, SN everywhere, self-attention at chosen
resolutions). One class serves every conditioning: class (shared or per-layer embeddings), instance (IC-GAN:
SN-Linear feat_dim -> 512 in G, SN-Linear feat_dim -> C in D) and class + instance (cc-IC-GAN), each optionally
with a hierarchical z. SAGAN is this family without shared embedding / hierarchical z (Instance Selection's runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.core.nn.base import Discriminator, Generator
from ganlab.core.nn.layers import (
    ConditionalBatchNorm2d,
    ConditionEmbedding,
    ProjectionHead,
    SelfAttention,
    check_images,
    check_resolution,
    init_weights,
    layer_factories,
)

__all__ = ["BigGANConfig", "BigGANDiscriminator", "BigGANGenerator", "build_biggan"]

# (in, out) channel multipliers per block, from BigGAN-PyTorch's G_arch / D_arch.
G_ARCH = {
    32: ([4, 4, 4], [4, 4, 4]),
    64: ([16, 16, 8, 4], [16, 8, 4, 2]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
}
D_ARCH = {  # (in, out, downsample, resolution label used for attention)
    32: ([None, 4, 4, 4], [4, 4, 4, 4], [True, True, False, False], [16, 16, 16, 16]),
    64: ([None, 1, 2, 4, 8], [1, 2, 4, 8, 16], [True] * 4 + [False], [32, 16, 8, 4, 4]),
    128: ([None, 1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 16], [True] * 5 + [False], [64, 32, 16, 8, 4, 4]),
    256: ([None, 1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False], [128, 64, 32, 16, 8, 4, 4]),
}


@dataclass
class BigGANConfig:
    """Options of the BigGAN/SAGAN family (names follow BigGAN-PyTorch's flags where they exist)."""

    resolution: int = 128
    channels: int = 3
    ch: int = 64  # channel multiplier for G and D (G_ch = D_ch)
    g_ch: int = 0  # 0 = ch
    d_ch: int = 0  # 0 = ch
    z_dim: int = 120
    num_classes: int = 1000
    feat_dim: int = 0  # instance-feature size (IC-GAN: 2048); 0 = no instance conditioning
    shared: bool = True  # G_shared: one class embedding shared by all conditional BNs
    shared_dim: int = 128  # 0 = z_dim (BigGAN-PyTorch's rule)
    feat_embed_dim: int = 512  # IC-GAN shared_dim_feat
    # classes of a shared embedding G builds and never reads: the official unlabelled IC-GAN G (G_shared with
    # class_cond off) has nn.Embedding(1000, 128); built so that parameter counts and state dicts match (0 = none)
    unused_class_embedding: int = 0
    hier: bool = True  # hierarchical z: one chunk to the first linear layer, one per block
    g_attn: str = "64"  # resolutions with self-attention in G, "_"-separated; "0" = none
    d_attn: str = "64"
    g_init: str = "ortho"
    d_init: str = "ortho"
    sn_eps: float = 1e-6
    bn_eps: float = 1e-5
    g_sn: bool = True  # BigGAN's G_param="SN"
    d_wide: bool = True
    bottom_width: int = 4
    # IC-GAN's unconditional BigGAN baseline: a class-conditional model whose labels are all set to zero
    # ("constant_conditioning"); y is then ignored and num_classes (default 1) only sizes the embeddings.
    constant_conditioning: bool = False


def _attn_set(spec: str | int | tuple) -> set[int]:
    if isinstance(spec, int):
        return set() if spec == 0 else {spec}
    if isinstance(spec, (tuple, list)):
        return {int(s) for s in spec if int(s)}
    try:
        return {int(s) for s in str(spec).split("_") if int(s)}
    except ValueError:
        raise ConfigError(f"attention resolutions must look like '64' or '32_64' or '0', got {spec!r}") from None


class GBlock(nn.Module):
    """BN -> ReLU -> 2x nearest -> conv3 -> BN -> ReLU -> conv3, plus 1x1-conv shortcut on the upsampled input."""

    def __init__(self, in_ch: int, out_ch: int, conv, bn) -> None:
        super().__init__()
        self.bn1, self.conv1 = bn(in_ch), conv(in_ch, out_ch)
        self.bn2, self.conv2 = bn(out_ch), conv(out_ch, out_ch)
        self.conv_sc = conv(in_ch, out_ch, kernel_size=1, padding=0)  # always learnable: every block upsamples

    def forward(self, x: torch.Tensor, c: torch.Tensor | None, y: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.bn1(x, c, y))
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), c, y)))
        return h + self.conv_sc(x)


class DBlock(nn.Module):
    """Wide residual D block; pre-activation except in the first block (then the shortcut pools first)."""

    def __init__(self, in_ch: int, out_ch: int, conv, *, wide: bool, preactivation: bool, downsample: bool) -> None:
        super().__init__()
        hidden = out_ch if wide else in_ch
        self.conv1, self.conv2 = conv(in_ch, hidden), conv(hidden, out_ch)
        self.preactivation, self.downsample = preactivation, downsample
        self.conv_sc = conv(in_ch, out_ch, kernel_size=1, padding=0) if (in_ch != out_ch or downsample) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.preactivation:
            if self.conv_sc is not None:
                x = self.conv_sc(x)
            if self.downsample:
                x = F.avg_pool2d(x, 2)
        else:
            if self.downsample:
                x = F.avg_pool2d(x, 2)
            if self.conv_sc is not None:
                x = self.conv_sc(x)
        return h + x


class BigGANGenerator(Generator):
    """BigGAN generator: ``G(z, y=None, feat=None)``; y are class indices (embedded inside), feat raw features."""

    def __init__(self, cfg: BigGANConfig) -> None:
        super().__init__()
        check_resolution("biggan", cfg.resolution, G_ARCH)
        ch = cfg.g_ch or cfg.ch
        ins, outs = ([m * ch for m in a] for a in G_ARCH[cfg.resolution])
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.num_classes, self.feat_dim, self.hier = cfg.num_classes, cfg.feat_dim, cfg.hier
        self.constant_conditioning = cfg.constant_conditioning
        self.class_input = not cfg.constant_conditioning and cfg.num_classes > 0
        self.bottom_width = cfg.bottom_width
        conv, linear = layer_factories(cfg.g_sn, cfg.sn_eps)
        if cfg.hier:
            self.num_slots = len(ins) + 1
            self.z_chunk = cfg.z_dim // self.num_slots
            # BigGAN-PyTorch rounds z_dim down to a multiple of the number of slots
            self.z_dim = self.z_chunk * self.num_slots
        else:
            self.num_slots, self.z_chunk, self.z_dim = 1, 0, cfg.z_dim
        self.cond = ConditionEmbedding(
            cfg.num_classes,
            cfg.feat_dim,
            class_dim=cfg.shared_dim or cfg.z_dim,
            feat_embed_dim=cfg.feat_embed_dim,
            shared=cfg.shared,
            linear=linear,
        )
        cond_dim = self.cond.out_dim + self.z_chunk
        n_unused = cfg.unused_class_embedding
        self.unused_embedding = nn.Embedding(n_unused, cfg.shared_dim or cfg.z_dim) if n_unused else None

        def bn(c: int) -> ConditionalBatchNorm2d:
            return ConditionalBatchNorm2d(c, cond_dim, self.cond.bn_classes, eps=cfg.bn_eps, linear=linear)

        self.linear = linear(self.z_dim // self.num_slots, ins[0] * cfg.bottom_width**2)
        attn = _attn_set(cfg.g_attn)
        res = [cfg.bottom_width * 2 ** (i + 1) for i in range(len(ins))]
        self.blocks = nn.ModuleList(GBlock(i, o, conv, bn) for i, o in zip(ins, outs))
        self.attention = nn.ModuleDict({str(i): SelfAttention(outs[i], conv) for i, r in enumerate(res) if r in attn})
        self.out_bn = nn.BatchNorm2d(outs[-1], eps=cfg.bn_eps)
        self.out_conv = conv(outs[-1], cfg.channels)
        init_weights(self, cfg.g_init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        self._check_z(z)
        y, feat = self._conditions(z.shape[0], y, feat, "BigGAN generator")
        if self.constant_conditioning:
            y = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        c = self.cond(y, feat)
        if self.hier:
            zs = torch.split(z, self.z_chunk, dim=1)
            z = zs[0]
            cs = [zc if c is None else torch.cat([c, zc], dim=1) for zc in zs[1:]]
        else:
            cs = [c] * len(self.blocks)
        h = self.linear(z).view(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for i, block in enumerate(self.blocks):
            h = block(h, cs[i], y)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))

    def ortho_blacklist(self) -> list[nn.Parameter]:
        embs = [m for m in (self.cond.class_embed, self.unused_embedding) if m is not None]
        return [p for m in embs for p in m.parameters()]


class BigGANDiscriminator(Discriminator):
    """BigGAN projection discriminator: ``D(x, y=None, feat=None) -> dict(adv, features)``."""

    def __init__(self, cfg: BigGANConfig) -> None:
        super().__init__()
        check_resolution("biggan", cfg.resolution, D_ARCH)
        ch = cfg.d_ch or cfg.ch
        ins, outs, down, res = D_ARCH[cfg.resolution]
        ins = [cfg.channels] + [m * ch for m in ins[1:]]
        outs = [m * ch for m in outs]
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.constant_conditioning = cfg.constant_conditioning
        self.class_input = not cfg.constant_conditioning and cfg.num_classes > 0
        conv, _ = layer_factories(True, cfg.sn_eps)
        attn = _attn_set(cfg.d_attn)
        self.blocks = nn.ModuleList(
            DBlock(i, o, conv, wide=cfg.d_wide, preactivation=k > 0, downsample=d)
            for k, (i, o, d) in enumerate(zip(ins, outs, down))
        )
        self.attention = nn.ModuleDict({str(k): SelfAttention(outs[k], conv) for k, r in enumerate(res) if r in attn})
        self.head = ProjectionHead(outs[-1], cfg.num_classes, cfg.feat_dim, sn=True, eps=cfg.sn_eps)
        init_weights(self, cfg.d_init)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "BigGAN discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "BigGAN discriminator")
        if self.constant_conditioning:
            y = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        h = x
        for k, block in enumerate(self.blocks):
            h = block(h)
            if str(k) in self.attention:
                h = self.attention[str(k)](h)
        h = F.relu(h).sum(dim=(2, 3))  # global sum pooling
        return {"adv": self.head(h, y, feat), "features": h}


def build_biggan(cfg: BigGANConfig) -> tuple[BigGANGenerator, BigGANDiscriminator]:
    """Build the (G, D) pair of the BigGAN/SAGAN family."""
    if cfg.constant_conditioning and cfg.num_classes < 1:
        raise ConfigError("constant_conditioning=True needs num_classes >= 1 (the constant label is class 0)")
    return BigGANGenerator(cfg), BigGANDiscriminator(cfg)
