"""Manifold-density scoring functions H (Section 3, eqs. 1-3), fitted per class and streamed one class at a time.

Every scorer maps one group of embeddings ``z`` (n, d) to a score per row, higher = denser:

- ``gaussian`` (eq. 1): log-likelihood under N(mu, Sigma) with the MLE covariance (divide by n) plus ``reg_covar``
  (1e-5, the official code's ``GaussianMixture(1, reg_covar=1e-5)``) on the diagonal;
- ``ppca`` (eq. 2): log-likelihood under probabilistic PCA (Tipping & Bishop) with enough components to keep 95% of
  the variance, in scikit-learn's ``PCA(q).score_samples`` convention (the official code);
- ``knn`` (eq. 3): minus the Euclidean distance to the K-th nearest other embedding (K = 5, self excluded).

:func:`score_instances` fits one model per class (the official code) or one on everything (``labels=None``),
holding at most one class's float64 copy beside the caller's float32 matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from ganlab.core.errors import ConfigError, DatasetError, ShapeError
from ganlab.core.registry import Registry

ScoreFn = Callable[..., np.ndarray]
SCORERS: Registry[ScoreFn] = Registry("scorer")

# rows converted to float64 at once when a model is fitted on more rows than one class (global mode)
_CHUNK = 32768
_LOG_2PI = math.log(2.0 * math.pi)


def _as_float64(x: np.ndarray | torch.Tensor, device: torch.device | str | None) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    return t.to(device=device or "cpu", dtype=torch.float64)


def _check_finite(name: str, z: torch.Tensor) -> None:
    if not bool(torch.isfinite(z).all()):
        raise DatasetError(f"{name}: the embeddings contain NaN or infinite values; re-extract the features")


# ------------------------------------------------------------------------------------------------ Gaussian, eq. 1
@SCORERS.register("gaussian")
def gaussian_scores(
    z: np.ndarray | torch.Tensor, reg_covar: float = 1e-5, device: torch.device | str | None = None
) -> np.ndarray:
    """Eq. 1: ``-1/2 [ln|Sigma| + (z-mu)^T Sigma^-1 (z-mu) + d ln 2pi]`` for every row of ``z`` (n, d).

    ``Sigma`` is the MLE covariance (divide by n) plus ``reg_covar * I``, so the model is defined for any n >= 1,
    including n < d. When n < d the same likelihood is computed through the n x n Gram matrix (Woodbury and
    Sylvester identities), which is exact and several times cheaper than the d x d route.
    """
    if reg_covar <= 0:
        raise ConfigError(f"reg_covar must be > 0 (got {reg_covar}); the official value is 1e-5")
    n, d = _shape(z)
    if n < d:
        return _gaussian_dual(z, reg_covar, device)
    return _gaussian_primal(z, reg_covar, device)


def _shape(z: Any) -> tuple[int, int]:
    if getattr(z, "ndim", None) != 2:
        raise ShapeError(f"embeddings must be a 2-D array (n, d), got shape {tuple(getattr(z, 'shape', ()))}")
    n, d = int(z.shape[0]), int(z.shape[1])
    if n < 1 or d < 1:
        raise ShapeError(f"embeddings must hold at least one row and one column, got shape ({n}, {d})")
    return n, d


def _gaussian_primal(z: Any, reg: float, device: Any) -> np.ndarray:
    """d x d route, streamed over row chunks (used when n >= d, and for a global fit on many rows)."""
    n, d = _shape(z)
    total = torch.zeros(d, dtype=torch.float64, device=device)
    for s in range(0, n, _CHUNK):
        zc = _as_float64(z[s : s + _CHUNK], device)
        _check_finite("gaussian", zc)
        total += zc.sum(0)
    mu = total / n
    cov = torch.zeros(d, d, dtype=torch.float64, device=device)
    for s in range(0, n, _CHUNK):
        zc = _as_float64(z[s : s + _CHUNK], device) - mu
        cov.addmm_(zc.T, zc)
    cov /= n
    cov.diagonal().add_(reg)
    chol = torch.linalg.cholesky(cov)
    logdet = 2.0 * torch.log(torch.diagonal(chol)).sum()
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, _CHUNK):
        zc = _as_float64(z[s : s + _CHUNK], device) - mu
        w = torch.linalg.solve_triangular(chol, zc.T, upper=False)
        maha = (w * w).sum(0)
        out[s : s + len(zc)] = (-0.5 * (logdet + maha + d * _LOG_2PI)).cpu().numpy()
    return out


def _gaussian_dual(z: Any, reg: float, device: Any) -> np.ndarray:
    """n x n route for n < d.

    With X the centred rows and A = n*reg*I + X X^T: (X^T X / n + reg I)^-1 = (I - X^T A^-1 X) / reg, so the
    Mahalanobis term of row i is n - n^2 reg [A^-1]_ii; and |X^T X / n + reg I| = reg^(d-n) n^-n |A|.
    """
    n, d = _shape(z)
    x = _as_float64(z, device)
    _check_finite("gaussian", x)
    x = x - x.mean(0)
    a = x @ x.T
    a.diagonal().add_(n * reg)
    chol = torch.linalg.cholesky(a)
    logdet_a = 2.0 * torch.log(torch.diagonal(chol)).sum()
    eye = torch.eye(n, dtype=torch.float64, device=x.device)
    linv = torch.linalg.solve_triangular(chol, eye, upper=False)
    diag_ainv = (linv * linv).sum(0)  # [A^-1]_ii = ||L^-1 e_i||^2
    maha = n - (n * n * reg) * diag_ainv
    logdet = (d - n) * math.log(reg) - n * math.log(n) + logdet_a
    return (-0.5 * (logdet + maha + d * _LOG_2PI)).cpu().numpy()


# ---------------------------------------------------------------------------------------------------- PPCA, eq. 2
ComponentRule = Literal["paper", "official"]


def ppca_num_components(explained_variance: np.ndarray, variance: float = 0.95, rule: ComponentRule = "paper") -> int:
    """Number of principal components q kept by PPCA.

    ``paper``: the smallest q whose components explain >= ``variance`` of the total ("95% of the variance is
    preserved"). ``official``: the official code's ``int(sum(cumsum(ratio) < variance))``, one fewer (the count of
    components strictly below the target), raised to 1 when that count is 0.
    """
    if not 0.0 < variance <= 1.0:
        raise ConfigError(f"ppca variance must be in (0, 1], got {variance}")
    ev = np.asarray(explained_variance, dtype=np.float64)
    ratio = np.cumsum(ev) / ev.sum()
    below = int(np.sum(ratio < variance - 1e-12))  # tolerance: a cumsum that reaches the target exactly counts
    if rule == "paper":
        return min(below + 1, len(ev))
    if rule == "official":
        return max(below, 1)
    raise ConfigError(f"unknown ppca component rule {rule!r}; choose 'paper' (>= 95% variance) or 'official'")


@SCORERS.register("ppca")
def ppca_scores(
    z: np.ndarray | torch.Tensor,
    variance: float = 0.95,
    component_rule: ComponentRule = "paper",
    n_components: int | None = None,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Eq. 2: log-likelihood under PPCA, ``C = W W^T + sigma^2 I``, for every row of ``z`` (n, d).

    Matches ``sklearn.decomposition.PCA(q).fit(z).score_samples(z)`` (the official code): eigenvalues of the
    covariance with the n-1 denominator, ``sigma^2`` = mean of the ``min(n, d) - q`` discarded eigenvalues.
    ``n_components`` fixes q; otherwise q comes from ``variance`` and ``component_rule`` (:func:`ppca_num_components`).
    """
    n, d = _shape(z)
    if n < 2:
        raise ShapeError(f"ppca needs at least 2 embeddings per fitted group, got {n}; use the gaussian scorer")
    r = min(n, d)
    if n < d:  # eigenvectors of the Gram matrix give the projections directly: (X v_j)_i = U_ij s_j
        x = _as_float64(z, device)
        _check_finite("ppca", x)
        x = x - x.mean(0)
        evals, u = torch.linalg.eigh(x @ x.T)
        evals, u = evals.flip(0).clamp_min(0), u.flip(1)
        mu, v = None, None
    else:  # d x d covariance streamed over row chunks, so a global fit never holds all rows in float64
        mu = torch.zeros(d, dtype=torch.float64, device=device)
        for s in range(0, n, _CHUNK):
            zc = _as_float64(z[s : s + _CHUNK], device)
            _check_finite("ppca", zc)
            mu += zc.sum(0)
        mu /= n
        scatter = torch.zeros(d, d, dtype=torch.float64, device=device)
        for s in range(0, n, _CHUNK):
            zc = _as_float64(z[s : s + _CHUNK], device) - mu
            scatter.addmm_(zc.T, zc)
        evals, v = torch.linalg.eigh(scatter)
        evals, v = evals.flip(0).clamp_min(0), v.flip(1)
    ev = evals[:r] / (n - 1)  # sklearn's explained_variance_
    q = n_components if n_components is not None else ppca_num_components(ev.cpu().numpy(), variance, component_rule)
    if not 1 <= q <= r:
        raise ConfigError(f"ppca n_components must be in [1, min(n, d) = {r}], got {q}")
    lam = ev[:q]
    tiny = 1e-12 * float(ev.sum())  # relative: a rank-deficient remainder is rounding noise, not variance
    if q == d:  # n > d, every component kept: the full covariance, as sklearn (noise 0, precision = inv(cov))
        if float(lam.min()) <= tiny:
            raise ShapeError(f"ppca: the {n} embeddings span fewer than their {d} dims (singular covariance)")
        noise, logdet = math.inf, torch.log(lam).sum()
    else:
        noise = float(ev[q:].sum() / (r - q)) if q < r else 0.0
        if noise <= tiny:
            why = (
                f"a group of {n} embeddings in {d} dims is too small for PPCA (needs n > d or fewer components)"
                if n <= d
                else f"the {n} embeddings lie in {q} of their {d} dims"
            )
            raise ShapeError(
                f"ppca with {q} components leaves no residual variance: {why}; use more data per class, fewer "
                "components, or the gaussian scorer"
            )
        logdet = torch.log(lam).sum() + (d - q) * math.log(noise)

    def _score(proj_sq: torch.Tensor, norm_sq: torch.Tensor) -> np.ndarray:
        maha = (proj_sq / lam).sum(1) + (norm_sq - proj_sq.sum(1)) / noise
        return (-0.5 * (logdet + maha + d * _LOG_2PI)).cpu().numpy()

    if v is None:
        return _score((u[:, :q] * u[:, :q]) * evals[:q], (x * x).sum(1))
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, _CHUNK):
        zc = _as_float64(z[s : s + _CHUNK], device) - mu
        proj = zc @ v[:, :q]
        out[s : s + len(zc)] = _score(proj * proj, (zc * zc).sum(1))
    return out


