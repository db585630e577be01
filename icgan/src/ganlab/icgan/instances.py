"""Stored instances for sampling (IC-GAN §3.1, §3.5; official ``store_kmeans_indexes.py``).

IC-GAN needs instance features to sample. For evaluation the paper stores 1,000 training instances: k-means
(faiss, 100 iterations, at least 200 points per centroid, faiss's default seed 1234, not spherical) on the unit
features, then the closest *real* instance to each centroid (not the centroid itself); conditionings are drawn from
them uniformly with replacement. Alternatives: uniformly random instances (Figure 4's "Random"), all instances
(ImageNet-LT), or the features of any images (transfer, :mod:`ganlab.icgan.transfer`).

For class-conditional sampling a stored instance also keeps the labels of its neighbours: G's label is the label of
a random neighbour, as in training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import DatasetError, ShapeError
from ganlab.core.results import atomic_save
from ganlab.icgan.features import FeatureMismatchError, InstanceFeatures
from ganlab.icgan.neighbours import Neighbourhoods

FORMAT = "ganlab-icgan-instances/1"
KMEANS_NITER = 100
KMEANS_MIN_POINTS = 200
FAISS_DEFAULT_SEED = 1234
SELECTIONS = ("kmeans", "random", "all")


@dataclass
class StoredInstances:
    """Unit conditioning features (M, D) to sample from, with where they came from."""

    features: np.ndarray
    indices: np.ndarray | None = None  # dataset positions (None for transfer images)
    neighbour_labels: np.ndarray | None = None  # (M, k) labels of each instance's neighbours (class-conditional)
    meta: dict[str, Any] = field(default_factory=dict)
    probs: np.ndarray | None = None  # draw probabilities per stored instance (None: uniform)

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        if self.features.ndim != 2 or len(self.features) == 0:
            raise ShapeError(f"stored instances need features (M >= 1, D), got shape {self.features.shape}")
        if self.probs is not None:
            self.probs = np.asarray(self.probs, dtype=np.float64)
            if self.probs.shape != (len(self.features),) or np.any(self.probs < 0):
                raise ShapeError(f"draw probabilities must be {len(self.features)} non-negative values")
            self.probs = self.probs / self.probs.sum()

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def draw(self, n: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """``n`` stored-instance positions, with replacement (uniform, or by ``probs``), and (class-conditional)
        neighbour labels."""
        if self.probs is None:
            pos = generator.integers(0, len(self), size=n)
        else:
            pos = generator.choice(len(self), size=n, p=self.probs)
        labels = None
        if self.neighbour_labels is not None:
            labels = self.neighbour_labels[pos, generator.integers(0, self.neighbour_labels.shape[1], size=n)]
        return pos, labels

    def conditioning(self, pos: np.ndarray, device: Any = "cpu") -> torch.Tensor:
        return torch.from_numpy(self.features[np.asarray(pos)]).to(device)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays: dict[str, Any] = {"features": self.features, "meta": np.array(json.dumps(self.meta, default=str))}
        if self.indices is not None:
            arrays["indices"] = self.indices
        if self.neighbour_labels is not None:
            arrays["neighbour_labels"] = self.neighbour_labels

        def saver(obj: dict, f: Any) -> None:
            np.savez(f, **obj)

        atomic_save(arrays, path, saver)
        return path

    @classmethod
    def load(cls, path: str | Path, features: InstanceFeatures | None = None) -> StoredInstances:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"stored-instance file {path} does not exist; make one with `ganlab icgan kmeans`")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                out = cls(
                    z["features"],
                    z["indices"] if "indices" in z else None,
                    z["neighbour_labels"] if "neighbour_labels" in z else None,
                    meta,
                )
        except (OSError, ValueError, KeyError) as exc:
            raise DatasetError(f"{path} is not a stored-instance file ({exc})") from None
        if meta.get("format") != FORMAT:
            raise DatasetError(f"{path} has format {meta.get('format')!r}, expected {FORMAT!r}")
        if features is not None and meta.get("features_fingerprint") not in (None, features.fingerprint):
            raise FeatureMismatchError(
                f"{path} was selected from features {meta.get('features_fingerprint')}, not {features.fingerprint}"
            )
        return out


def kmeans_indices(
    unit: np.ndarray,
    n_instances: int = 1000,
    *,
    n_iter: int = KMEANS_NITER,
    seed: int = FAISS_DEFAULT_SEED,
    device: Any = None,
) -> np.ndarray:
    """Dataset positions of the real instances nearest each of ``n_instances`` k-means centroids (unit features).

    faiss's ``min_points_per_centroid`` (200 in the official script) only decides whether faiss warns, so it does
    not change the result; ``max_points_per_centroid`` stays faiss's 256 (training subsample of 256 K points).
    """
    from ganlab.core.knn import kmeans_instances

    n = int(unit.shape[0])
    if not isinstance(n_instances, (int, np.integer)) or n_instances < 1:
        raise ShapeError(f"the number of stored instances must be a positive integer, got {n_instances!r}")
    if n_instances > n:
        raise ShapeError(
            f"{n_instances} k-means centroids need at least as many instances, but there are {n}; store at most {n}"
        )
    return kmeans_instances(unit, int(n_instances), n_iter=n_iter, seed=seed, metric="l2", device=device)


def select_instances(
    features: InstanceFeatures,
    n_instances: int = 1000,
    *,
    method: str = "kmeans",
    seed: int = FAISS_DEFAULT_SEED,
    neighbourhoods: Neighbourhoods | None = None,
    labels: np.ndarray | None = None,
    n_iter: int = KMEANS_NITER,
    device: Any = None,
) -> StoredInstances:
    """Store ``n_instances`` training instances: ``kmeans`` (the paper), ``random`` (uniform, no replacement) or
    ``all``. With ``neighbourhoods`` and ``labels`` the neighbours' labels are kept for cc-IC-GAN sampling."""
    if method not in SELECTIONS:
        raise ShapeError(f"unknown instance selection {method!r}; choose one of {', '.join(SELECTIONS)}")
    n = len(features)
    if method == "all":
        idx = np.arange(n, dtype=np.int64)
    elif method == "random":
        if n_instances > n:
            raise ShapeError(f"cannot draw {n_instances} distinct random instances from {n}")
        idx = np.sort(np.random.default_rng(seed).choice(n, size=int(n_instances), replace=False))
    else:
        idx = kmeans_indices(features.unit(), n_instances, n_iter=n_iter, seed=seed, device=device)
    nb_labels = None
    if neighbourhoods is not None and labels is not None:
        neighbourhoods.check(features)
        nb_labels = np.asarray(labels, dtype=np.int64)[neighbourhoods.indices[idx]]
    meta = {
        "format": FORMAT,
        "selection": method,
        "n": int(len(idx)),
        "seed": int(seed),
        "features_fingerprint": features.fingerprint,
        "dataset_fingerprint": features.dataset_fingerprint,
        "extractor": features.meta.get("extractor"),
    }
    if method == "kmeans":
        meta.update(niter=n_iter, min_points_per_centroid=KMEANS_MIN_POINTS, spherical=False)
    return StoredInstances(features.get(idx).numpy(), idx, nb_labels, meta)


class TrainingInstances:
    """Every training instance as a sampling source, read on demand (the official training-time FID draws
    conditionings uniformly over all N instances; N x 2048 features of ImageNet are never copied into memory).
    A class-conditional G gets the label of a random neighbour, as in training."""

    def __init__(self, method: Any, labels: np.ndarray | None = None) -> None:
        self.features, self.nb = method.features, method.neighbourhoods
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def dim(self) -> int:
        return self.features.dim

    def draw(self, n: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        pos = generator.integers(0, len(self), size=n)
        if self.labels is None:
            return pos, None
        nb = self.nb.indices[pos, generator.integers(0, self.nb.k, size=n)]
        return pos, self.labels[nb]

    def conditioning(self, pos: np.ndarray, device: Any = "cpu") -> torch.Tensor:
        return self.features.get(np.asarray(pos)).to(device)
