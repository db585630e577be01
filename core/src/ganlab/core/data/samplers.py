"""Index samplers: endless uniform shuffling over a dataset or a subset view, and per-instance weighted sampling.

Both samplers define one *global* stream of indices that depends only on the seed (and, for the weighted sampler,
on the weights in force when each index is drawn). Under several processes every call of ``next_indices(k)`` takes
``k * world_size`` items from that global stream and rank ``r`` keeps the slice ``[r*k, (r+1)*k)``: the ranks' shares
are disjoint and their union is exactly what one process would draw with ``next_indices(k * world_size)``. Every
rank must therefore call ``next_indices`` with the same ``k`` at the same time (the trainer does).

The stream is addressed by its position, so a sampler's state is one integer (plus the weights for
:class:`WeightedSampler`) and resuming from :meth:`state_dict` continues the exact same index stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ganlab.core.errors import CheckpointError, DatasetError

# Uniform variates of the weighted sampler come in fixed blocks, so the stream does not depend on the call sizes.
_BLOCK = 1 << 16


def _check_rank(rank: int, world_size: int) -> None:
    if world_size < 1 or not 0 <= rank < world_size:
        raise DatasetError(f"a sampler needs 0 <= rank < world_size, got rank={rank}, world_size={world_size}")


class _StreamSampler:
    """Shared bookkeeping: the global position, the rank's slice, epochs and iteration."""

    def __init__(self, seed: int, rank: int, world_size: int) -> None:
        _check_rank(rank, world_size)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.position = 0  # items of the global stream consumed so far (all ranks together)

    # subclasses implement: the global stream items [start, start + count)
    def _global(self, start: int, count: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def epoch_size(self) -> int:
        raise NotImplementedError

    def next_indices(self, k: int) -> np.ndarray:
        """This rank's next ``k`` indices (int64); all ranks advance by ``k * world_size`` global items."""
        k = int(k)
        if k < 0:
            raise DatasetError(f"next_indices needs k >= 0, got {k}")
        start = self.position + self.rank * k
        out = self._global(start, k)
        self.position += k * self.world_size
        return out

    @property
    def epoch(self) -> float:
        """Global items drawn so far divided by the epoch size (fractional)."""
        return self.position / max(self.epoch_size, 1)

    def __len__(self) -> int:
        """Indices this rank yields per epoch when used as a ``torch.utils.data`` sampler."""
        return self.epoch_size // self.world_size

    def __iter__(self) -> Iterator[int]:
        """One epoch of this rank's share, for use as a DataLoader ``sampler``."""
        yield from self.next_indices(len(self)).tolist()

    def _base_state(self) -> dict[str, Any]:
        return {"position": int(self.position), "seed": self.seed, "world_size": self.world_size}

    def _load_base(self, state: dict[str, Any]) -> None:
        if int(state["seed"]) != self.seed:
            raise CheckpointError(
                f"sampler state was saved with seed {state['seed']} but this sampler has seed {self.seed}; "
                "build the sampler with the seed of the checkpointed run"
            )
        # The global position is the same for every rank, so a run may resume on a different number of processes.
        self.position = int(state["position"])


class InfiniteSampler(_StreamSampler):
    """Uniform shuffling, epoch after epoch, over ``indices`` (a subset view) or ``range(n)``.

    Epoch ``e`` of the global stream is a permutation of the pool drawn from ``(seed, e)``; epochs follow each other
    without a gap, so every instance appears exactly once per epoch of the global stream.
    """

    def __init__(
        self,
        n: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        indices: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        super().__init__(seed, rank, world_size)
        self.n = int(n)
        if indices is None:
            pool = np.arange(self.n, dtype=np.int64)
        else:
            pool = np.asarray(indices, dtype=np.int64).reshape(-1)
            if pool.size and (pool.min() < 0 or pool.max() >= self.n):
                raise DatasetError(f"subset indices must lie in [0, {self.n}), got [{pool.min()}, {pool.max()}]")
        if pool.size == 0:
            raise DatasetError("InfiniteSampler needs at least one index (the dataset or subset is empty)")
        self.indices = pool
        self._cache: tuple[int, np.ndarray] | None = None

    @property
    def epoch_size(self) -> int:
        return int(self.indices.size)

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.indices.size)
            self._cache = (epoch, self.indices[order])
        return self._cache[1]

    def _global(self, start: int, count: int) -> np.ndarray:
        m = self.indices.size
        out = np.empty(count, dtype=np.int64)
        filled = 0
        while filled < count:
            epoch, offset = divmod(start + filled, m)
            take = min(m - offset, count - filled)
            out[filled : filled + take] = self._permutation(epoch)[offset : offset + take]
            filled += take
        return out

    def state_dict(self) -> dict[str, Any]:
        return {**self._base_state(), "kind": "infinite", "n": self.n, "pool_size": int(self.indices.size)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "infinite" or int(state["pool_size"]) != self.indices.size:
            raise CheckpointError(
                f"sampler state does not fit this InfiniteSampler (saved pool of {state.get('pool_size')} indices, "
                f"this one has {self.indices.size}); resume with the same dataset and subset"
            )
        self._load_base(state)


class WeightedSampler(_StreamSampler):
    """Per-instance sampling with replacement, ``P(i) = w_i / sum_j w_j`` (Dia-GAN eq. 7's ``P_s``).

    The global stream is a fixed sequence of U(0, 1) variates (blocks drawn from ``(seed, block)``); the index at
    position ``t`` is the inverse CDF of the weights in force when ``t`` is drawn. :meth:`set_weights` therefore
    changes every later draw and nothing before it. ``epoch_size`` (default ``len(weights)``, "an epoch is N draws")
    only sets ``len()`` and :attr:`epoch`.
    """

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epoch_size: int | None = None,
    ) -> None:
        super().__init__(seed, rank, world_size)
        self._set(weights, expected=None)
        self._epoch_size = int(epoch_size) if epoch_size is not None else int(self.weights.size)
        if self._epoch_size < 1:
            raise DatasetError(f"epoch_size must be >= 1, got {epoch_size}")
        self._block: tuple[int, np.ndarray] | None = None

    @property
    def epoch_size(self) -> int:
        return self._epoch_size

    def _set(self, weights: Sequence[float] | np.ndarray, expected: int | None) -> None:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if expected is not None and w.size != expected:
            raise DatasetError(f"set_weights got {w.size} weights but the sampler has {expected} instances")
        if w.size == 0:
            raise DatasetError("WeightedSampler needs at least one weight")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DatasetError("sampling weights must be finite and >= 0 (clip or shift the scores first)")
        cdf = np.cumsum(w)
        if not cdf[-1] > 0:
            raise DatasetError("sampling weights sum to 0: at least one instance needs a positive weight")
        self.weights = w
        self._cdf = cdf

    def set_weights(self, weights: Sequence[float] | np.ndarray) -> None:
        """Replace the weights for every later draw (e.g. Dia-GAN's phase 2, multi-GAN re-weighting)."""
        self._set(weights, expected=self.weights.size)

    @property
    def probabilities(self) -> np.ndarray:
        """The sampling distribution ``w / sum(w)``."""
        return self.weights / self._cdf[-1]

    def _uniform_block(self, block: int) -> np.ndarray:
        if self._block is None or self._block[0] != block:
            self._block = (block, np.random.default_rng([self.seed, block]).random(_BLOCK))
        return self._block[1]

    def _global(self, start: int, count: int) -> np.ndarray:
        u = np.empty(count, dtype=np.float64)
        filled = 0
        while filled < count:
            block, offset = divmod(start + filled, _BLOCK)
            take = min(_BLOCK - offset, count - filled)
            u[filled : filled + take] = self._uniform_block(block)[offset : offset + take]
            filled += take
        # side="right": an instance with weight 0 has an empty CDF interval and is never drawn.
        idx = np.searchsorted(self._cdf, u * self._cdf[-1], side="right")
        return np.minimum(idx, self.weights.size - 1).astype(np.int64)

    def state_dict(self) -> dict[str, Any]:
        return {
            **self._base_state(),
            "kind": "weighted",
            "weights": self.weights.copy(),
            "epoch_size": self._epoch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "weighted":
            raise CheckpointError("sampler state was not saved by a WeightedSampler")
        self._load_base(state)
        self._set(state["weights"], expected=self.weights.size)
        self._epoch_size = int(state["epoch_size"])
