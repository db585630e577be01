"""Neighbourhoods A_i (IC-GAN §2): the k nearest instances of every instance by cosine similarity, self excluded.

As the official ``make_hdf5_nns.py``: features are L2-normalised and searched with exact L2 (equal ranking to cosine
similarity), the instance itself is removed, and the radius is the Euclidean distance between unit features to the
k-th remaining neighbour (stored but not used in training). The search goes through :func:`ganlab.core.knn.knn`,
which batches the queries (peak memory O(batch * N) on top of the index, never the N x N matrix of official
issue #36) and, with exact duplicates, drops a spare candidate instead of the query so that exactly k remain.

A neighbour file (``.npz``) records the fingerprint of the features it came from and the dataset's; loading it for
other features or another dataset is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.errors import DatasetError, ShapeError
from ganlab.core.results import atomic_save
from ganlab.icgan.features import FeatureMismatchError, InstanceFeatures

FORMAT = "ganlab-icgan-neighbours/1"
LARGE_BYTES = 2 * 2**30  # features above this size are normalised into a memory-mapped copy
PAPER_K = {"imagenet": 50, "imagenet_lt": 5, "coco_stuff": 5}


@dataclass
class Neighbourhoods:
    """``indices`` (N, k) int64 and ``distances`` (N, k) float32 (Euclidean between unit features, i.e.
    sqrt(2 - 2 cos)), by increasing distance, self excluded; ``radii`` is the last column."""

    indices: np.ndarray
    distances: np.ndarray
    features_fingerprint: str
    dataset_fingerprint: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.distances = np.asarray(self.distances, dtype=np.float32)
        if self.indices.ndim != 2 or self.distances.shape != self.indices.shape:
            raise ShapeError(
                f"neighbourhoods need indices and distances of one shape (N, k); got {self.indices.shape} and "
                f"{self.distances.shape}"
            )

    @property
    def radii(self) -> np.ndarray:
        """Distance to the k-th neighbour of every instance (the official ``sample_nns_radius``)."""
        return self.distances[:, -1]

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def in_degree(self) -> np.ndarray:
        """How many neighbourhoods each instance belongs to (its share of the real samples D sees is deg / (N k))."""
        return np.bincount(self.indices.reshape(-1), minlength=len(self)).astype(np.int64)

    def check(self, features: InstanceFeatures | None = None, dataset: Any = None) -> None:
        """Refuse neighbourhoods computed from other features or for another dataset."""
        if features is not None:
            if features.fingerprint != self.features_fingerprint:
                raise FeatureMismatchError(
                    f"the neighbourhoods were computed from features {self.features_fingerprint}, not from these "
                    f"({features.fingerprint}); recompute them (`ganlab icgan neighbours`)"
                )
            if len(features) != len(self):
                raise FeatureMismatchError(f"{len(self)} neighbourhoods for {len(features)} instance features")
        if dataset is not None:
            if len(dataset) != len(self):
                raise FeatureMismatchError(
                    f"{len(self)} neighbourhoods for a dataset of {len(dataset)} items; recompute them for this dataset"
                )
            fp = getattr(dataset, "fingerprint", None)
            if self.dataset_fingerprint and fp and fp != self.dataset_fingerprint:
                raise FeatureMismatchError(
                    f"the neighbourhoods belong to dataset {self.dataset_fingerprint}, not to this one ({fp})"
                )

    def truncated(self, k: int) -> Neighbourhoods:
        """The ``k`` nearest of these neighbours (a smaller neighbourhood from the same search)."""
        if not 1 <= k <= self.k:
            raise ShapeError(f"cannot take k={k} neighbours from neighbourhoods of size {self.k}")
        if k == self.k:
            return self
        return Neighbourhoods(
            self.indices[:, :k].copy(),
            self.distances[:, :k].copy(),
            self.features_fingerprint,
            self.dataset_fingerprint,
            {**self.meta, "k": k},
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {
            "format": FORMAT,
            "k": self.k,
            "n": len(self),
            "features_fingerprint": self.features_fingerprint,
            "dataset_fingerprint": self.dataset_fingerprint,
            **{k: v for k, v in self.meta.items() if k not in ("format", "n", "k")},
        }

        def saver(obj: dict, f: Any) -> None:
            np.savez(f, **obj)

        arrays = {"indices": self.indices, "distances": self.distances, "radii": self.radii}
        atomic_save({**arrays, "meta": np.array(json.dumps(meta, default=str))}, path, saver)
        return path

    @classmethod
    def load(cls, path: str | Path, features: InstanceFeatures | None = None, dataset: Any = None) -> Neighbourhoods:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"neighbour file {path} does not exist; compute it with `ganlab icgan neighbours`")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                indices, distances = z["indices"], z["distances"]
        except (OSError, ValueError, KeyError) as exc:
            raise DatasetError(f"{path} is not a neighbour file ({exc})") from None
        if meta.get("format") != FORMAT:
            raise DatasetError(f"{path} has format {meta.get('format')!r}, expected {FORMAT!r}")
        out = cls(indices, distances, meta["features_fingerprint"], meta.get("dataset_fingerprint"), meta)
        out.check(features, dataset)
        return out


def check_k(k: int, n: int) -> int:
    """k must be a positive integer smaller than the number of instances (self is excluded)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ShapeError(f"the neighbourhood size k must be a positive integer, got {k!r}")
    if k >= n:
        raise ShapeError(
            f"k={k} neighbours (self excluded) need more than {k} instances, but there are {n}; use k <= {n - 1}"
        )
    return int(k)


def compute_neighbourhoods(
    features: InstanceFeatures | np.ndarray,
    k: int,
    *,
    batch_size: int = 16384,
    device: Any = None,
    unit_out: np.ndarray | None = None,
    dataset_fingerprint: str | None = None,
) -> Neighbourhoods:
    """The k cosine nearest neighbours of every instance (self excluded) and the k-th neighbour radius.

    ``features``: :class:`InstanceFeatures` (normalised here) or an array already of unit rows. ``unit_out`` may be
    a float32 memmap of shape (N, D) to hold the normalised copy when the features do not fit in RAM twice.
    """
    from ganlab.core.knn import knn

    tmp_unit = None
    if isinstance(features, InstanceFeatures):
        fp, dfp = features.fingerprint, dataset_fingerprint or features.dataset_fingerprint
        if unit_out is None and features.path is not None and features.raw.nbytes > LARGE_BYTES:
            # larger than RAM can comfortably hold twice (faiss keeps its own copy): normalise into a memmap
            tmp_unit = Path(features.path) / f".unit-{os.getpid()}.npy"
            unit_out = np.lib.format.open_memmap(tmp_unit, mode="w+", dtype=np.float32, shape=features.raw.shape)
        unit = features.unit(unit_out)
    else:
        from ganlab.icgan.features import content_fingerprint, unit_rows

        arr = np.asarray(features)
        fp, dfp = content_fingerprint(arr), dataset_fingerprint
        unit = unit_rows(arr, unit_out)
    try:
        check_k(k, unit.shape[0])
        # L2 on unit vectors ranks exactly as cosine similarity (the official IndexFlatL2 on normalised features)
        dist, idx = knn(unit, None, k=k, metric="l2", exclude_self=True, batch_size=batch_size, device=device)
    finally:
        if tmp_unit is not None:
            del unit, unit_out
            tmp_unit.unlink(missing_ok=True)
    meta = {"k": int(k), "metric": "cosine (L2 on unit features)", "self_excluded": True}
    return Neighbourhoods(idx, dist, fp, dfp, meta)
