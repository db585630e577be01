"""IC-GAN's data sampling (official ``datasets_common.ILSVRC_HDF5_feats`` and ``sample_conditioning_values``).

Real branch (``instance_balance``): the main stream draws *instance* indices i (the trainer's uniform shuffling,
one epoch = one pass over all instances); for each, the real image is a uniform random neighbour j in A_i (never i
itself), the batch carries j's image and label and h_i's features (from the flipped image with probability 1/2 when
``feature_augmentation``), and the image is flipped with probability 1/2 when ``hflip``.

``nnclass_balance`` (ImageNet-LT option): the stream draws the *real image* j class-balanced (weight 1 / |class|),
and the conditioning instance is a random neighbour of j.

Fake branch: G's conditionings are drawn independently of the real batch, every D and every G step: uniform
instances (or uniform classes, then a uniform image of the class and a random neighbour of it with
``nnclass_balance``), their features (flip augmentation again) and, class-conditionally, the label of a random
neighbour of the instance (not the instance's own label).

Every draw comes from ``numpy.random.default_rng([seed, 0, stream, call])`` for the *global* batch (all processes'
items of a call, rank after rank), and rank ``r`` keeps its slice, as the index samplers do: the ranks' draws are
disjoint parts of what one process draws for the same instances, a run is deterministic for its seed whatever its
number of processes, and a checkpoint stores one counter per stream, so a resumed run continues the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganlab.core.errors import CheckpointError, ConfigError, DatasetError

BALANCES = ("instance_balance", "nnclass_balance")
_REAL, _FAKE = 1, 2


@dataclass
class RealDraw:
    """One real batch: images from ``image_idx``, conditioning features of ``instance_idx``."""

    image_idx: np.ndarray
    instance_idx: np.ndarray
    feat_flip: np.ndarray
    image_flip: np.ndarray


@dataclass
class FakeDraw:
    """G's conditionings: instances, feature flips and (class-conditional) labels from a random neighbour."""

    instance_idx: np.ndarray
    feat_flip: np.ndarray
    labels: np.ndarray | None


