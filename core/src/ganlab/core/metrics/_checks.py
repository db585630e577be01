"""Input validation shared by the metrics: one clear exception per kind of bad input."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.core.errors import ShapeError
from ganlab.core.knn import NonFiniteError, as_features

__all__ = ["NonFiniteError", "as_features", "same_dim", "enough_samples"]


def same_dim(a: np.ndarray, b: np.ndarray, name_a: str = "real", name_b: str = "fake") -> None:
    """Raise ShapeError unless both feature sets have the same number of columns."""
    if a.shape[1] != b.shape[1]:
        raise ShapeError(
            f"{name_a} features have {a.shape[1]} dimensions but {name_b} features have {b.shape[1]}; compute both "
            "with the same feature extractor."
        )


def enough_samples(x: np.ndarray, k: int, name: str) -> None:
    """Raise ShapeError unless ``x`` has more than ``k`` rows (k neighbours besides each point itself)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ShapeError(f"k must be a positive integer; got {k!r}.")
    if x.shape[0] <= k:
        raise ShapeError(
            f"{name} has {x.shape[0]} samples but k={k} nearest neighbours need at least k+1 = {k + 1}; pass more "
            "samples or a smaller k."
        )


def to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)
