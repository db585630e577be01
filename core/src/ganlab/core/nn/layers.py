"""Building blocks shared by every backbone.

Spectral norm, conditional batch norm (class embedding, instance feature, both, plus a hierarchical z chunk),
the class/instance conditioning interface of the generators, self-attention (SAGAN), the projection
discriminator head (Miyato & Koyama; IC-GAN's instance projection), weight-init schemes and BigGAN's
orthogonal regularisation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

from ganlab.core.errors import ConfigError, ShapeError

__all__ = [
    "ConditionalBatchNorm2d",
    "ConditionEmbedding",
    "ProjectionHead",
    "SelfAttention",
    "init_weights",
    "layer_factories",
    "ortho_penalty",
    "ortho_reg",
    "sn_conv2d",
    "sn_embedding",
    "sn_linear",
    "spectral_norm",
]


# --------------------------------------------------------------------------------------------------- spectral norm
_SHAPES_ONLY = contextvars.ContextVar("ganlab_nn_shapes_only", default=False)


@contextlib.contextmanager
def shapes_only():
    """Build models on the meta device without spectral-norm parametrizations (which add buffers, not
    parameters): instant construction of full-size models for parameter counting. Not for running them."""
    token = _SHAPES_ONLY.set(True)
    try:
        with torch.device("meta"):
            yield
    finally:
        _SHAPES_ONLY.reset(token)


def spectral_norm(module: nn.Module, eps: float = 1e-12, n_power_iterations: int = 1) -> nn.Module:
    """Spectrally normalise ``module.weight`` (Miyato et al. 2018), one power iteration per training forward.

    The power-iteration vectors are buffers, so they are saved in checkpoints and a resumed run is exact.
    The raw weight stays a parameter (``parametrizations.weight.original``), which is what BigGAN's
    orthogonal regularisation acts on.
    """
    if _SHAPES_ONLY.get():
        return module
    return parametrizations.spectral_norm(module, n_power_iterations=n_power_iterations, eps=eps)


def sn_conv2d(
    in_ch: int,
    out_ch: int,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int | None = None,
    bias: bool = True,
    eps: float = 1e-12,
) -> nn.Module:
    """A spectrally normalised Conv2d ("same" padding unless given)."""
    pad = kernel_size // 2 if padding is None else padding
    return spectral_norm(nn.Conv2d(in_ch, out_ch, kernel_size, stride, pad, bias=bias), eps=eps)


def sn_linear(in_dim: int, out_dim: int, bias: bool = True, eps: float = 1e-12) -> nn.Module:
    """A spectrally normalised Linear layer."""
    return spectral_norm(nn.Linear(in_dim, out_dim, bias=bias), eps=eps)


def sn_embedding(num_embeddings: int, dim: int, eps: float = 1e-12) -> nn.Module:
    """A spectrally normalised embedding (the class projection of a projection discriminator)."""
    return spectral_norm(nn.Embedding(num_embeddings, dim), eps=eps)


def layer_factories(sn: bool, eps: float = 1e-12) -> tuple[Callable[..., nn.Module], Callable[..., nn.Module]]:
    """(conv, linear) factories: spectrally normalised when ``sn`` else plain torch layers.

    The conv factory takes ``(in_ch, out_ch, kernel_size=3, padding=None, bias=True)``, padding defaulting to
    "same"; the linear one ``(in_dim, out_dim, bias=True)``.
    """

    def conv(in_ch: int, out_ch: int, kernel_size: int = 3, padding: int | None = None, bias: bool = True):
        if sn:
            return sn_conv2d(in_ch, out_ch, kernel_size, 1, padding, bias, eps)
        return nn.Conv2d(in_ch, out_ch, kernel_size, 1, kernel_size // 2 if padding is None else padding, bias=bias)

    def linear(in_dim: int, out_dim: int, bias: bool = True):
        return sn_linear(in_dim, out_dim, bias, eps) if sn else nn.Linear(in_dim, out_dim, bias=bias)

    return conv, linear


# ---------------------------------------------------------------------------------------------------- conditioning
class ConditionEmbedding(nn.Module):
    """The generator side of the one conditioning interface: maps ``(y, feat)`` to one vector ``c``.

    * class (``num_classes > 0`` and ``shared``): a shared class embedding ``nn.Embedding(num_classes, class_dim)``
      (BigGAN; plain, because SN on G's embedding cripples G per BigGAN-PyTorch);
    * instance (``feat_dim > 0``): ``linear(feat_dim -> feat_embed_dim)``, spectrally normalised in BigGAN G
      (IC-GAN: SN-Linear 2048 -> 512);
    * both: the concatenation ``[class, instance]`` (cc-IC-GAN order).

    With ``shared=False`` the class is not embedded here: each conditional BN owns its own class embeddings
    (SAGAN / upstream BigGAN on CIFAR) and receives ``y`` directly.
    """

    def __init__(
        self,
        num_classes: int = 0,
        feat_dim: int = 0,
        *,
        class_dim: int = 128,
        feat_embed_dim: int = 512,
        shared: bool = True,
        linear: Callable[..., nn.Module] = nn.Linear,
    ) -> None:
        super().__init__()
        self.num_classes, self.feat_dim, self.shared = num_classes, feat_dim, shared
        self.class_embed = nn.Embedding(num_classes, class_dim) if (num_classes and shared) else None
        self.feat_embed = linear(feat_dim, feat_embed_dim) if feat_dim else None
        self.out_dim = (class_dim if self.class_embed is not None else 0) + (feat_embed_dim if feat_dim else 0)
        # classes the per-layer BN embeddings must handle (0 when the class goes through the shared embedding)
        self.bn_classes = num_classes if (num_classes and not shared) else 0

    def forward(self, y: torch.Tensor | None, feat: torch.Tensor | None) -> torch.Tensor | None:
        parts = []
        if self.class_embed is not None:
            parts.append(self.class_embed(y))
        if self.feat_embed is not None:
            parts.append(self.feat_embed(feat))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias are predicted from a condition (BigGAN's ccbn).

    ``gain = 1 + linear_g(c) [+ embed_g(y)]``, ``bias = linear_b(c) [+ embed_b(y)]`` on top of a non-affine BN,
    where ``c`` is any conditioning vector (shared class embedding, instance embedding, hierarchical z chunk,
    concatenated) and ``y`` the class index for per-layer class embeddings (``num_classes > 0``).
    With neither (``cond_dim == num_classes == 0``) it is an ordinary affine ``BatchNorm2d``.
    """

    def __init__(
        self,
        num_features: int,
        cond_dim: int = 0,
        num_classes: int = 0,
        *,
        eps: float = 1e-5,
        momentum: float = 0.1,
        linear: Callable[..., nn.Module] = nn.Linear,
    ) -> None:
        super().__init__()
        self.conditional = bool(cond_dim or num_classes)
        self.bn = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=not self.conditional)
        self.gain = linear(cond_dim, num_features, bias=False) if cond_dim else None
        self.bias = linear(cond_dim, num_features, bias=False) if cond_dim else None
        self.embed_gain = nn.Embedding(num_classes, num_features) if num_classes else None
        self.embed_bias = nn.Embedding(num_classes, num_features) if num_classes else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None, y: torch.Tensor | None = None) -> torch.Tensor:
        out = self.bn(x)
        if not self.conditional:
            return out
        gain = 1.0
        bias = 0.0
        if self.gain is not None:
            gain = gain + self.gain(c)
            bias = bias + self.bias(c)
        if self.embed_gain is not None:
            gain = gain + self.embed_gain(y)
            bias = bias + self.embed_bias(y)
        return out * gain[:, :, None, None] + bias[:, :, None, None]