class ConditioningDraws:
    """The random choices of IC-GAN's data pipeline, as pure functions of (seed, rank, stream, call counter)."""

    def __init__(
        self,
        neighbours: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        feature_augmentation: bool = True,
        hflip: bool = True,
        balance: str = "instance_balance",
        pool: np.ndarray | None = None,
        num_classes: int = 0,
    ) -> None:
        if balance not in BALANCES:
            raise ConfigError(f"unknown which_knn_balance {balance!r}; choose {' or '.join(BALANCES)}")
        self.nns = np.asarray(neighbours, dtype=np.int64)
        if self.nns.ndim != 2 or self.nns.shape[1] < 1:
            raise DatasetError(f"neighbourhoods must be (N, k >= 1), got shape {self.nns.shape}")
        self.n, self.k = self.nns.shape
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"conditioning draws need 0 <= rank < world_size; got rank {rank} of {world_size}")
        self.seed, self.rank, self.world_size = int(seed), int(rank), int(world_size)
        self.feature_augmentation, self.hflip, self.balance = bool(feature_augmentation), bool(hflip), balance
        self.pool = None if pool is None else np.asarray(pool, dtype=np.int64)
        self.calls = {_REAL: 0, _FAKE: 0}
        if balance == "nnclass_balance":
            if self.labels is None or num_classes < 1:
                raise DatasetError("which_knn_balance: nnclass_balance needs a labelled dataset")
            counts = np.bincount(self.labels, minlength=num_classes)
            self.classes = np.flatnonzero(counts)  # classes that have images
            self.order = np.argsort(self.labels, kind="stable")
            self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            self.counts = counts

    def _rng(self, stream: int) -> np.random.Generator:
        call = self.calls[stream]
        self.calls[stream] = call + 1
        # 0 where the rank once was: one stream for every process count (one-process draws are unchanged)
        return np.random.default_rng([self.seed, 0, stream, call])

    def _mine(self, n: int) -> slice:
        """This rank's ``n`` items of a global call of ``n * world_size``."""
        return slice(self.rank * n, (self.rank + 1) * n)

    def _neighbour(self, rng: np.random.Generator, idx: np.ndarray) -> np.ndarray:
        n = len(idx)
        return self.nns[idx, rng.integers(0, self.k, size=n * self.world_size)[self._mine(n)]]

    def _flips(self, rng: np.random.Generator, n: int, on: bool) -> np.ndarray:
        return (rng.random(n * self.world_size) < 0.5)[self._mine(n)] if on else np.zeros(n, dtype=bool)

    def real(self, drawn: np.ndarray) -> RealDraw:
        """The real batch for the indices the main stream drew."""
        drawn = np.asarray(drawn, dtype=np.int64)
        rng = self._rng(_REAL)
        other = self._neighbour(rng, drawn)
        feat_flip = self._flips(rng, len(drawn), self.feature_augmentation)
        image_flip = self._flips(rng, len(drawn), self.hflip)
        if self.balance == "instance_balance":  # drawn = conditioning instance, image = a neighbour
            return RealDraw(other, drawn, feat_flip, image_flip)
        return RealDraw(drawn, other, feat_flip, image_flip)  # drawn = real image, instance = a neighbour

    def fake(self, n: int) -> FakeDraw:
        """``n`` conditionings for G, independent of any real batch."""
        rng = self._rng(_FAKE)
        glob, mine = n * self.world_size, self._mine(n)
        if self.balance == "nnclass_balance":
            cls = self.classes[rng.integers(0, len(self.classes), size=glob)[mine]]
            image = self.order[self.starts[cls] + (rng.random(glob)[mine] * self.counts[cls]).astype(np.int64)]
            inst = self._neighbour(rng, image)
            labels = cls.astype(np.int64)
        else:
            if self.pool is None:
                inst = rng.integers(0, self.n, size=glob)[mine]
            else:
                inst = self.pool[rng.integers(0, len(self.pool), size=glob)[mine]]
            labels = None if self.labels is None else self.labels[self._neighbour(rng, inst)]
        return FakeDraw(inst, self._flips(rng, n, self.feature_augmentation), labels)

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rank": self.rank, "calls": dict(self.calls)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["seed"]) != self.seed:
            raise CheckpointError(f"conditioning draws were saved with seed {state['seed']}, this run has {self.seed}")
        self.calls = {int(k): int(v) for k, v in state["calls"].items()}


class NeighbourSampler:
    """The main-stream sampler of an IC-GAN run: wraps the trainer's index sampler (uniform instances, or
    class-balanced images with ``nnclass_balance``) and returns the indices of the real *images*; the instances
    and flips of the last draw are kept in :attr:`last` for the method to attach the conditioning features."""

    def __init__(self, base: Any, draws: ConditioningDraws) -> None:
        self.base, self.draws = base, draws
        self.last: RealDraw | None = None

    def next_indices(self, k: int) -> np.ndarray:
        self.last = self.draws.real(self.base.next_indices(k))
        return self.last.image_idx

    @property
    def epoch(self) -> float:
        return self.base.epoch

    def state_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.state_dict(),
            "base_class": type(self.base).__name__,
            "real_calls": self.draws.calls[_REAL],
            "seed": self.draws.seed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("base_class") != type(self.base).__name__:
            raise CheckpointError(
                f"the checkpoint's IC-GAN stream was drawn by a {state.get('base_class')}, this run uses a "
                f"{type(self.base).__name__} (which_knn_balance changed?)"
            )
        if int(state["seed"]) != self.draws.seed:
            raise CheckpointError("the checkpoint's neighbour draws used another seed")
        self.base.load_state_dict(state["base"])
        self.draws.calls[_REAL] = int(state["real_calls"])


def class_balanced_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-image weights 1 / |class| (every class equally likely), for ``nnclass_balance``'s real stream."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return 1.0 / counts[labels]
