"""Multi-scale SSIM (Wang et al., 2003) that is defined down to 32×32, and the intra-class MS-SSIM protocol.

The algorithm follows the TF compression implementation (tensorflow/models ``research/compression``; facts in
reference_notes/multigan.md §4): at each of the 5 scales the Gaussian window is ``min(win_size, H, W)`` wide with
sigma scaled by the same factor, filtering is "valid", and the next scale is a 2×2 box average subsampled by 2.
MS-SSIM = Π_{l<5} cs_l^{w_l} · ssim_5^{w_5}. On images of at least ``(win_size - 1)·16 + 1`` pixels the window never
shrinks and the result equals ``pytorch_msssim.ms_ssim``.

Deviations from the TF code, both as ``pytorch_msssim``: values are computed per image and channel, averaged over
channels after the product over scales (TF averages over the whole batch first, so one pair = one number here), and
cs/ssim are clipped at 0 before the fractional powers (TF yields NaN for an anti-correlated pair).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import NonFiniteError

__all__ = ["MS_SSIM_WEIGHTS", "intra_class_ms_ssim", "ms_ssim", "ssim_components"]

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gauss_1d(size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # Centred sample points: -r..r for odd sizes, ±0.5..±(size-1)/2 for even ones (TF's offset of 0.5).
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(x**2) / (2.0 * sigma**2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filtering of (N, C, H, W), channel by channel."""
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim_components(
    a: torch.Tensor, b: torch.Tensor, data_range: float, win_size: int = 11, win_sigma: float = 1.5,
    k: tuple[float, float] = (0.01, 0.03),
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per image and channel (N, C): mean SSIM and mean contrast-structure term at one scale, with the window
    shrunk to the image size (TF semantics)."""
    size = min(win_size, a.shape[-2], a.shape[-1])
    sigma = size * win_sigma / win_size
    g = _gauss_1d(size, sigma, a.dtype, a.device)
    c1, c2 = (k[0] * data_range) ** 2, (k[1] * data_range) ** 2
    mu_a, mu_b = _filter(a, g), _filter(b, g)
    var_a = _filter(a * a, g) - mu_a**2
    var_b = _filter(b * b, g) - mu_b**2
    cov = _filter(a * b, g) - mu_a * mu_b
    cs_map = (2 * cov + c2) / (var_a + var_b + c2)
    ssim_map = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1) * cs_map
    return ssim_map.flatten(2).mean(-1), cs_map.flatten(2).mean(-1)


def _downsample(x: torch.Tensor) -> torch.Tensor:
    # 2×2 box filter then ::2; an odd last row/column is averaged with its reflection (scipy.ndimage 'reflect').
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    return F.avg_pool2d(x, 2)


def _as_images(x: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4:
        raise ShapeError(f"{name} must be images (N, C, H, W) or (C, H, W); got shape {tuple(t.shape)}.")
    if not t.is_floating_point():
        t = t.double()
    if not torch.isfinite(t).all():
        raise NonFiniteError(f"{name} contains NaN or infinite pixels.")
    return t


def ms_ssim(
    a: Any,
    b: Any,
    data_range: float = 2.0,
    win_size: int = 11,
    win_sigma: float = 1.5,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    k: tuple[float, float] = (0.01, 0.03),
    reduction: str = "none",
) -> torch.Tensor:
    """MS-SSIM between image batches ``a`` and ``b`` (N, C, H, W).

    Args:
        data_range: max - min of the pixel range (2.0 for images in [-1, 1], 1.0 for [0, 1], 255 for uint8).
        win_size, win_sigma, weights, k: Wang et al.'s 11, 1.5, 5 scale weights and (K1, K2).
        reduction: ``"none"`` returns one value per pair (N,), ``"mean"`` their mean.
    """
    a, b = _as_images(a, "a"), _as_images(b, "b")
    if a.shape != b.shape:
        raise ShapeError(f"ms_ssim needs two batches of the same shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype), b.to(dtype)
    levels = len(weights)
    if min(a.shape[-2:]) < 2 ** (levels - 1):
        raise ShapeError(
            f"{levels}-scale MS-SSIM halves the image {levels - 1} times, so it needs at least {2 ** (levels - 1)} "
            f"pixels per side; got {tuple(a.shape[-2:])}. Pass fewer weights for smaller images."
        )
    w = torch.tensor(weights, dtype=dtype, device=a.device)
    terms = []
    for level in range(levels):
        ssim, cs = ssim_components(a, b, data_range, win_size, win_sigma, k)
        terms.append((ssim if level == levels - 1 else cs).clamp_min(0))
        if level < levels - 1:
            a, b = _downsample(a), _downsample(b)
    per_channel = torch.prod(torch.stack(terms, dim=0) ** w[:, None, None], dim=0)  # (N, C)
    out = per_channel.mean(dim=1)
    if reduction == "mean":
        return out.mean()
    if reduction != "none":
        raise ShapeError(f"reduction must be 'none' or 'mean'; got {reduction!r}.")
    return out


def intra_class_ms_ssim(
    images: Any,
    labels: Any,
    n_pairs: int = 200,
    seed: int = 0,
    data_range: float = 2.0,
    batch_size: int = 512,
) -> dict[str, Any]:
    """Intra-class diversity: MS-SSIM of ``n_pairs`` random same-class pairs per class, ×100 (lower = more diverse).

    The multi-GAN boosting protocol (report §4.3): 200 pairs of distinct images per class; the score of a class is
    its mean pair MS-SSIM; reported are the mean and std over classes, both ×100.

    Returns:
        ``{"mean", "std", "per_class": {label: score×100}, "n_pairs"}``.
    """
    x = _as_images(images, "images")
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ShapeError(f"got {x.shape[0]} images but {y.shape[0]} labels.")
    rng = np.random.default_rng(seed)
    firsts, seconds, owners = [], [], []
    classes = np.unique(y)
    for c in classes:
        idx = np.flatnonzero(y == c)
        if idx.shape[0] < 2:
            raise ShapeError(f"class {c} has {idx.shape[0]} image(s); a pair needs at least 2.")
        # Two distinct images per pair: the second is drawn from the class minus the first.
        i = rng.integers(0, idx.shape[0], n_pairs)
        j = (i + rng.integers(1, idx.shape[0], n_pairs)) % idx.shape[0]
        firsts.append(idx[i])
        seconds.append(idx[j])
        owners.append(np.full(n_pairs, c))
    first, second, owner = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(owners)
    scores = np.empty(first.shape[0], dtype=np.float64)
    for s in range(0, first.shape[0], batch_size):
        sl = slice(s, s + batch_size)
        ti, tj = torch.from_numpy(first[sl]), torch.from_numpy(second[sl])
        scores[sl] = ms_ssim(x[ti], x[tj], data_range=data_range).double().cpu().numpy()
    per_class = {c.item(): 100.0 * float(scores[owner == c].mean()) for c in classes}
    vals = np.array(list(per_class.values()))
    return {"mean": float(vals.mean()), "std": float(vals.std()), "per_class": per_class, "n_pairs": int(n_pairs)}