class ProjectionHead(nn.Module):
    """The discriminator side of the conditioning interface (projection discriminator, eq. 3 of Miyato & Koyama).

    ``adv = linear(h) + <proj(y, feat), h>`` with ``proj`` an SN class embedding, an SN linear map of the
    instance feature (IC-GAN: ``feat_dim -> C``), or both concatenated, each of width ``C/2`` (cc-IC-GAN).
    """

    def __init__(
        self, in_dim: int, num_classes: int = 0, feat_dim: int = 0, *, sn: bool = True, eps: float = 1e-12
    ) -> None:
        super().__init__()
        _, linear = layer_factories(sn, eps)
        self.linear = linear(in_dim, 1)
        both = num_classes > 0 and feat_dim > 0
        if both and in_dim % 2:
            raise ConfigError(
                f"class+instance projection splits the {in_dim} features in two halves; use an even width"
            )
        width = in_dim // 2 if both else in_dim
        self.embed = None
        if num_classes:
            self.embed = sn_embedding(num_classes, width, eps) if sn else nn.Embedding(num_classes, width)
        self.feat_proj = linear(feat_dim, width) if feat_dim else None

    def forward(self, h: torch.Tensor, y: torch.Tensor | None = None, feat: torch.Tensor | None = None) -> torch.Tensor:
        out = self.linear(h).squeeze(1)
        parts = []
        if self.embed is not None:
            parts.append(self.embed(y))
        if self.feat_proj is not None:
            parts.append(self.feat_proj(feat))
        if parts:
            proj = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            out = out + (proj * h).sum(dim=1)
        return out


