"""Active-learning queries (Mo et al. 2019, §3.2 "Active learning"): score the unlabelled pool, take the top k.

- ``gold``: eq. 8, ``d_unlabel(x) = adv + H[D_C(.|x)]`` (image datasets);
- ``gold_balanced``: eq. 9, the entropy term scaled by ``sigma_G / sigma_C`` among the pool (the synthetic set);
- ``random``: k pool items drawn uniformly without replacement.

The query is the **top k by score, in descending order** (the official code takes the *last* k pool items in loader
order without sorting), and the random baseline draws pool items and maps them to dataset positions (the official
one unions pool positions with dataset indices).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.gold.scoring import score_real

__all__ = ["QUERIES", "query_scores", "random_query", "select_queries", "top_k"]

QUERIES = ("gold", "gold_balanced", "random")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest scores, largest first (ties: the earlier position first)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not 0 <= k <= scores.size:
        raise ConfigError(f"cannot query {k} items from a pool of {scores.size}")
    if np.isnan(scores).any():
        raise ConfigError("query scores contain NaN (a diverged discriminator?)")
    order = np.argsort(-scores, kind="stable")
    return order[:k]


def random_query(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` dataset positions drawn uniformly without replacement from ``pool`` (dataset positions)."""
    pool = np.asarray(pool, dtype=np.int64)
    if not 0 <= k <= pool.size:
        raise ConfigError(f"cannot query {k} items from a pool of {pool.size}")
    return pool[rng.permutation(pool.size)[:k]]


def query_scores(D: nn.Module, images: Any, *, balanced: bool, batch_size: int = 1000, device=None) -> np.ndarray:
    """eq. 8 (``balanced=False``) or eq. 9 scores of unlabelled real items (D in eval mode, no grad)."""
    s = score_real(D, images, None, batch_size=batch_size, device=device)
    key = "gold_unlabelled_balanced" if balanced and "gold_unlabelled_balanced" in s else "gold_unlabelled"
    return s[key]


def select_queries(
    kind: str,
    D: nn.Module | None,
    dataset: Any,
    pool: np.ndarray,
    k: int,
    *,
    rng: np.random.Generator | None = None,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(queried dataset positions, their scores or None)`` for one acquisition step from ``pool``."""
    if kind not in QUERIES:
        raise ConfigError(f"unknown query {kind!r}; choose one of {', '.join(QUERIES)}")
    pool = np.asarray(pool, dtype=np.int64)
    if kind == "random":
        return random_query(pool, k, rng if rng is not None else np.random.default_rng(0)), None
    from ganlab.core.data.base import subset

    view = subset(dataset, pool)  # scored batch by batch: the pool is never held in memory as one tensor
    scores = query_scores(D, view, balanced=kind == "gold_balanced", batch_size=batch_size, device=device)
    pos = top_k(scores, k)
    return pool[pos], scores[pos]
