"""Small convolutional and MLP backbones: toy MLPs, DCGAN (28/32 px), the ACGAN CIFAR G/D used by Dia-GAN's
MNIST runs and GOLD's 3-channel runs, and GOLD's InfoGAN-style 1-channel G/D.

Class conditioning in these families follows the papers: G reads ``z ⊕ onehot(y)`` (⊕ the raw instance feature
when ``feat_dim > 0``); an ACGAN discriminator predicts the class (``cls`` head) instead of reading it, and
a non-ACGAN conditional discriminator uses a projection head (class and/or instance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.core.nn.base import Discriminator, Generator
from ganlab.core.nn.layers import (
    ProjectionHead,
    check_images,
    check_resolution,
    init_weights,
    resync_spectral_norm,
    spectral_norm,
)

__all__ = [
    "ACGANConfig",
    "DCGANConfig",
    "InfoGANConfig",
    "MLPConfig",
    "build_acgan",
    "build_dcgan",
    "build_infogan",
    "build_mlp",
]


def _g_input(g: Generator, z: torch.Tensor, y: torch.Tensor | None, feat: torch.Tensor | None) -> torch.Tensor:
    """``z ⊕ onehot(y) ⊕ feat`` for the parts the generator uses (GOLD's toy / ACGAN / InfoGAN input)."""
    g._check_z(z)
    y, feat = g._conditions(z.shape[0], y, feat, type(g).__name__)
    parts = [z]
    if y is not None:
        parts.append(F.one_hot(y, g.num_classes).to(z.dtype))
    if feat is not None:
        parts.append(feat.to(z.dtype))
    return torch.cat(parts, dim=1) if len(parts) > 1 else z


def _d_outputs(d: Discriminator, h: torch.Tensor, y, feat) -> dict:
    out = {"adv": d.head(h, y, feat) if d.head is not None else d.adv(h).squeeze(1), "features": h}
    if d.cls is not None:
        out["cls"] = d.cls(h)
    return out


def _maybe_sn(module: nn.Module, sn: bool) -> nn.Module:
    return spectral_norm(module) if sn else module


# ------------------------------------------------------------------------------------------------------ toy MLP
@dataclass
class MLPConfig:
    """Toy MLP G/D for 2-D mixtures. Dia-GAN 25 Gaussians: z 2, 3 x 256 ReLU, no SN. GOLD synthetic: width 512,
    3 hidden, G reads z ⊕ onehot(y), D has adv + class heads (its SN wrapper is a no-op in the reference)."""

    data_dim: int = 2
    z_dim: int = 2
    width: int = 256
    depth: int = 3
    num_classes: int = 0
    feat_dim: int = 0
    acgan: bool = True  # with classes: D predicts them (`cls` head) rather than reading them
    sn: bool = False
    init: str = "default"
    zero_bias: bool = False  # biases start at 0 (GOLD's toy: N(0, 0.02) weights, zero biases)


class MLPGenerator(Generator):
    """MLP generator. Its output is a point in R^data_dim with a linear last layer (no tanh): the toy data
    (e.g. 25 Gaussians scaled by 1/2.828) is not confined to [-1, 1]."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim = cfg.z_dim, cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = 0, cfg.data_dim
        dims = [cfg.z_dim + cfg.num_classes + cfg.feat_dim] + [cfg.width] * cfg.depth
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], cfg.data_dim))
        self.net = nn.Sequential(*layers)
        init_weights(self, cfg.init)
        if cfg.zero_bias:
            _zero_biases(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_g_input(self, z, y, feat))


class MLPDiscriminator(Discriminator):
    """MLP discriminator: hidden ReLU layers, then ``adv`` (and ``cls`` for ACGAN, or a projection)."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = 0, cfg.data_dim
        self.class_input = bool(cfg.num_classes) and not cfg.acgan
        dims = [cfg.data_dim] + [cfg.width] * cfg.depth
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [_maybe_sn(nn.Linear(a, b), cfg.sn), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        _setup_heads(self, cfg.width, cfg.num_classes, cfg.feat_dim, cfg.acgan, cfg.sn)
        init_weights(self, cfg.init)
        if cfg.zero_bias:
            _zero_biases(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise ShapeError(f"MLP discriminator expects points of shape (B, {self.channels}), got {tuple(x.shape)}")
        y, feat = self._conditions(x.shape[0], y, feat, "MLP discriminator")
        return _d_outputs(self, self.net(x), y, feat)


def _setup_heads(d: Discriminator, width: int, num_classes: int, feat_dim: int, acgan: bool, sn: bool) -> None:
    """ACGAN: plain adv head + class head; otherwise a projection head (reduces to a linear one unconditionally)."""
    if acgan and num_classes:
        d.head = ProjectionHead(width, 0, feat_dim, sn=sn) if feat_dim else None
        d.adv = _maybe_sn(nn.Linear(width, 1), sn) if not feat_dim else None
        d.cls = _maybe_sn(nn.Linear(width, num_classes), sn)
    else:
        d.head = ProjectionHead(width, num_classes, feat_dim, sn=sn) if (num_classes or feat_dim) else None
        d.adv = _maybe_sn(nn.Linear(width, 1), sn) if d.head is None else None
        d.cls = None


def build_mlp(cfg: MLPConfig) -> tuple[MLPGenerator, MLPDiscriminator]:
    """Build the toy MLP (G, D) pair."""
    return MLPGenerator(cfg), MLPDiscriminator(cfg)


# ------------------------------------------------------------------------------------------------------- DCGAN
@dataclass
class DCGANConfig:
    """The DCGAN / SNGAN-paper "standard CNN" at 28 (7x7 start, 2 up-convs) or 32 px (4x4 start, 3 up-convs).

    G: Linear(z -> bw^2 * 8ngf) -> BN-ReLU -> [ConvT 4x4 s2 -> BN -> ReLU] -> conv3 -> tanh.
    D: per stage conv3 s1 + conv4 s2 (LeakyReLU 0.1), widths ndf*2^i, conv3 s1 to 8ndf, Linear -> 1.
    """

    resolution: int = 32
    channels: int = 3
    z_dim: int = 128
    ngf: int = 64
    ndf: int = 64
    num_classes: int = 0
    feat_dim: int = 0
    acgan: bool = False
    sn: bool = True
    init: str = "N02"


_DCGAN_BOTTOM = {28: 7, 32: 4}


class DCGANGenerator(Generator):
    """DCGAN generator (see :class:`DCGANConfig`)."""

    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        check_resolution("dcgan", cfg.resolution, _DCGAN_BOTTOM)
        bw = _DCGAN_BOTTOM[cfg.resolution]
        n_up = {28: 2, 32: 3}[cfg.resolution]
        self.z_dim, self.num_classes, self.feat_dim = cfg.z_dim, cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        top = cfg.ngf * 2**n_up
        self.bw, self.top = bw, top
        self.fc = nn.Sequential(nn.Linear(cfg.z_dim + cfg.num_classes + cfg.feat_dim, bw * bw * top))
        body: list[nn.Module] = [nn.BatchNorm2d(top), nn.ReLU()]
        ch = top
        for _ in range(n_up):
            body += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        body += [nn.Conv2d(ch, cfg.channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*body)
        init_weights(self, cfg.init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(_g_input(self, z, y, feat)).view(z.shape[0], self.top, self.bw, self.bw)
        return self.body(h)


class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator (see :class:`DCGANConfig`)."""

    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        check_resolution("dcgan", cfg.resolution, _DCGAN_BOTTOM)
        n_down = {28: 2, 32: 3}[cfg.resolution]
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.class_input = bool(cfg.num_classes) and not cfg.acgan
        layers: list[nn.Module] = []
        ch_in = cfg.channels
        for i in range(n_down):
            ch = cfg.ndf * 2**i
            layers += [
                _maybe_sn(nn.Conv2d(ch_in, ch, 3, 1, 1), cfg.sn),
                nn.LeakyReLU(0.1),
                _maybe_sn(nn.Conv2d(ch, ch, 4, 2, 1), cfg.sn),
                nn.LeakyReLU(0.1),
            ]
            ch_in = ch
        top = cfg.ndf * 2**n_down
        layers += [_maybe_sn(nn.Conv2d(ch_in, top, 3, 1, 1), cfg.sn), nn.LeakyReLU(0.1), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        width = top * (cfg.resolution // 2**n_down) ** 2
        _setup_heads(self, width, cfg.num_classes, cfg.feat_dim, cfg.acgan, cfg.sn)
        init_weights(self, cfg.init)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "DCGAN discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "DCGAN discriminator")
        return _d_outputs(self, self.net(x), y, feat)


def build_dcgan(cfg: DCGANConfig) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    """Build the DCGAN (G, D) pair."""
    return DCGANGenerator(cfg), DCGANDiscriminator(cfg)


# --------------------------------------------------------------------------------------------- ACGAN (CIFAR)
@dataclass
class ACGANConfig:
    """ACGAN G/D at 32 px (gitlimlab ACGAN-PyTorch layout), as used by Dia-GAN (MNIST variants) and GOLD; and the
    ImageNet ACGAN at 128 px (same repository's ``_netG`` / ``_netD``; GOLD's Imagenette / Imagewoof runs).

    G: Linear(z [⊕ onehot y] -> 384) -> 1x1 -> ConvT 384->192 (k4 s1) -> 96 -> 48 -> C (k4 s2 p1), BN + ReLU,
    bias-free ConvTs, tanh. D: six bias-free 3x3 convs 16 (s2), 32, 64 (s2), 128, 256 (s2), 512, each followed by
    LeakyReLU 0.2 and Dropout 0.5, BN from the second conv on; Linear(4*4*512 -> 1) [+ Linear(-> ny) class head].
    Init: conv N(0, 0.02), BN weight N(1, 0.02) and bias 0, Linear PyTorch default (as the reference).
    Dia-GAN: unconditional, no SN (``use_sn=False`` in its code), PacGAN packing via ``pack``; GOLD: SN on
    every D conv and a class head.

    128 px: G Linear(-> 768) -> 1x1 -> bias-free ConvT k5 s2 p0 768->384->256->192 (BN + ReLU) -> ConvT k5 s2
    192->64 -> tanh (no BN, as the reference) -> ConvT k8 s2 64->C -> tanh (1 -> 5 -> 13 -> 29 -> 61 -> 128). D: the
    same six convs with padding 0 on the stride-1 convs (128 -> 64 -> 62 -> 31 -> 29 -> 15 -> 13); heads on
    13*13*512 features.
    """

    resolution: int = 32
    channels: int = 3
    z_dim: int = 100
    num_classes: int = 0
    feat_dim: int = 0
    acgan: bool = True
    sn: bool = False
    dropout: float = 0.5
    pack: int = 1  # PacGAN: D sees `pack` samples concatenated along channels


def _acgan_init(module: nn.Module) -> None:
    if any(p.is_meta for p in module.parameters()):
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(w, 0.0, 0.02)
            resync_spectral_norm(m)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ACGANGenerator(Generator):
    """ACGAN CIFAR generator (see :class:`ACGANConfig`)."""

    def __init__(self, cfg: ACGANConfig) -> None:
        super().__init__()
        check_resolution("acgan", cfg.resolution, [32, 128])
        self.z_dim, self.num_classes, self.feat_dim = cfg.z_dim, cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.width = 384 if cfg.resolution == 32 else 768
        self.fc = nn.Linear(cfg.z_dim + cfg.num_classes + cfg.feat_dim, self.width)
        body: list[nn.Module] = []
        if cfg.resolution == 32:
            chans = [384, 192, 96, 48]
            body += [nn.ConvTranspose2d(384, 192, 4, 1, 0, bias=False), nn.BatchNorm2d(192), nn.ReLU()]
            for a, b in zip(chans[1:-1], chans[2:]):
                body += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
            body += [nn.ConvTranspose2d(48, cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        else:
            for a, b in zip([768, 384, 256], [384, 256, 192]):
                body += [nn.ConvTranspose2d(a, b, 5, 2, 0, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
            body += [nn.ConvTranspose2d(192, 64, 5, 2, 0, bias=False), nn.Tanh()]
            body += [nn.ConvTranspose2d(64, cfg.channels, 8, 2, 0, bias=False), nn.Tanh()]
        self.body = nn.Sequential(*body)
        _acgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        return self.body(self.fc(_g_input(self, z, y, feat)).view(z.shape[0], self.width, 1, 1))


class ACGANDiscriminator(Discriminator):
    """ACGAN CIFAR discriminator (see :class:`ACGANConfig`)."""

    def __init__(self, cfg: ACGANConfig) -> None:
        super().__init__()
        check_resolution("acgan", cfg.resolution, [32, 128])
        if cfg.pack < 1:
            raise ConfigError(f"pack must be >= 1, got {cfg.pack}")
        self.num_classes, self.feat_dim, self.pack = cfg.num_classes, cfg.feat_dim, cfg.pack
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.class_input = bool(cfg.num_classes) and not cfg.acgan
        spec = [(16, 2), (32, 1), (64, 2), (128, 1), (256, 2), (512, 1)]
        layers: list[nn.Module] = []
        ch_in = cfg.channels * cfg.pack
        # 128 px: the stride-1 convs are unpadded, so 128 -> 13 (the reference's ImageNet D)
        pad1 = 1 if cfg.resolution == 32 else 0
        for k, (ch, stride) in enumerate(spec):
            pad = 1 if stride == 2 else pad1
            layers.append(_maybe_sn(nn.Conv2d(ch_in, ch, 3, stride, pad, bias=False), cfg.sn))
            if k > 0:
                layers.append(nn.BatchNorm2d(ch))
            layers += [nn.LeakyReLU(0.2), nn.Dropout(cfg.dropout)]
            ch_in = ch
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)
        # heads are plain Linear layers: GOLD puts SN on the convs only
        side = 4 if cfg.resolution == 32 else 13
        _setup_heads(self, side * side * 512, cfg.num_classes, cfg.feat_dim, cfg.acgan, sn=False)
        _acgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        """With ``pack > 1`` the batch of B images is scored as B / pack packed samples (PacGAN, Dia-GAN's
        ``--num_pack``)."""
        check_images(x, self.channels, self.resolution, "ACGAN discriminator")
        if self.pack > 1:
            if x.shape[0] % self.pack:
                raise ConfigError(
                    f"PacGAN with pack={self.pack} needs a batch size divisible by {self.pack}, got {x.shape[0]}"
                )
            # as the reference: split the batch into `pack` chunks and concatenate them along channels, so
            # packed sample i holds samples i, i + B/pack, ...; its label / feature is that of the first chunk
            n = x.shape[0] // self.pack
            x = torch.cat(x.split(n, dim=0), dim=1)
            y = y[:n] if y is not None else None
            feat = feat[:n] if feat is not None else None
        y, feat = self._conditions(x.shape[0], y, feat, "ACGAN discriminator")
        return _d_outputs(self, self.net(x), y, feat)


def build_acgan(cfg: ACGANConfig) -> tuple[ACGANGenerator, ACGANDiscriminator]:
    """Build the ACGAN CIFAR (G, D) pair."""
    return ACGANGenerator(cfg), ACGANDiscriminator(cfg)


# ------------------------------------------------------------------------------------------- InfoGAN (MNIST)
@dataclass
class InfoGANConfig:
    """GOLD's 1-channel G/D (the znxlwm InfoGAN/ACGAN MNIST layout, no mutual-information term), 28 or 32 px.

    G: z ⊕ onehot(y) -> FC 1024 -> BN -> ReLU -> FC 128·(s/4)^2 -> BN -> ReLU -> ConvT(128->64, 4,2,1) -> BN ->
    ReLU -> ConvT(64->C, 4,2,1) -> tanh. D: conv(C->64, 4,2,1) -> LReLU 0.2 -> conv(64->128, 4,2,1) -> BN -> LReLU ->
    FC(128·(s/4)^2 -> 1024) -> BN1d -> LReLU, heads adv Linear(1024->1) and cls Linear(1024->ny).
    SN on the two D convs only; init N(0, 0.02) for conv/linear weights, biases 0.
    """

    resolution: int = 32
    channels: int = 1
    z_dim: int = 100
    num_classes: int = 10
    feat_dim: int = 0
    acgan: bool = True
    sn: bool = True


class InfoGANGenerator(Generator):
    """InfoGAN-style generator (see :class:`InfoGANConfig`)."""

    def __init__(self, cfg: InfoGANConfig) -> None:
        super().__init__()
        check_resolution("infogan", cfg.resolution, [28, 32])
        self.z_dim, self.num_classes, self.feat_dim = cfg.z_dim, cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.s = cfg.resolution // 4
        self.fc = nn.Sequential(
            nn.Linear(cfg.z_dim + cfg.num_classes + cfg.feat_dim, 1024),
            nn.BatchNorm1d(1024),
            nn.ReLU(),
            nn.Linear(1024, 128 * self.s * self.s),
            nn.BatchNorm1d(128 * self.s * self.s),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, cfg.channels, 4, 2, 1),
            nn.Tanh(),
        )
        _n02_zero_bias(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        return self.deconv(self.fc(_g_input(self, z, y, feat)).view(z.shape[0], 128, self.s, self.s))


class InfoGANDiscriminator(Discriminator):
    """InfoGAN-style discriminator with adv and class heads (see :class:`InfoGANConfig`)."""

    def __init__(self, cfg: InfoGANConfig) -> None:
        super().__init__()
        check_resolution("infogan", cfg.resolution, [28, 32])
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.class_input = bool(cfg.num_classes) and not cfg.acgan
        s = cfg.resolution // 4
        self.net = nn.Sequential(
            _maybe_sn(nn.Conv2d(cfg.channels, 64, 4, 2, 1), cfg.sn),
            nn.LeakyReLU(0.2),
            _maybe_sn(nn.Conv2d(64, 128, 4, 2, 1), cfg.sn),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * s * s, 1024),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(0.2),
        )
        _setup_heads(self, 1024, cfg.num_classes, cfg.feat_dim, cfg.acgan, sn=False)
        _n02_zero_bias(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "InfoGAN discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "InfoGAN discriminator")
        return _d_outputs(self, self.net(x), y, feat)


def _zero_biases(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None and not m.bias.is_meta:
            nn.init.zeros_(m.bias)


def _n02_zero_bias(module: nn.Module) -> None:
    if any(p.is_meta for p in module.parameters()):
        return
    init_weights(module, "N02")
    _zero_biases(module)


def build_infogan(cfg: InfoGANConfig) -> tuple[InfoGANGenerator, InfoGANDiscriminator]:
    """Build GOLD's 1-channel (G, D) pair."""
    return InfoGANGenerator(cfg), InfoGANDiscriminator(cfg)
