"""2-D toy datasets (Dia-GAN §3, GOLD §4.1): items hold a (2,) float32 vector in ``image``.

Each toy dataset also carries ``centers`` ((M, 2) mode centres in data coordinates), ``sigma`` (the per-mode
standard deviation in data coordinates, for mode statistics) and ``modes`` ((N,) the mode each point came from).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import TensorDataset, check_rho, check_split
from .registry import register_dataset


def _toy(
    name: str,
    points: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    identity: dict,
    *,
    centers: np.ndarray,
    sigma: float,
    modes: np.ndarray,
    groups: np.ndarray | None = None,
) -> TensorDataset:
    ds = TensorDataset(
        name,
        torch.from_numpy(points.astype(np.float32)),
        labels,
        num_classes=num_classes,
        identity=identity,
        groups=groups,
    )
    ds.centers = centers.astype(np.float64)
    ds.sigma = float(sigma)
    ds.modes = modes.astype(np.int64)
    return ds


@register_dataset("gaussians25")
def gaussians25(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    n: int = 10000,
    sigma: float = 0.05,
    scale: float = 2.828,
    seed: int = 1,
) -> TensorDataset:
    """25 Gaussians: modes on the grid 2*{-2..2}^2, std 0.05, the whole set divided by 2.828 (10k points).

    Label of a point from centre (2i, 2j) is ``5*(i+2) + (j+2)`` (Dia-GAN's ``datasets/gaussian.py``); points are
    spread equally over the modes and shuffled.
    """
    check_split("gaussians25", split, ("train",))
    rng = np.random.RandomState(seed)
    grid = np.array([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)])  # label k = 5*(i+2)+(j+2)
    labels = rng.permutation(np.arange(n) % 25)
    points = (grid[labels] + sigma * rng.randn(n, 2)) / scale
    identity = {"name": "gaussians25", "n": n, "sigma": sigma, "scale": scale, "seed": seed}
    return _toy("gaussians25", points, labels, 25, identity, centers=grid / scale, sigma=sigma / scale, modes=labels)


@register_dataset("ring8")
def ring8(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    n: int = 10000,
    radius: float = 2.0,
    sigma: float = 0.02,
    n_modes: int = 8,
    seed: int = 1,
) -> TensorDataset:
    """8 Gaussians on a circle of radius 2, std 0.02 (the unrolled-GAN ring); label = mode k at angle 2*pi*k/8."""
    check_split("ring8", split, ("train",))
    rng = np.random.RandomState(seed)
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = rng.permutation(np.arange(n) % n_modes)
    points = centers[labels] + sigma * rng.randn(n, 2)
    identity = {"name": "ring8", "n": n, "radius": radius, "sigma": sigma, "n_modes": n_modes, "seed": seed}
    return _toy("ring8", points, labels, n_modes, identity, centers=centers, sigma=sigma, modes=labels)


@register_dataset("gaussian_minor")
def gaussian_minor(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    n: int = 10000,
    sigma: float = 3.0,
    rho: float = 0.9,
    seed: int = 1,
) -> TensorDataset:
    """Single-mode Gaussian N(0, sigma^2 I) (Dia-GAN §3.2, Table 1: sigma 3.0); minor group = far from the origin.

    The ``n - int(n * rho)`` points farthest from the origin form the minor group (group 1), so the majority
    ratio is exactly ``rho``. Unlabelled (label 0). The paper's appendix with the exact construction is not
    available; the split by distance rank is our reading of "distance from the origin as a factor".
    """
    check_split("gaussian_minor", split, ("train",))
    rho = check_rho(rho, "gaussian_minor")
    rng = np.random.RandomState(seed)
    points = sigma * rng.randn(n, 2)
    n_major = int(n * rho + 1e-9)  # guard against 0.95 * N landing a hair below the integer
    groups = np.ones(n, dtype=np.int64)
    groups[np.argsort(np.linalg.norm(points, axis=1), kind="stable")[:n_major]] = 0
    identity = {"name": "gaussian_minor", "n": n, "sigma": sigma, "rho": rho, "seed": seed}
    return _toy(
        "gaussian_minor",
        points,
        np.zeros(n, dtype=np.int64),
        0,
        identity,
        centers=np.zeros((1, 2)),
        sigma=sigma,
        modes=np.zeros(n, dtype=np.int64),
        groups=groups,
    )


@register_dataset("clusters6")
def clusters6(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    n_train: int = 1000,
    n_test: int = 1000,
    cluster_std: float = 0.5,
    seed: int = 1,
) -> TensorDataset:
    """GOLD's synthetic set: ``make_blobs`` with 6 centres in (-10, 10)^2, std 0.5; label = cluster mod 2.

    One draw of ``n_train + n_test`` points (GOLD seeds numpy with 1 and lets make_blobs use the global state,
    which a ``RandomState(1)`` reproduces); the first ``n_train`` are ``train``, the rest ``test``.
    """
    from sklearn.datasets import make_blobs

    check_split("clusters6", split, ("train", "test"))
    points, cluster, centers = make_blobs(
        n_samples=n_train + n_test,
        centers=6,
        cluster_std=cluster_std,
        random_state=np.random.RandomState(seed),
        return_centers=True,
    )
    sel = slice(0, n_train) if split == "train" else slice(n_train, n_train + n_test)
    points, cluster = points[sel], cluster[sel].astype(np.int64)
    identity = {"name": "clusters6", "split": split, "n_train": n_train, "n_test": n_test, "std": cluster_std}
    identity["seed"] = seed
    return _toy("clusters6", points, cluster % 2, 2, identity, centers=centers, sigma=cluster_std, modes=cluster)
