"""Labelled / validation / pool splits and the semi-supervised epoch (the official ``data.split_dataset`` and trainer).

- :func:`class_balanced_split`: from a seeded permutation of the training items, the first ``init_size // C``
  items of each class are labelled, then ``val_size // C`` per class of the rest form the validation set; everything
  else is the unlabelled pool (also used for semi-supervised GAN training).
- :func:`epoch_layout`: the official trainer concatenates labelled set and pool and repeats the result
  ``max(1, per_epoch // n)`` times when it is shorter than ``per_epoch`` (10,000); an epoch is that many items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganlab.core.errors import ConfigError, DatasetError

__all__ = ["Split", "class_balanced_split", "epoch_layout", "load_split", "save_split"]


@dataclass
class Split:
    """Dataset positions of the labelled set, the validation set and the unlabelled pool (disjoint)."""

    labelled: np.ndarray
    val: np.ndarray
    pool: np.ndarray

    def __post_init__(self) -> None:
        self.labelled = np.asarray(self.labelled, dtype=np.int64).reshape(-1)
        self.val = np.asarray(self.val, dtype=np.int64).reshape(-1)
        self.pool = np.asarray(self.pool, dtype=np.int64).reshape(-1)

    def check(self, n: int) -> None:
        parts = np.concatenate([self.labelled, self.val, self.pool])
        if parts.size and (parts.min() < 0 or parts.max() >= n):
            raise DatasetError(f"split indices must lie in [0, {n}); got [{parts.min()}, {parts.max()}]")
        if np.unique(parts).size != parts.size:
            raise DatasetError("the labelled set, validation set and pool of a split must be disjoint")
        if self.labelled.size == 0:
            raise DatasetError("the labelled set is empty: GOLD's class terms need at least one labelled item")

    def add(self, queried: np.ndarray) -> Split:
        """A new split with ``queried`` (dataset positions, all in the pool) moved from the pool to the labelled set."""
        q = np.asarray(queried, dtype=np.int64).reshape(-1)
        missing = np.setdiff1d(q, self.pool)
        if missing.size:
            raise DatasetError(f"queried items {missing[:5].tolist()} are not in the pool")
        return Split(np.concatenate([self.labelled, q]), self.val, np.setdiff1d(self.pool, q, assume_unique=True))


def _pick(labels: np.ndarray, order: np.ndarray, num_classes: int, per_class: int) -> np.ndarray:
    """The first ``per_class`` items of each class in ``order`` (class 0's, then class 1's, ...)."""
    if per_class == 0:
        return np.zeros(0, dtype=np.int64)
    out = []
    lab = labels[order]
    for c in range(num_classes):
        hits = order[lab == c][:per_class]
        if hits.size < per_class:
            raise DatasetError(
                f"class {c} has only {hits.size} items left for a class-balanced pick of {per_class} per class"
            )
        out.append(hits)
    return np.concatenate(out)


def class_balanced_split(
    labels: np.ndarray,
    num_classes: int,
    init_size: int,
    val_size: int,
    seed: int = 0,
    candidates: np.ndarray | None = None,
) -> Split:
    """Class-balanced labelled set (``init_size // C`` per class) and validation set (``val_size // C`` per class).

    ``candidates``: the dataset positions the split draws from (default: all); the rest of them is the pool.
    """
    labels = np.asarray(labels, dtype=np.int64)
    cand = np.arange(labels.size) if candidates is None else np.asarray(candidates, dtype=np.int64)
    if init_size < num_classes:
        raise ConfigError(
            f"a class-balanced labelled set of {init_size} items cannot hold one item of each of {num_classes} classes"
        )
    if init_size + val_size > cand.size:
        raise ConfigError(f"{init_size} labelled + {val_size} validation items exceed the {cand.size} training items")
    order = cand[np.random.default_rng(seed).permutation(cand.size)]
    labelled = _pick(labels, order, num_classes, init_size // num_classes)
    rest = order[~np.isin(order, labelled)]
    val = _pick(labels, rest, num_classes, val_size // num_classes)
    pool = np.sort(rest[~np.isin(rest, val)])
    return Split(np.sort(labelled), np.sort(val), pool)


@dataclass
class EpochLayout:
    """``n_stream`` items per pass, ``repeats`` passes per epoch, ``steps`` batches of ``batch_size`` per epoch."""

    n_stream: int
    repeats: int
    batch_size: int

    @property
    def items(self) -> int:
        return self.n_stream * self.repeats

    @property
    def steps(self) -> int:
        return max(1, math.ceil(self.items / self.batch_size))


def epoch_layout(n_stream: int, batch_size: int, per_epoch: int = 10000) -> EpochLayout:
    """The official epoch: the stream repeated ``max(1, per_epoch // n)`` times when shorter than ``per_epoch``."""
    if n_stream < 1:
        raise DatasetError("the training stream is empty (no labelled and no pool items)")
    repeats = max(1, per_epoch // n_stream) if n_stream < per_epoch else 1
    return EpochLayout(int(n_stream), int(repeats), int(batch_size))


def save_split(split: Split, path: str | Path) -> None:
    """Write a split as ``.npz`` (``labelled``, ``val``, ``pool``) atomically."""
    import io

    from ganlab.core.results import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, labelled=split.labelled, val=split.val, pool=split.pool)
    atomic_write_bytes(path, buf.getvalue())


def load_split(path: str | Path) -> Split:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"split file {path} does not exist")
    try:
        with np.load(path) as f:
            return Split(f["labelled"], f["val"], f["pool"])
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path} is not a split file (labelled / val / pool arrays): {exc}") from None
