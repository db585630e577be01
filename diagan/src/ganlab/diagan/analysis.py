"""The paper's diagnosis measurements: per-mode LDRM vs high-quality counts (Fig. 2), LDRV/score by group
(Tables 1 and 6), occurrence of the minor colour (Colored MNIST) and the Figure 3 views (lowest/highest-score
sheets, intensity histograms). The reconstruction error of Table 5 is core's ``metrics.reconstruction``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import stats

from ganlab.core.errors import DatasetError, ShapeError


# ------------------------------------------------------------------------------------------------ 25 Gaussians
def assign_modes(samples: np.ndarray, centers: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre, distance to it) for each 2-D sample; chunked, never N x N."""
    samples = np.asarray(samples, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ShapeError(f"samples {samples.shape} and centres {centers.shape} must be (N, d) and (M, d)")
    idx = np.empty(len(samples), dtype=np.int64)
    dist = np.empty(len(samples), dtype=np.float64)
    for lo in range(0, len(samples), chunk):
        d = np.linalg.norm(samples[lo : lo + chunk, None, :] - centers[None], axis=2)
        idx[lo : lo + chunk] = d.argmin(1)
        dist[lo : lo + chunk] = d.min(1)
    return idx, dist


def high_quality_counts(samples: np.ndarray, centers: np.ndarray, sigma: float, threshold: float = 4.0) -> np.ndarray:
    """Per-mode number of "high-quality" samples (§3.3): assigned to the nearest mode and within 4 sigma of it."""
    idx, dist = assign_modes(samples, centers)
    good = dist <= threshold * sigma
    return np.bincount(idx[good], minlength=len(centers))


def per_group_mean(values: np.ndarray, groups: np.ndarray, num_groups: int | None = None) -> np.ndarray:
    """Mean of ``values`` per integer group id (NaN for an empty group); e.g. LDRM per Gaussian mode (Fig. 2)."""
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if values.shape != groups.shape:
        raise ShapeError(f"values {values.shape} and groups {groups.shape} must have the same shape")
    m = int(num_groups if num_groups is not None else groups.max() + 1)
    sums = np.bincount(groups, weights=values, minlength=m)
    counts = np.bincount(groups, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (NaN when one side is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def mode_ldrm_report(
    ldrm: np.ndarray, labels: np.ndarray, samples: np.ndarray, centers: np.ndarray, sigma: float, min_count: int = 20
) -> dict[str, Any]:
    """Figure 2: per-mode mean LDRM, per-mode high-quality counts, their Spearman correlation, modes covered."""
    counts = high_quality_counts(samples, centers, sigma)
    mode_ldrm = per_group_mean(ldrm, labels, len(centers))
    return {
        "spearman_ldrm_vs_hq": spearman(mode_ldrm, counts),
        "modes_covered": int((counts >= min_count).sum()),
        "hq_fraction": float(counts.sum() / len(samples)),
        "mode_ldrm": mode_ldrm.tolist(),
        "mode_hq_counts": counts.tolist(),
    }


# ----------------------------------------------------------------------------------------------------- groups
def require_groups(dataset: Any, what: str) -> np.ndarray:
    groups = getattr(dataset, "groups", None)
    if groups is None:
        raise DatasetError(
            f"{what} needs a dataset with major/minor groups (colored_mnist, mnist_fmnist, gaussian_minor, ...); "
            f"{getattr(dataset, 'name', type(dataset).__name__)!r} has none"
        )
    return np.asarray(groups, dtype=np.int64)


def group_statistics(values: dict[str, np.ndarray], groups: np.ndarray, minor: int = 1) -> dict[str, float]:
    """Mean of each statistic (e.g. LDRV, score) over the major (group != minor) and minor instances (Tables 1, 6)."""
    groups = np.asarray(groups)
    is_minor = groups == minor
    if not is_minor.any() or is_minor.all():
        raise DatasetError("group statistics need both major and minor instances")
    out: dict[str, float] = {}
    for name, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        out[f"{name}_major"] = float(v[~is_minor].mean())
        out[f"{name}_minor"] = float(v[is_minor].mean())
    return out


# ------------------------------------------------------------------------------------------- Colored MNIST
def color_of(images: torch.Tensor | np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Colour of RGB digits in [-1, 1]: 0 = red, 1 = green, -1 = blank (no pixel brighter than ``threshold``).

    Decided by which channel carries more foreground intensity; the data's colours are saturated and binary.
    """
    x = torch.as_tensor(images).float()
    if x.ndim != 4 or x.shape[1] != 3:
        raise ShapeError(f"colour classification needs RGB images (B, 3, H, W), got {tuple(x.shape)}")
    x = (x.clamp(-1, 1) + 1) / 2
    fg = x.amax(1) > (threshold + 1) / 2
    red = (x[:, 0] * fg).flatten(1).sum(1)
    green = (x[:, 1] * fg).flatten(1).sum(1)
    out = (green > red).long().numpy()
    out[~fg.flatten(1).any(1).numpy()] = -1
    return out


def minor_occurrence(images: torch.Tensor) -> float:
    """Fraction of generated Colored-MNIST samples that are green (the minor colour)."""
    return float((color_of(images) == 1).mean())


# ---------------------------------------------------------------------------------------------------- Figure 3
def intensity_histogram(images: torch.Tensor, smooth: float = 2.0) -> np.ndarray:
    """Figure 3d: normalised histogram of the 256 intensity levels of each channel, channels concatenated
    (768 levels for RGB), smoothed with a Gaussian of ``smooth`` levels (0 = raw)."""
    x = torch.as_tensor(images).float().clamp(-1, 1)
    if x.ndim != 4:
        raise ShapeError(f"intensity histograms need image batches (B, C, H, W), got {tuple(x.shape)}")
    levels = ((x + 1) * 127.5).round().long()
    hists = []
    for c in range(x.shape[1]):
        h = torch.bincount(levels[:, c].flatten(), minlength=256).double().numpy()
        hists.append(h / max(h.sum(), 1))
    hist = np.concatenate(hists)
    if smooth > 0:
        from scipy.ndimage import gaussian_filter1d

        hist = gaussian_filter1d(hist, smooth)
    return hist


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two normalised histograms (a number for the Figure 3d comparison)."""
    a = np.asarray(a) / np.sum(a)
    b = np.asarray(b) / np.sum(b)
    return float(0.5 * np.abs(a - b).sum())
