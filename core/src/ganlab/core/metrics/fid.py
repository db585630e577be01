"""Fréchet Inception Distance (Heusel et al., 2017) from features.

FID = |μ₁ - μ₂|² + tr Σ₁ + tr Σ₂ - 2 tr (Σ₁Σ₂)^{1/2}.

The trace of the matrix square root is computed without ``scipy.linalg.sqrtm`` (whose API and accuracy changed
across scipy releases, see libraries.md §2.5): with Σ₁ = BBᵀ (Cholesky, or a clipped eigen-decomposition when Σ₁ is
singular), Σ₁Σ₂ is similar to the symmetric PSD matrix BᵀΣ₂B, so tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ(BᵀΣ₂B), all in float64
with a symmetric eigen-solver. Covariances use N-1 (``np.cov``, as clean-fid and torch-fidelity) unless ``ddof=0``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import as_features, same_dim

__all__ = ["FeatureStats", "fid_from_features", "frechet_distance", "trace_sqrt_product"]


class FeatureStats:
    """Streaming mean and covariance of feature vectors, accumulated in float64.

    Sums are taken around a shift (the mean of the first batch) so that large feature offsets do not cancel
    catastrophically in ``E[xxᵀ] - μμᵀ``. ``merge`` combines statistics computed on different shards or processes.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self.n = 0
        self._shift: np.ndarray | None = None
        self._sum: np.ndarray | None = None
        self._outer: np.ndarray | None = None

    def update(self, x: Any) -> FeatureStats:
        """Add a batch (B, D) of features."""
        x = as_features(x, "features", dtype=np.float64)
        if self.dim is None:
            self.dim = x.shape[1]
        if x.shape[1] != self.dim:
            raise ShapeError(f"FeatureStats holds {self.dim}-d features; got a batch of {x.shape[1]}-d features.")
        if self._shift is None:
            self._shift = x.mean(axis=0)
            self._sum = np.zeros(self.dim)
            self._outer = np.zeros((self.dim, self.dim))
        xs = x - self._shift
        self._sum += xs.sum(axis=0)
        self._outer += xs.T @ xs
        self.n += x.shape[0]
        return self

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Add the samples summarised by ``other`` to these statistics."""
        if other.n == 0:
            return self
        if self.n == 0:
            self.dim, self.n = other.dim, other.n
            self._shift, self._sum, self._outer = other._shift.copy(), other._sum.copy(), other._outer.copy()
            return self
        if other.dim != self.dim:
            raise ShapeError(f"cannot merge {other.dim}-d statistics into {self.dim}-d statistics.")
        delta = other._shift - self._shift  # re-centre other's sums on our shift
        s = other._sum + other.n * delta
        self._outer += other._outer + np.outer(other._sum, delta) + np.outer(delta, other._sum)
        self._outer += other.n * np.outer(delta, delta)
        self._sum += s
        self.n += other.n
        return self

    def _need(self, n: int) -> None:
        if self.n < n:
            raise ShapeError(f"statistics need at least {n} samples; got {self.n}.")

    @property
    def mean(self) -> np.ndarray:
        """Mean feature vector (float64, (D,))."""
        self._need(1)
        return self._shift + self._sum / self.n

    def cov(self, ddof: int = 1) -> np.ndarray:
        """Covariance matrix (float64, (D, D)); ``ddof=1`` as ``np.cov``, ``ddof=0`` as StyleGAN2-ADA."""
        self._need(ddof + 1)
        m = self._sum / self.n
        c = (self._outer - self.n * np.outer(m, m)) / (self.n - ddof)
        return (c + c.T) / 2

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.n, "dim": self.dim, "shift": self._shift, "sum": self._sum, "outer": self._outer}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> FeatureStats:
        stats = cls(None if state["dim"] is None else int(state["dim"]))
        stats.n = int(state["n"])
        if stats.n:
            arrays = (np.asarray(state[key], np.float64) for key in ("shift", "sum", "outer"))
            stats._shift, stats._sum, stats._outer = arrays
        return stats

    def save(self, path: str | Path) -> None:
        """Write the statistics to an ``.npz`` file atomically."""
        from ganlab.core.results import atomic_write_bytes

        self._need(1)
        buf = io.BytesIO()
        np.savez(buf, n=self.n, dim=self.dim, shift=self._shift, sum=self._sum, outer=self._outer)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> FeatureStats:
        with np.load(path) as f:
            return cls.from_state_dict({k: f[k] for k in ("n", "dim", "shift", "sum", "outer")})


def _lower_factor(sigma: torch.Tensor) -> torch.Tensor:
    """B with Σ = BBᵀ: Cholesky when Σ is positive definite, else V·diag(√max(w, 0)) from its eigen-decomposition."""
    chol, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        return chol
    w, v = torch.linalg.eigh(sigma)
    return v * w.clamp_min(0.0).sqrt()


def trace_sqrt_product(sigma1: Any, sigma2: Any) -> float:
    """tr (Σ₁Σ₂)^{1/2} for symmetric PSD Σ₁, Σ₂, by a symmetric eigen-decomposition in float64."""
    # torch's LAPACK (MKL on x86 wheels) runs the symmetric eigen-solver several times faster than OpenBLAS's.
    s1 = torch.as_tensor(np.asarray(sigma1), dtype=torch.float64)
    s2 = torch.as_tensor(np.asarray(sigma2), dtype=torch.float64)
    b = _lower_factor(s1)
    m = b.T @ s2 @ b
    eig = torch.linalg.eigvalsh((m + m.T) / 2)
    return float(eig.clamp_min(0.0).sqrt().sum())


def _check_stats(mu: Any, sigma: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ShapeError(
            f"{name}: mean of shape {mu.shape} and covariance of shape {sigma.shape} do not fit; expected (D,) "
            "and (D, D)."
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        from ganlab.core.metrics._checks import NonFiniteError

        raise NonFiniteError(f"{name}: mean or covariance contains NaN or infinite values; check the features.")
    return mu, (sigma + sigma.T) / 2


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) (Heusel et al., 2017, eq. 6)."""
    mu1, sigma1 = _check_stats(mu1, sigma1, "first distribution")
    mu2, sigma2 = _check_stats(mu2, sigma2, "second distribution")
    if mu1.shape != mu2.shape:
        raise ShapeError(
            f"the two distributions have {mu1.shape[0]} and {mu2.shape[0]} dimensions; compute both with the same "
            "feature extractor."
        )
    diff = mu1 - mu2
    tr_covmean = trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def _stats(x: Any, name: str, ddof: int) -> tuple[np.ndarray, np.ndarray, int]:
    if isinstance(x, FeatureStats):
        return x.mean, x.cov(ddof), int(x.dim)
    feats = as_features(x, name)
    stats = FeatureStats().update(feats)
    return stats.mean, stats.cov(ddof), feats.shape[1]


def fid_from_features(real: Any, fake: Any, ddof: int = 1) -> float:
    """FID between two feature sets (arrays (N, D) or :class:`FeatureStats`)."""
    mu1, s1, d1 = _stats(real, "real", ddof)
    mu2, s2, d2 = _stats(fake, "fake", ddof)
    if d1 != d2:
        same_dim(np.empty((1, d1)), np.empty((1, d2)))
    return frechet_distance(mu1, s1, mu2, s2)
