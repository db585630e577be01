"""Building blocks of StyleGAN2 (Karras et al. 2020) in plain PyTorch: no custom CUDA kernels, CPU and CUDA alike.

* equalised learning rate (§ "equalized learning rate" of ProGAN, kept in StyleGAN2): weights are stored as
  N(0, 1) / lr_mul and scaled at run time by ``lr_mul / sqrt(fan_in)``; biases by ``lr_mul``;
* leaky ReLU (slope 0.2) followed by a gain of sqrt(2), applied after the bias;
* FIR resampling with the separable [1, 3, 3, 1] low-pass filter: zero-insertion upsampling, padding, depthwise
  filtering and subsampling (:func:`upfirdn2d`), from which :func:`blur`, :func:`upsample2d` and
  :func:`downsample2d` follow;
* modulated convolution with optional weight demodulation (paper §2.2, Eq. 1-3), batched as one grouped conv;
* the minibatch standard-deviation layer of the discriminator;
* :func:`normalize_2nd_moment` (pixel norm over features) for the mapping network's inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "EqualConv2d",
    "EqualLinear",
    "MinibatchStd",
    "blur",
    "downsample2d",
    "lrelu_gain",
    "modulated_conv2d",
    "normalize_2nd_moment",
    "setup_filter",
    "upfirdn2d",
    "upsample2d",
]

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
DEFAULT_FILTER = (1, 3, 3, 1)


def lrelu_gain(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """``leaky_relu(x, 0.2) * sqrt(2) * gain`` (the sqrt(2) keeps the activations' second moment near 1)."""
    return F.leaky_relu(x, LRELU_SLOPE) * (LRELU_GAIN * gain)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row of ``x`` (B, F) to unit mean square: ``x / sqrt(mean(x**2) + eps)``."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


# ------------------------------------------------------------------------------------------------- FIR filters
def setup_filter(taps: Sequence[float] = DEFAULT_FILTER, device: torch.device | str | None = None) -> torch.Tensor:
    """The 2-D separable filter ``outer(taps, taps)``, normalised to sum 1."""
    t = torch.as_tensor(list(taps), dtype=torch.float32, device=device)
    f = torch.outer(t, t)
    return f / f.sum()


def upfirdn2d(
    x: torch.Tensor, f: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0), gain: float = 1.0
) -> torch.Tensor:
    """Upsample by zero insertion, pad (``pad`` = (before, after), same on both axes), filter with ``f * gain``
    (true convolution, i.e. the kernel flipped), then keep every ``down``-th sample."""
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(b, c, h * up, w * up)
    p0, p1 = pad
    if p0 or p1:
        x = F.pad(x, [p0, p1, p0, p1])
    k = (f * gain).flip([0, 1]).to(x.dtype)
    k = k[None, None].expand(c, 1, *k.shape)
    x = F.conv2d(x, k, groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def blur(x: torch.Tensor, f: torch.Tensor, pad: tuple[int, int], gain: float = 1.0) -> torch.Tensor:
    """Low-pass filter ``x`` with ``f`` after padding by ``pad``."""
    return upfirdn2d(x, f, pad=pad, gain=gain)


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x upsampling: zero insertion and the filter with gain 4 (= up**2, keeping the mean); (H, W) -> (2H, 2W)."""
    p = f.shape[0] - 2
    return upfirdn2d(x, f, up=2, pad=((p + 1) // 2 + 1, p // 2), gain=4.0)


def downsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x downsampling: filter, then keep every other sample; (H, W) -> (H/2, W/2)."""
    p = f.shape[0] - 2
    return upfirdn2d(x, f, down=2, pad=((p + 1) // 2, p // 2))


# ---------------------------------------------------------------------------------------- equalised-lr layers
class EqualLinear(nn.Module):
    """Fully connected layer with equalised learning rate.

    ``y = act(x @ (weight * lr_mul / sqrt(in))^T + bias * lr_mul)``; ``weight`` is initialised N(0, 1) / lr_mul so
    the effective weight starts N(0, 1/in) whatever lr_mul, while its effective learning rate is scaled by lr_mul.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: str = "linear",
    ) -> None:
        super().__init__()
        if activation not in ("linear", "lrelu"):
            raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}")
        self.in_features, self.out_features = in_features, out_features
        self.activation, self.lr_mul = activation, lr_mul
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.weight_gain = lr_mul / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = None if self.bias is None else self.bias * self.lr_mul
        x = F.linear(x, self.weight * self.weight_gain, b)
        return lrelu_gain(x) if self.activation == "lrelu" else x

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, lr_mul={self.lr_mul}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Conv layer with equalised learning rate ("same" output size, or half with ``down=2``).

    ``down=2`` low-pass filters the input with the FIR filter first and then convolves with stride 2 (no aliasing).
    ``forward(x, gain)`` multiplies the (activated) output by ``gain`` (sqrt(0.5) in the residual blocks).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: str = "linear",
        down: int = 1,
        resample_filter: Sequence[float] = DEFAULT_FILTER,
    ) -> None:
        super().__init__()
        if down not in (1, 2):
            raise ValueError(f"down must be 1 or 2, got {down}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.activation, self.down = activation, down
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)

    def forward(self, x: torch.Tensor, gain: float = 1.0, clamp: float | None = None) -> torch.Tensor:
        """Runs in ``x``'s dtype (the float32 parameters are cast: fp16 blocks); ``clamp``: bound the output to
        ``[-clamp * gain, clamp * gain]`` (conv clamping; the bound scales with the output gain)."""
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.down == 2:
            p = self.resample_filter.shape[0] - 2 + (self.kernel_size - 1)
            x = blur(x, self.resample_filter, ((p + 1) // 2, p // 2))
            x = F.conv2d(x, w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.kernel_size // 2)
        if self.bias is not None:
            x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        if self.activation == "lrelu":
            x = lrelu_gain(x, gain)
        elif gain != 1.0:
            x = x * gain
        return x if clamp is None else x.clamp(-clamp * gain, clamp * gain)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, k={self.kernel_size}, down={self.down}, act={self.activation}"


# ------------------------------------------------------------------------------------------ modulated conv
def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    *,
    demodulate: bool = True,
    up: int = 1,
    resample_filter: torch.Tensor | None = None,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Modulated convolution (StyleGAN2 Eq. 1-3), every sample with its own weights, as one grouped convolution.

    ``x`` (B, I, H, W); ``weight`` (O, I, k, k), the effective (already equalised) weight; ``styles`` (B, I).
    ``w'_bo i = s_bi * w_oi`` and, with ``demodulate``, ``w''_bo = w'_bo / sqrt(sum_ik w'_bo ik**2 + eps)``.
    ``up=2`` is a stride-2 transposed convolution followed by the FIR filter (gain 4): (H, W) -> (2H, 2W).
    The weights are modulated and demodulated in their own dtype (float32: no fp16 overflow in the sum of squares)
    and the convolution runs in ``x``'s dtype.
    """
    b, i, h, w_ = x.shape
    o, _, k, _ = weight.shape
    wt = weight[None] * styles[:, None, :, None, None]  # (B, O, I, k, k)
    if demodulate:
        wt = wt * (wt.square().sum(dim=(2, 3, 4), keepdim=True) + eps).rsqrt()
    wt = wt.to(x.dtype)
    x = x.reshape(1, b * i, h, w_)
    if up == 1:
        out = F.conv2d(x, wt.reshape(b * o, i, k, k), padding=k // 2, groups=b)
        return out.reshape(b, o, h, w_)
    if up != 2 or resample_filter is None:
        raise ValueError("modulated_conv2d supports up=1, or up=2 with a resample_filter")
    wt = wt.transpose(1, 2).reshape(b * i, o, k, k)  # conv_transpose2d wants (in, out / groups, k, k)
    out = F.conv_transpose2d(x, wt, stride=2, groups=b)  # (1, B*O, 2H + k - 2, ...)
    out = out.reshape(b, o, out.shape[2], out.shape[3])
    p = resample_filter.shape[0] - 2 - (k - 1)
    return blur(out, resample_filter, ((p + 1) // 2 + 1, p // 2 + 1), gain=4.0)


# --------------------------------------------------------------------------------------------- minibatch std
class MinibatchStd(nn.Module):
    """Append the mean (over channels and pixels) of the per-group standard deviation as ``num_channels`` maps.

    The batch is split into groups of ``min(group_size, B)`` samples (sample n in group ``n % (B / G)``); the
    batch must be divisible by the group size.
    """

    def __init__(self, group_size: int = 4, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size else n
        if n % g:
            raise ValueError(
                f"minibatch-stddev: the batch ({n}) must be divisible by the group size ({g}); change the batch "
                "size or the option mbstd_group_size"
            )
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # variance over the group
        y = (y + 1e-8).sqrt().mean(dim=(2, 3, 4))  # (n/G, F)
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"
