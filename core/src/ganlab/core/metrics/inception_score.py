"""Inception Score (Salimans et al., 2016): IS = exp(E_x KL(p(y|x) || p(y))), mean and std over splits."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import as_features

__all__ = ["inception_score"]


def inception_score(
    logits: Any, splits: int = 10, *, from_probs: bool = False, shuffle_seed: int | None = None
) -> tuple[float, float]:
    """Inception Score of class logits (N, C) (or probabilities with ``from_probs=True``).

    As the original TF code, the samples are cut into ``splits`` consecutive equal parts (the last ``N % splits``
    dropped, so parts have ``N // splits`` rows); each part scores exp(mean_i KL(p(y|xᵢ) ‖ p̄(y))) with p̄ the
    part's marginal. ``shuffle_seed`` permutes the rows first (torch-fidelity does). Computed in float64.

    Returns:
        ``(mean, std)`` over the splits (population std, as ``np.std``).
    """
    x = as_features(logits, "logits", dtype=np.float64)
    n = x.shape[0]
    if not isinstance(splits, (int, np.integer)) or splits < 1 or n < splits:
        raise ShapeError(f"inception_score needs 1 <= splits <= N; got splits={splits!r} with N={n}.")
    if from_probs:
        if (x < 0).any() or not np.allclose(x.sum(axis=1), 1.0, atol=1e-4):
            raise ShapeError("from_probs=True needs rows of non-negative probabilities that sum to 1.")
        logp = np.log(np.clip(x, 1e-300, None))
        logp[x == 0] = -np.inf
    else:
        logp = torch.log_softmax(torch.from_numpy(x), dim=1).numpy()
    if shuffle_seed is not None:
        logp = logp[np.random.default_rng(shuffle_seed).permutation(n)]
    m = n // splits
    logp = logp[: m * splits].reshape(splits, m, -1)
    p = np.exp(logp)
    log_marginal = np.log(p.mean(axis=1, keepdims=True))
    # 0·log 0 = 0: terms with p = 0 contribute nothing to the KL.
    kl_terms = np.where(p > 0, p * (np.where(p > 0, logp, 0.0) - log_marginal), 0.0)
    scores = np.exp(kl_terms.sum(axis=2).mean(axis=1))
    return float(scores.mean()), float(scores.std())