# ------------------------------------------------------------------------------------------------- self-attention
class SelfAttention(nn.Module):
    """SAGAN self-attention as in BigGAN: 1x1 convs to C/8 (theta, phi), C/2 (g), back to C (o); phi and g are
    max-pooled 2x2, and a learned scalar gamma (init 0) gates the residual. Widths are floor divisions, as in
    BigGAN-PyTorch, so any channel count >= 8 works (IC-GAN's unconditional BigGAN baseline uses ch 71)."""

    def __init__(self, ch: int, conv: Callable[..., nn.Module]) -> None:
        super().__init__()
        if ch < 8:
            raise ConfigError(f"self-attention needs at least 8 channels, got {ch}")
        self.ch = ch
        self.theta = conv(ch, ch // 8, kernel_size=1, padding=0, bias=False)
        self.phi = conv(ch, ch // 8, kernel_size=1, padding=0, bias=False)
        self.g = conv(ch, ch // 2, kernel_size=1, padding=0, bias=False)
        self.o = conv(ch // 2, ch, kernel_size=1, padding=0, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        theta = self.theta(x).flatten(2)  # (B, C/8, HW)
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # (B, C/8, HW/4)
        g = F.max_pool2d(self.g(x), 2).flatten(2)  # (B, C/2, HW/4)
        beta = torch.softmax(theta.transpose(1, 2) @ phi, dim=-1)  # (B, HW, HW/4)
        o = self.o((g @ beta.transpose(1, 2)).view(b, c // 2, h, w))
        return x + self.gamma * o


# ---------------------------------------------------------------------------------------------------------- init
INIT_SCHEMES = ("ortho", "N02", "xavier", "default")


def init_weights(module: nn.Module, scheme: str) -> None:
    """Initialise the weight of every Conv2d / ConvTranspose2d / Linear / Embedding in ``module`` (biases kept).

    ``ortho`` (BigGAN), ``N02`` = N(0, 0.02) (DCGAN, BigGAN on CIFAR), ``xavier`` = Glorot uniform (SAGAN),
    ``default`` = PyTorch's own. Spectrally normalised layers are initialised through their raw weight.
    """
    if scheme not in INIT_SCHEMES:
        raise ConfigError(f"unknown init scheme {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")
    if scheme == "default":
        return
    fn = {
        "ortho": nn.init.orthogonal_,
        "N02": functools.partial(nn.init.normal_, mean=0.0, std=0.02),
        "xavier": nn.init.xavier_uniform_,
    }[scheme]
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            w = _raw_weight(m)
            if w.is_meta:  # shape-only build (parameter counting): nothing to initialise
                continue
            with torch.no_grad():
                fn(w)
            resync_spectral_norm(m)


def resync_spectral_norm(m: nn.Module, n_power_iterations: int = 15) -> None:
    """Re-estimate the singular vectors of a spectrally normalised layer after its raw weight was re-initialised.

    The parametrization keeps the vectors of the weight it was created with; eval mode uses them without a power
    iteration, so a re-initialised layer would otherwise be divided by a stale (tiny) sigma.
    """
    if not parametrize_is(m):
        return
    sn = m.parametrizations.weight[0]
    if not hasattr(sn, "_power_method"):
        return
    with torch.no_grad():
        sn._power_method(sn._reshape_weight_to_matrix(m.parametrizations.weight.original), n_power_iterations)


def _raw_weight(m: nn.Module) -> torch.Tensor:
    if parametrize_is(m):
        return m.parametrizations.weight.original
    return m.weight


def parametrize_is(m: nn.Module) -> bool:
    return hasattr(m, "parametrizations") and "weight" in m.parametrizations


# ------------------------------------------------------------------------------------- orthogonal regularisation
def _ortho_params(module: nn.Module | Iterable[nn.Parameter], blacklist: Iterable[nn.Parameter]):
    params = module.parameters() if isinstance(module, nn.Module) else module
    skip = {id(p) for p in blacklist}
    return [p for p in params if p.ndim >= 2 and id(p) not in skip]


def ortho_penalty(module: nn.Module | Iterable[nn.Parameter], blacklist: Iterable[nn.Parameter] = ()) -> torch.Tensor:
    """BigGAN's modified orthogonal penalty ``1/2 * sum_W ||W W^T * (1 - I)||_F^2`` (BigGAN eq. 3 up to beta),
    each W reshaped to (out, -1). Its gradient is ``2 (W W^T * (1 - I)) W``, the update :func:`ortho_reg` applies."""
    total = None
    for p in _ortho_params(module, blacklist):
        w = p.reshape(p.shape[0], -1)
        gram = w @ w.t()
        off = gram - torch.diag_embed(torch.diagonal(gram))
        term = 0.5 * off.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros(())
    return total


@torch.no_grad()
def ortho_reg(
    module: nn.Module | Iterable[nn.Parameter], strength: float = 1e-4, blacklist: Iterable[nn.Parameter] = ()
) -> None:
    """Apply BigGAN's orthogonal regularisation to the gradients in place (call after ``backward``, before the step).

    For every parameter with two or more dimensions that is not in ``blacklist`` (BigGAN skips G's shared
    embedding: pass ``G.ortho_blacklist()``): ``grad += strength * 2 (W W^T * (1 - I)) W`` with W reshaped to
    (out, -1), the closed-form gradient of ``strength *`` :func:`ortho_penalty`. Parameters without a gradient get one.
    """
    if strength == 0:
        return
    for p in _ortho_params(module, blacklist):
        w = p.reshape(p.shape[0], -1)
        gram = w @ w.t()
        gram.diagonal().zero_()
        g = (2.0 * strength) * (gram @ w)
        if p.grad is None:
            p.grad = g.view_as(p).clone()
        else:
            p.grad.add_(g.view_as(p))


# --------------------------------------------------------------------------------------------------------- checks
def check_resolution(family: str, resolution: int, supported: Iterable[int]) -> None:
    """Raise ConfigError when a family does not define an architecture for ``resolution``."""
    supported = sorted(supported)
    if resolution not in supported:
        raise ConfigError(
            f"backbone {family!r} has no architecture for resolution {resolution}; supported: "
            f"{', '.join(map(str, supported))} (pick one, or resize the dataset with resolution=...)"
        )


def check_images(x: torch.Tensor, channels: int, resolution: int | None, who: str) -> None:
    """Raise ShapeError unless ``x`` is (B, channels, resolution, resolution)."""
    if x.ndim != 4 or x.shape[1] != channels or (resolution is not None and tuple(x.shape[2:]) != (resolution,) * 2):
        want = f"(B, {channels}, {resolution}, {resolution})"
        raise ShapeError(f"{who} expects images of shape {want}, got {tuple(x.shape)}")


def upsample2(x: torch.Tensor, mode: str = "nearest") -> torch.Tensor:
    """2x upsampling (nearest in BigGAN, bilinear without corner alignment in torch-mimicry)."""
    if mode == "nearest":
        return F.interpolate(x, scale_factor=2, mode="nearest")
    return F.interpolate(x, scale_factor=2, mode=mode, align_corners=False)


def xavier_(module: nn.Module, gain: float) -> None:
    """Glorot-uniform init of one layer's raw weight with ``gain`` (torch-mimicry: sqrt(2) in residual convs)."""
    w = _raw_weight(module)
    if not w.is_meta:
        with torch.no_grad():
            nn.init.xavier_uniform_(w, gain)
        resync_spectral_norm(module)


SQRT2 = math.sqrt(2.0)
