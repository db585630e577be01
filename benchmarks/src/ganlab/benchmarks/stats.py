"""Statistics of a suite: mean ± std over seeds, and each method's paired difference to its baseline.

Seeds are paired: seed s of a method and seed s of its baseline start from the same initialisation and draw the
same data order (the trainer derives both from the seed), so the difference d_s = x_method,s − x_baseline,s removes
their shared variation. The interval is Student's t: mean(d) ± t_{0.975, n-1} · sd(d) / √n.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["LOWER_IS_BETTER", "mean_std", "paired_difference"]

LOWER_IS_BETTER = {"fid"}


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, sample standard deviation (ddof 1; 0 for one value), n) of the finite values."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if len(x) == 0:
        return math.nan, math.nan, 0
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0, len(x)


def paired_difference(
    method: dict[int, float], baseline: dict[int, float], level: float = 0.95
) -> tuple[float, float, float, int]:
    """(mean difference, lower, upper, n pairs) over the seeds both have; NaN bounds with fewer than 2 pairs."""
    from scipy.stats import t

    seeds = sorted(s for s in method if s in baseline and math.isfinite(method[s]) and math.isfinite(baseline[s]))
    d = np.asarray([method[s] - baseline[s] for s in seeds], dtype=np.float64)
    if len(d) == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if len(d) < 2:
        return mean, math.nan, math.nan, len(d)
    half = float(t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return mean, mean - half, mean + half, len(d)


def excludes_zero(lower: float, upper: float) -> bool:
    return math.isfinite(lower) and math.isfinite(upper) and (lower > 0 or upper < 0)
