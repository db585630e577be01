"""Mode statistics for mixtures of Gaussians (25 Gaussians, ring of 8; Dia-GAN §3.1, VEEGAN/PacGAN protocol).

Each sample is assigned to its nearest mode centre; it is *high quality* if it lies within ``threshold`` standard
deviations (4σ in Dia-GAN) of that centre. A mode is *covered* when it has at least ``min_count`` high-quality
samples (1 by default; PacGAN counts a mode only from 20 of 10k samples).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import as_features, same_dim

__all__ = ["mode_statistics"]


def mode_statistics(
    samples: Any, centers: Any, sigma: float, threshold: float = 4.0, min_count: int = 1
) -> dict[str, Any]:
    """Modes covered, share of high-quality samples and per-mode counts.

    Returns:
        ``{"n_modes", "modes_covered", "high_quality_fraction", "high_quality_percent", "counts" (high-quality
        samples per mode), "assigned" (all samples per mode), "n_samples"}``; counts are lists of ints.
    """
    x = as_features(samples, "samples", dtype=np.float64)
    c = as_features(centers, "centers", dtype=np.float64)
    same_dim(x, c, "samples", "centers")
    if not sigma > 0 or not threshold > 0:
        raise ShapeError(f"sigma and threshold must be positive; got sigma={sigma}, threshold={threshold}.")
    n_modes = c.shape[0]
    nearest = np.empty(x.shape[0], dtype=np.int64)
    dist = np.empty(x.shape[0], dtype=np.float64)
    step = max(1, (16 * 2**20) // (8 * n_modes * x.shape[1]))  # N×K×D scratch stays small even for many modes
    for s in range(0, x.shape[0], step):
        d = np.sqrt(((x[s : s + step, None, :] - c[None]) ** 2).sum(-1))
        nearest[s : s + step] = d.argmin(1)
        dist[s : s + step] = d.min(1)
    good = dist <= threshold * sigma
    counts = np.bincount(nearest[good], minlength=n_modes)
    assigned = np.bincount(nearest, minlength=n_modes)
    frac = float(good.mean())
    return {
        "n_modes": int(n_modes),
        "modes_covered": int((counts >= min_count).sum()),
        "high_quality_fraction": frac,
        "high_quality_percent": 100.0 * frac,
        "counts": counts.tolist(),
        "assigned": assigned.tolist(),
        "n_samples": int(x.shape[0]),
    }
