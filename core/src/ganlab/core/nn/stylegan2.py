"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"), 32 to 1024 px.

Generator = mapping network (``mapping_layers`` equalised-lr FC layers of width ``w_dim`` with lr multiplier
``mapping_lr_mul``, leaky ReLU) + synthesis network in the "skip" architecture (learned 4x4 constant input; per
resolution two modulated 3x3 convs, the first upsampling, each with a scaled noise input; a non-demodulated 1x1
toRGB per resolution whose outputs are upsampled and summed). Discriminator = "resnet" architecture (fromRGB at
the top resolution, residual blocks conv3 -> conv3 down with a 1x1 down skip, both scaled by sqrt(0.5)), then
minibatch-stddev, conv3, FC, FC. Channels at resolution r: ``min(channel_base // r, channel_max)``; the community
PyTorch port's ``channel_multiplier`` m is ``channel_base = 16384 * m`` with ``channel_max = 512``.

Conditioning (StyleGAN2-ADA / IC-GAN): the class (one-hot -> FC) and/or the instance feature (FC) are embedded,
2nd-moment normalised together and concatenated to the normalised z at the mapping input; D maps them through its
own mapping network to ``cmap`` and scores ``<out(x), cmap> / sqrt(cmap_dim)`` (projection conditioning).

Mixed precision (StyleGAN2-ADA's option): ``num_fp16_res`` = N runs the top N resolutions of G's synthesis and of
D's blocks (never the 4x4 ones) in float16 on CUDA, parameters and the skip image kept in float32; ``conv_clamp``
bounds every activated conv output (synthesis convs, toRGB, D convs) to +-conv_clamp (256 is ADA's value with
fp16), so fp16 activations cannot overflow. On CPU the fp16 cast is a no-op; the clamp still applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.core.nn.base import Discriminator, Generator
from ganlab.core.nn.layers import check_images
from ganlab.core.nn.stylegan2_ops import (
    EqualConv2d,
    EqualLinear,
    MinibatchStd,
    lrelu_gain,
    modulated_conv2d,
    normalize_2nd_moment,
    setup_filter,
    upsample2d,
)
from ganlab.core.nn.stylegan2_reg import mix_styles, truncate

__all__ = [
    "MappingNetwork",
    "StyleGAN2Config",
    "StyleGAN2Discriminator",
    "StyleGAN2Generator",
    "SynthesisNetwork",
    "build_stylegan2",
    "channels_at",
    "compute_dtype",
    "fp16_resolutions",
]

MIN_RES, MAX_RES = 32, 1024


@dataclass
class StyleGAN2Config:
    """Options of the StyleGAN2 family (defaults: the paper's config F at 1024 channels, unconditional)."""

    resolution: int = 256
    channels: int = 3
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    w_avg_beta: float = 0.995  # decay of the tracked average of w (truncation); 0 = no tracking
    channel_base: int = 32768
    channel_max: int = 512
    num_classes: int = 0
    feat_dim: int = 0  # instance-feature size (IC-GAN: 2048); 0 = no instance conditioning
    class_embed_dim: int = 0  # 0 = w_dim (StyleGAN2-ADA's embed_features)
    feat_embed_dim: int = 0  # 0 = w_dim (IC-GAN's embed_features_feat)
    d_mapping_layers: int = 8  # D's conditioning mapping network (StyleGAN2-ADA default)
    cmap_dim: int = 0  # 0 = D channels at 4x4
    mbstd_group_size: int = 4
    mbstd_channels: int = 1
    resample_filter: tuple = (1, 3, 3, 1)
    # The official networks output linear RGB; ganlab's contract (and its feature extractors) want [-1, 1], so tanh
    # is the default here. "linear" reproduces the official output (then clamp before evaluating).
    out_act: str = "tanh"
    num_fp16_res: int = 0  # top resolutions in float16 (CUDA only), e.g. 4 with conv_clamp 256
    conv_clamp: float | None = None  # bound of every activated conv output; None = no clamping


def compute_dtype(use_fp16: bool, device: torch.device) -> torch.dtype:
    """float16 for an fp16 block on CUDA; float32 otherwise (CPU half convolutions are slow or missing: a no-op)."""
    return torch.float16 if use_fp16 and device.type == "cuda" else torch.float32


def fp16_resolutions(resolution: int, num_fp16_res: int) -> set[int]:
    """The top ``num_fp16_res`` resolutions, never below 8 (the 4x4 input and D's epilogue stay float32)."""
    log2 = int(math.log2(resolution))
    return {2**i for i in range(max(log2 + 1 - num_fp16_res, 3), log2 + 1)} if num_fp16_res > 0 else set()


def channels_at(res: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at resolution ``res``."""
    return min(channel_base // res, channel_max)


def _check_config(cfg: StyleGAN2Config) -> None:
    r = cfg.resolution
    if not isinstance(r, int) or r < MIN_RES or r > MAX_RES or r & (r - 1):
        raise ConfigError(
            f"backbone 'stylegan2' needs a power-of-two resolution between {MIN_RES} and {MAX_RES}, got {r!r} "
            "(resize the dataset with resolution=...)"
        )
    if channels_at(r, cfg.channel_base, cfg.channel_max) < 1:
        raise ConfigError(
            f"stylegan2: channel_base {cfg.channel_base} leaves no channels at {r} px; use channel_base >= {r}"
        )
    if cfg.out_act not in ("tanh", "linear"):
        raise ConfigError(f"stylegan2: out_act must be 'tanh' or 'linear', got {cfg.out_act!r}")
    for name in ("z_dim", "w_dim", "mapping_layers"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"stylegan2: {name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.num_classes < 0 or cfg.feat_dim < 0:
        raise ConfigError("stylegan2: num_classes and feat_dim must be >= 0 (0 = unconditioned)")
    if cfg.num_fp16_res < 0:
        raise ConfigError(f"stylegan2: num_fp16_res must be >= 0 (0 = all float32), got {cfg.num_fp16_res}")
    if cfg.conv_clamp is not None and not cfg.conv_clamp > 0:
        raise ConfigError(f"stylegan2: conv_clamp must be > 0 or null (no clamping), got {cfg.conv_clamp}")


# ------------------------------------------------------------------------------------------------- mapping
class MappingNetwork(nn.Module):
    """``(z, y, feat) -> w`` (B, w_dim). ``z_dim = 0`` gives D's conditioning mapping (embedding only).

    Inputs: z is 2nd-moment normalised; the class (one-hot) and instance embeddings are concatenated, then
    normalised together, then concatenated after z. With ``w_avg_beta`` > 0 a training-mode forward updates
    ``w_avg <- lerp(mean(w), w_avg, beta)``; ``w_avg_updates`` counts the updates (0 = no average yet).
    """

    def __init__(
        self,
        z_dim: int,
        num_classes: int,
        feat_dim: int,
        w_dim: int,
        num_layers: int,
        *,
        class_embed_dim: int = 0,
        feat_embed_dim: int = 0,
        lr_mul: float = 0.01,
        w_avg_beta: float = 0.0,
    ) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim, self.w_dim = z_dim, num_classes, feat_dim, w_dim
        self.w_avg_beta = w_avg_beta
        c_emb = (class_embed_dim or w_dim) if num_classes else 0
        h_emb = (feat_embed_dim or w_dim) if feat_dim else 0
        self.embed = EqualLinear(num_classes, c_emb) if num_classes else None
        self.embed_feat = EqualLinear(feat_dim, h_emb) if feat_dim else None
        dims = [z_dim + c_emb + h_emb] + [w_dim] * num_layers
        if dims[0] < 1:
            raise ConfigError("a mapping network needs a latent or a conditioning input")
        self.layers = nn.ModuleList(
            EqualLinear(a, b, lr_mul=lr_mul, activation="lrelu") for a, b in zip(dims[:-1], dims[1:])
        )
        if w_avg_beta:
            self.register_buffer("w_avg", torch.zeros(w_dim))
            self.register_buffer("w_avg_updates", torch.zeros((), dtype=torch.long))

    def forward(
        self,
        z: torch.Tensor | None,
        y: torch.Tensor | None = None,
        feat: torch.Tensor | None = None,
        update_w_avg: bool = True,
    ) -> torch.Tensor:
        parts = [] if not self.z_dim else [normalize_2nd_moment(z.float())]
        cond = []
        if self.embed is not None:
            cond.append(self.embed(F.one_hot(y, self.num_classes).float()))
        if self.embed_feat is not None:
            cond.append(self.embed_feat(feat.float()))
        if cond:
            parts.append(normalize_2nd_moment(torch.cat(cond, dim=1)))
        x = torch.cat(parts, dim=1)
        for layer in self.layers:
            x = layer(x)
        if self.w_avg_beta and self.training and update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
                self.w_avg_updates += 1
        return x


# ----------------------------------------------------------------------------------------------- synthesis
class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (demodulated), optional 2x upsampling, noise input, bias, leaky ReLU."""

    def __init__(
        self, in_ch: int, out_ch: int, w_dim: int, resolution: int, up: int, resample_filter, conv_clamp=None
    ) -> None:
        super().__init__()
        self.resolution, self.up, self.conv_clamp = resolution, up, conv_clamp
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.weight_gain = 1.0 / math.sqrt(in_ch * 9)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        styles = self.affine(w)
        x = modulated_conv2d(
            x, self.weight * self.weight_gain, styles, up=self.up, resample_filter=self.resample_filter
        )
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
            x = x + (self.noise_strength * noise).to(x.dtype)
        elif noise_mode == "const":
            x = x + (self.noise_strength * self.noise_const).to(x.dtype)
        x = lrelu_gain(x + self.bias.to(x.dtype).view(1, -1, 1, 1))
        return x if self.conv_clamp is None else x.clamp(-self.conv_clamp, self.conv_clamp)


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation, plus bias, no activation."""

    def __init__(self, in_ch: int, img_channels: int, w_dim: int, conv_clamp=None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(img_channels, in_ch, 1, 1))
        self.weight_gain = 1.0 / math.sqrt(in_ch)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = modulated_conv2d(x, self.weight * self.weight_gain, self.affine(w), demodulate=False)
        x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        return x if self.conv_clamp is None else x.clamp(-self.conv_clamp, self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: [const | up-conv] -> conv -> toRGB added to the upsampled image."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        w_dim: int,
        res: int,
        img_channels: int,
        resample_filter,
        *,
        use_fp16: bool = False,
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.first = in_ch == 0
        self.use_fp16 = use_fp16
        if self.first:
            self.const = nn.Parameter(torch.randn(out_ch, res, res))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(in_ch, out_ch, w_dim, res, 2, resample_filter, conv_clamp)
        self.conv1 = SynthesisLayer(out_ch, out_ch, w_dim, res, 1, resample_filter, conv_clamp)
        self.torgb = ToRGB(out_ch, img_channels, w_dim, conv_clamp)
        self.num_conv = 1 if self.first else 2
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)

    def forward(self, x, img, ws: torch.Tensor, noise_mode: str):
        """``ws`` (B, num_conv + 1, w_dim): one w per conv, then the toRGB's. ``x`` comes out in the block's
        dtype, ``img`` in float32."""
        dtype = compute_dtype(self.use_fp16, ws.device)
        if self.first:
            x = self.const[None].expand(ws.shape[0], -1, -1, -1).to(dtype)
            x = self.conv1(x, ws[:, 0], noise_mode)
        else:
            x = self.conv0(x.to(dtype), ws[:, 0], noise_mode)
            x = self.conv1(x, ws[:, 1], noise_mode)
        y = self.torgb(x, ws[:, self.num_conv]).float()
        img = y if img is None else upsample2d(img, self.resample_filter) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """``ws`` (B, num_ws, w_dim) -> images; ``num_ws = 2 log2(resolution) - 2``."""

    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        log2 = int(math.log2(cfg.resolution))
        self.resolutions = [2**i for i in range(2, log2 + 1)]
        self.w_dim = cfg.w_dim
        fp16 = fp16_resolutions(cfg.resolution, cfg.num_fp16_res)
        blocks, in_ch = [], 0
        for res in self.resolutions:
            out_ch = channels_at(res, cfg.channel_base, cfg.channel_max)
            opts = {"use_fp16": res in fp16, "conv_clamp": cfg.conv_clamp}
            blocks.append(SynthesisBlock(in_ch, out_ch, cfg.w_dim, res, cfg.channels, cfg.resample_filter, **opts))
            in_ch = out_ch
        self.blocks = nn.ModuleList(blocks)
        self.num_ws = sum(b.num_conv for b in blocks) + 1  # + the last toRGB

    def forward(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        if noise_mode not in ("random", "const", "none"):
            raise ConfigError(f"noise_mode must be 'random', 'const' or 'none', got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ShapeError(f"synthesis expects ws of shape (B, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}")
        x = img = None
        idx = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, idx : idx + block.num_conv + 1], noise_mode)
            idx += block.num_conv
        return img


class StyleGAN2Generator(Generator):
    """``G(z, y=None, feat=None, *, truncation_psi=1, truncation_cutoff=None, noise_mode="random")``.

    ``G.mapping(z, y, feat)`` gives ``w`` (B, w_dim); ``G.ws(...)`` the broadcast, optionally truncated
    (B, num_ws, w_dim); ``G.synthesis(ws)`` the images. Truncation needs the tracked ``w_avg`` (see
    :meth:`truncate`).
    """

    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        _check_config(cfg)
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.z_dim, self.w_dim = cfg.z_dim, cfg.w_dim
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        self.out_act = cfg.out_act
        self.synthesis = SynthesisNetwork(cfg)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            cfg.z_dim,
            cfg.num_classes,
            cfg.feat_dim,
            cfg.w_dim,
            cfg.mapping_layers,
            class_embed_dim=cfg.class_embed_dim,
            feat_embed_dim=cfg.feat_embed_dim,
            lr_mul=cfg.mapping_lr_mul,
            w_avg_beta=cfg.w_avg_beta,
        )

    def map(self, z: torch.Tensor, y=None, feat=None, *, update_w_avg: bool = True) -> torch.Tensor:
        """Checked inputs -> ``w`` (B, w_dim) (updates ``w_avg`` in training mode unless told not to)."""
        self._check_z(z)
        y, feat = self._conditions(z.shape[0], y, feat, "StyleGAN2 generator")
        return self.mapping(z, y, feat, update_w_avg)

    def has_w_avg(self) -> bool:
        """Whether a tracked (or estimated) average of w exists, so that truncation is defined."""
        return bool(self.mapping.w_avg_beta) and int(self.mapping.w_avg_updates) > 0

    @torch.no_grad()
    def estimate_w_avg(self, n: int = 4096, *, generator: torch.Generator | None = None, batch: int = 512):
        """Set ``w_avg`` to the mean of ``n`` mapped latents (conditions drawn as the trainer draws them: uniform
        classes; instance features must be tracked in training instead). Returns the average."""
        if not self.mapping.w_avg_beta:
            raise ConfigError("this generator was built with w_avg_beta=0 (no w average); rebuild with w_avg_beta>0")
        if self.feat_dim:
            raise ConfigError(
                "estimate_w_avg cannot draw instance features; train the model (w_avg is tracked in training mode)"
            )
        dev = self.mapping.w_avg.device
        total, done = torch.zeros(self.w_dim, device=dev), 0
        while done < n:
            m = min(batch, n - done)
            z = self.sample_z(m, generator=generator).to(dev)
            y = self.sample_y(m, generator=generator)
            total += self.mapping(z, None if y is None else y.to(dev), None).sum(dim=0)
            done += m
        self.mapping.w_avg.copy_(total / n)
        self.mapping.w_avg_updates.fill_(max(int(self.mapping.w_avg_updates), 1))
        return self.mapping.w_avg.clone()

    def truncate(self, ws: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
        """``w_avg + psi (w - w_avg)`` on the first ``cutoff`` of the broadcast ws (all when None)."""
        if psi == 1:
            return ws
        if not self.has_w_avg():
            raise ConfigError(
                f"truncation_psi={psi} needs the average of w, which this generator does not have yet: train it in "
                "training mode (w_avg is tracked with decay w_avg_beta), or call G.estimate_w_avg() once"
                + (
                    " (this generator was built with w_avg_beta=0: rebuild with w_avg_beta=0.995)"
                    if not self.mapping.w_avg_beta
                    else ""
                )
            )
        return truncate(ws, self.mapping.w_avg, psi, cutoff)

    def ws(
        self,
        z: torch.Tensor,
        y: torch.Tensor | None = None,
        feat: torch.Tensor | None = None,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool = True,
    ) -> torch.Tensor:
        """Broadcast (and optionally truncated) intermediate latents (B, num_ws, w_dim)."""
        w = self.map(z, y, feat, update_w_avg=update_w_avg)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        return self.truncate(ws, truncation_psi, truncation_cutoff)

    def synthesize(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        """Images from intermediate latents, with the output activation."""
        img = self.synthesis(ws, noise_mode)
        return torch.tanh(img) if self.out_act == "tanh" else img

    def forward(
        self,
        z: torch.Tensor,
        y: torch.Tensor | None = None,
        feat: torch.Tensor | None = None,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        mix_z: torch.Tensor | None = None,
        mix_cutoff: int | None = None,
        return_ws: bool = False,
    ):
        """Images (B, C, H, W). Style mixing (training): rows ``mix_cutoff..`` of the ws come from ``mix_z`` (same
        conditions, truncated alike, no ``w_avg`` update). ``return_ws``: ``(images, raw, ws)`` with ``raw`` the
        synthesis output before the output activation (the path-length regulariser differentiates it by ws)."""
        trunc = {"truncation_psi": truncation_psi, "truncation_cutoff": truncation_cutoff}
        ws = self.ws(z, y, feat, **trunc)
        if mix_z is not None:
            cutoff = self.num_ws if mix_cutoff is None else int(mix_cutoff)
            ws = mix_styles(ws, self.ws(mix_z, y, feat, update_w_avg=False, **trunc), cutoff)
        if not return_ws:
            return self.synthesize(ws, noise_mode)
        raw = self.synthesis(ws, noise_mode)
        return (torch.tanh(raw) if self.out_act == "tanh" else raw), raw, ws


# ------------------------------------------------------------------------------------------- discriminator
class DBlock(nn.Module):
    """Residual D block: [fromRGB] -> conv3 -> conv3 (down 2), plus 1x1 down skip; both paths scaled by sqrt(.5)."""

    def __init__(
        self,
        in_ch: int,
        tmp_ch: int,
        out_ch: int,
        img_channels: int,
        resample_filter,
        *,
        use_fp16: bool = False,
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.use_fp16, self.conv_clamp = use_fp16, conv_clamp
        self.fromrgb = EqualConv2d(img_channels, tmp_ch, 1, activation="lrelu") if in_ch == 0 else None
        self.conv0 = EqualConv2d(tmp_ch, tmp_ch, 3, activation="lrelu")
        self.conv1 = EqualConv2d(tmp_ch, out_ch, 3, activation="lrelu", down=2, resample_filter=resample_filter)
        self.skip = EqualConv2d(tmp_ch, out_ch, 1, bias=False, down=2, resample_filter=resample_filter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(compute_dtype(self.use_fp16, x.device))
        c = self.conv_clamp
        if self.fromrgb is not None:
            x = self.fromrgb(x, clamp=c)
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv1(self.conv0(x, clamp=c), gain=math.sqrt(0.5), clamp=c)
        return x + y


class StyleGAN2Discriminator(Discriminator):
    """``D(x, y=None, feat=None) -> dict(adv=(B,), features=(B, C4))``; projection conditioning via ``cmap``."""

    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        _check_config(cfg)
        self.resolution, self.channels = cfg.resolution, cfg.channels
        self.num_classes, self.feat_dim = cfg.num_classes, cfg.feat_dim
        log2 = int(math.log2(cfg.resolution))
        ch = lambda r: channels_at(r, cfg.channel_base, cfg.channel_max)
        blocks = []
        fp16 = fp16_resolutions(cfg.resolution, cfg.num_fp16_res)
        for res in (2**i for i in range(log2, 2, -1)):
            in_ch = ch(res) if res < cfg.resolution else 0
            opts = {"use_fp16": res in fp16, "conv_clamp": cfg.conv_clamp}
            blocks.append(DBlock(in_ch, ch(res), ch(res // 2), cfg.channels, cfg.resample_filter, **opts))
        self.blocks = nn.ModuleList(blocks)
        c4 = ch(4)
        conditioned = bool(cfg.num_classes or cfg.feat_dim)
        self.cmap_dim = (cfg.cmap_dim or c4) if conditioned else 0
        self.mapping = (
            MappingNetwork(
                0,
                cfg.num_classes,
                cfg.feat_dim,
                self.cmap_dim,
                cfg.d_mapping_layers,
                class_embed_dim=cfg.class_embed_dim,
                feat_embed_dim=cfg.feat_embed_dim,
                lr_mul=cfg.mapping_lr_mul,
            )
            if conditioned
            else None
        )
        self.mbstd = MinibatchStd(cfg.mbstd_group_size, cfg.mbstd_channels) if cfg.mbstd_channels else None
        self.conv = EqualConv2d(c4 + cfg.mbstd_channels, c4, 3, activation="lrelu")
        self.conv_clamp = cfg.conv_clamp
        self.fc = EqualLinear(c4 * 16, c4, activation="lrelu")
        self.out = EqualLinear(c4, self.cmap_dim or 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> dict:
        check_images(x, self.channels, self.resolution, "StyleGAN2 discriminator")
        y, feat = self._conditions(x.shape[0], y, feat, "StyleGAN2 discriminator")
        h = x
        for block in self.blocks:
            h = block(h)
        h = h.float()  # the epilogue (4x4) runs in float32
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = self.fc(self.conv(h, clamp=self.conv_clamp).flatten(1))
        out = self.out(h)
        if self.mapping is not None:
            cmap = self.mapping(None, y, feat)
            adv = (out * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)
        else:
            adv = out[:, 0]
        return {"adv": adv, "features": h}


def build_stylegan2(cfg: StyleGAN2Config) -> tuple[StyleGAN2Generator, StyleGAN2Discriminator]:
    """Build the (G, D) pair of the StyleGAN2 family."""
    _check_config(cfg)
    return StyleGAN2Generator(cfg), StyleGAN2Discriminator(cfg)