# ----------------------------------------------------------------------------------------------------- KNN, eq. 3
@SCORERS.register("knn")
def knn_scores(z: np.ndarray | torch.Tensor, k: int = 5, device: torch.device | str | None = None) -> np.ndarray:
    """Eq. 3: minus the Euclidean distance from each row to its K-th nearest *other* row (K = 5 in the paper)."""
    n, _ = _shape(z)
    if k < 1:
        raise ConfigError(f"knn k must be >= 1, got {k}")
    if n < k + 1:
        raise ShapeError(f"knn with K={k} needs at least K+1 = {k + 1} embeddings per fitted group, got {n}")
    from ganlab.core.knn import knn

    x = np.ascontiguousarray(np.asarray(z.cpu() if isinstance(z, torch.Tensor) else z, dtype=np.float32))
    if not np.isfinite(x).all():
        raise DatasetError("knn: the embeddings contain NaN or infinite values; re-extract the features")
    dist, _ = knn(x, k=k, metric="l2", exclude_self=True)
    return -np.asarray(dist[:, k - 1], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------- streaming
@dataclass
class ScorerConfig:
    """A scorer and its options (``k`` for knn; ``variance``/``component_rule`` for ppca; ``reg_covar``)."""

    name: str = "gaussian"
    reg_covar: float = 1e-5
    variance: float = 0.95
    component_rule: ComponentRule = "paper"
    k: int = 5

    def kwargs(self) -> dict[str, Any]:
        if self.name == "gaussian":
            return {"reg_covar": self.reg_covar}
        if self.name == "ppca":
            return {"variance": self.variance, "component_rule": self.component_rule}
        if self.name == "knn":
            return {"k": self.k}
        return {}


def class_groups(labels: np.ndarray | None, n: int) -> list[tuple[int, np.ndarray]]:
    """(class, row indices) for every class present; ``labels=None`` is one group of everything."""
    if labels is None:
        return [(0, np.arange(n))]
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ShapeError(f"labels must be a vector of length {n} (one per embedding), got shape {labels.shape}")
    order = np.argsort(labels, kind="stable")
    classes, starts = np.unique(labels[order], return_index=True)
    bounds = list(starts[1:]) + [n]
    return [(int(c), order[s:e]) for c, s, e in zip(classes, starts, bounds)]


def score_instances(
    features: np.ndarray,
    labels: np.ndarray | None = None,
    scorer: str | ScorerConfig = "gaussian",
    device: torch.device | str | None = None,
    progress: bool = False,
    **options: Any,
) -> np.ndarray:
    """Density score H(F(x)) of every row of ``features`` (N, D), one model per class of ``labels``.

    ``labels=None`` fits one model on all rows (eq. 4 read literally; unlabelled data). Only one class is held in
    float64 at a time. ``options`` override the scorer's defaults (e.g. ``k=5``, ``component_rule="official"``).
    """
    cfg = scorer if isinstance(scorer, ScorerConfig) else ScorerConfig(name=scorer)
    fn = SCORERS.get(cfg.name)
    kwargs = {**cfg.kwargs(), **options}
    n, _ = _shape(features)
    groups = class_groups(labels, n)
    scores = np.empty(n, dtype=np.float64)
    iterator: Any = groups
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(groups, desc=f"{cfg.name} scores", unit="class")
    for cls, idx in iterator:
        # the whole matrix stays as given (memory-mapped features stay lazy); a class is one gathered copy
        z = features if labels is None else features[idx]  # idx is increasing: a stable argsort
        try:
            scores[idx] = fn(z, device=device, **kwargs)
        except (ShapeError, DatasetError) as exc:
            where = f"class {cls}" if labels is not None else "the dataset"
            raise type(exc)(f"{where} ({len(idx)} instances): {exc}") from None
    return scores
