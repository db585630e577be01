"""Downloadable image datasets read through torchvision (``download=False`` unless asked), held in memory as uint8.

Each builder checks for the files it needs and, when they are missing, raises a :class:`DatasetError` that names the
folder it expected and how to get the data. Nothing is ever downloaded unless ``download=True`` is passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import DatasetError

from .base import TensorDataset, check_rho, check_split, default_data_root, resize_images
from .checksums import ENV_VAR, checksums_skipped, torchvision_checks
from .idx import find_idx, read_idx
from .layouts import layout_error
from .registry import register_dataset

MNIST_LIKE = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


def resolve_root(root: str | Path | None) -> Path:
    return Path(root).expanduser() if root is not None else default_data_root()


def missing_message(name: str, expected: Path, how: str | None = None, root: Path | None = None) -> str:
    """'dataset X is not on disk: expected P. <how to get it>', then the layout and the stand-in command."""
    if how is None:
        how = (
            f"Download it with `ganlab data show {name} --root {root if root is not None else expected.parent} "
            "--download` (or pass download=True; in a config: data.options.download=true)"
        )
    where = root if root is not None else expected.parent
    problem = f"not on disk: expected {expected}"
    if expected.exists() or (expected.parent.is_dir() and any(expected.parent.iterdir())):
        problem = f"{where} does not hold it in the layout its reader needs (looked for {expected})"
    return layout_error(name, f"{problem}. {how}, or put the files there yourself", where)


def _torchvision(name: str, cls_name: str, expected: Path, **kwargs: Any):
    """Instantiate a torchvision dataset, turning 'not found / corrupted' into a DatasetError that says what to do.

    MD5 comparison of the files is torchvision's; :func:`ganlab.core.data.checksums.skip_checksums` turns it off.
    """
    import pickle

    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    try:
        with torchvision_checks(cls):
            return cls(**kwargs)
    except (RuntimeError, FileNotFoundError, OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError) as exc:
        root = Path(kwargs["root"])
        detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)
        detail = " ".join(detail.split())  # one line, whatever the third-party text
        msg = f"{missing_message(name, expected, root=root)} (torchvision: {detail})"
        if expected.exists() and not checksums_skipped():
            msg += (
                f". Files laid out as the real ones but with other bytes (a stand-in) pass only with checksums "
                f"skipped: {ENV_VAR}=1 or ganlab.core.data.checksums.skip_checksums()"
            )
        raise DatasetError(msg) from None


def load_mnist_like(name: str, root: str | Path | None, train: bool, download: bool = False):
    """uint8 images (N, 28, 28) and int64 labels of MNIST or Fashion-MNIST from ``root/<MNIST|FashionMNIST>/raw``.

    The IDX files are read directly, extracted or still gzipped; torchvision is used only to download them.
    """
    root = resolve_root(root)
    folder = MNIST_LIKE[name]
    raw = root / folder / "raw"
    if download:
        _torchvision(name, folder, raw, root=str(root), train=train, download=True)
    prefix = "train" if train else "t10k"
    images_file = find_idx(raw, f"{prefix}-images-idx3-ubyte")
    labels_file = find_idx(raw, f"{prefix}-labels-idx1-ubyte")
    if images_file is None or labels_file is None:
        raise DatasetError(missing_message(name, raw, root=root))
    try:
        images, labels = read_idx(images_file, 3), read_idx(labels_file, 1)
    except (OSError, ValueError, EOFError) as exc:  # gzip raises BadGzipFile (an OSError) and EOFError
        problem = f"{raw} does not hold IDX files ({' '.join(str(exc).split())})"
        raise DatasetError(layout_error(name, problem, root)) from None
    if images.shape[0] != labels.shape[0]:
        problem = f"{images_file.name} holds {images.shape[0]} images but {labels_file.name} {labels.shape[0]} labels"
        raise DatasetError(layout_error(name, problem, root))
    return torch.from_numpy(images.copy()), labels.astype(np.int64)


def mnist_available(root: str | Path | None, name: str = "mnist") -> bool:
    """Whether the raw MNIST (or Fashion-MNIST) training files (extracted or gzipped) are under ``root``."""
    raw = resolve_root(root) / MNIST_LIKE[name] / "raw"
    return find_idx(raw, "train-images-idx3-ubyte") is not None and find_idx(raw, "train-labels-idx1-ubyte") is not None


def _images_dataset(
    name: str,
    images: torch.Tensor,
    labels: np.ndarray,
    num_classes: int,
    resolution: int | None,
    identity: dict[str, Any],
    **kwargs: Any,
) -> TensorDataset:
    """Wrap uint8 (N, C, H, W) images, resized to ``resolution`` once at load time."""
    if resolution is not None:
        images = resize_images(images, resolution)
    return TensorDataset(name, images, labels, num_classes=num_classes, identity=identity, **kwargs)


def _identity(name: str, root: Path, split: str, resolution: int | None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "root": str(root.resolve()), "split": split, "resolution": resolution, **extra}


def _mnist_like_builder(name: str):
    def build(
        root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
    ) -> TensorDataset:
        check_split(name, split, ("train", "test"))
        images, labels = load_mnist_like(name, root, split == "train", download)
        identity = _identity(name, resolve_root(root), split, resolution)
        return _images_dataset(name, images[:, None], labels, 10, resolution, identity)

    return build


@register_dataset("mnist")
def mnist(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """MNIST (torchvision; 60k train / 10k test, 1x28x28) from ``root/MNIST/raw``."""
    return _mnist_like_builder("mnist")(root, split, resolution, download=download)


@register_dataset("fashion_mnist")
def fashion_mnist(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """Fashion-MNIST (torchvision; 60k train / 10k test, 1x28x28) from ``root/FashionMNIST/raw``."""
    return _mnist_like_builder("fashion_mnist")(root, split, resolution, download=download)


@register_dataset("mnist_fmnist")
def mnist_fmnist(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    rho: float = 0.9,
    num_data: int = 60000,
    seed: int = 0,
    download: bool = False,
) -> TensorDataset:
    """Dia-GAN's MNIST-FMNIST: the first ``num_data`` MNIST train images, a fraction 1-rho replaced by FMNIST.

    A random permutation keeps its first ``int(num_data * rho)`` positions as MNIST (group 0); every other index i
    holds Fashion-MNIST train image i instead (group 1, the minor group). Labels are each image's own class.
    Needs MNIST and Fashion-MNIST under ``root`` (``root/MNIST/raw``, ``root/FashionMNIST/raw``).
    """
    check_split("mnist_fmnist", split, ("train",))
    rho = check_rho(rho, "mnist_fmnist")
    m_img, m_lab = load_mnist_like("mnist", root, True, download)
    f_img, f_lab = load_mnist_like("fashion_mnist", root, True, download)
    n = min(int(num_data), m_img.shape[0], f_img.shape[0])
    n_major = int(n * rho + 1e-9)  # guard against 0.95 * N landing a hair below the integer
    perm = np.random.default_rng(seed).permutation(n)
    groups = np.zeros(n, dtype=np.int64)
    groups[perm[n_major:]] = 1
    minor = torch.from_numpy(groups.astype(bool))
    images = torch.where(minor[:, None, None], f_img[:n], m_img[:n])
    labels = np.where(groups == 1, f_lab[:n], m_lab[:n])
    identity = _identity("mnist_fmnist", resolve_root(root), split, resolution, rho=rho, n=n, seed=seed)
    return _images_dataset("mnist_fmnist", images[:, None], labels, 10, resolution, identity, groups=groups)


@register_dataset("cifar10")
def cifar10(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """CIFAR-10 (torchvision; 50k train / 10k test, 3x32x32) from ``root/cifar-10-batches-py``."""
    return _cifar("cifar10", "CIFAR10", "cifar-10-batches-py", 10, root, split, resolution, download)


@register_dataset("cifar100")
def cifar100(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """CIFAR-100 (torchvision; 50k train / 10k test, 3x32x32, 100 fine labels) from ``root/cifar-100-python``."""
    return _cifar("cifar100", "CIFAR100", "cifar-100-python", 100, root, split, resolution, download)


def _cifar(name, cls_name, folder, num_classes, root, split, resolution, download) -> TensorDataset:
    check_split(name, split, ("train", "test"))
    root = resolve_root(root)
    ds = _torchvision(name, cls_name, root / folder, root=str(root), train=split == "train", download=download)
    images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))  # NHWC -> NCHW
    labels = np.asarray(ds.targets, dtype=np.int64)
    return _images_dataset(
        name, images, labels, num_classes, resolution, _identity(name, root, split, resolution), class_names=ds.classes
    )


@register_dataset("svhn")
def svhn(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """SVHN cropped digits (torchvision; train/test/extra, 3x32x32) from ``root/<split>_32x32.mat``."""
    check_split("svhn", split, ("train", "test", "extra"))
    root = resolve_root(root)
    ds = _torchvision("svhn", "SVHN", root / f"{split}_32x32.mat", root=str(root), split=split, download=download)
    images = torch.from_numpy(np.ascontiguousarray(ds.data))
    labels = np.asarray(ds.labels, dtype=np.int64)  # torchvision already maps the '10' label of digit 0 to 0
    return _images_dataset("svhn", images, labels, 10, resolution, _identity("svhn", root, split, resolution))


@register_dataset("stl10")
def stl10(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, download: bool = False
) -> TensorDataset:
    """STL-10 (torchvision; train/test/unlabeled/train+unlabeled, 3x96x96) from ``root/stl10_binary``.

    Splits with unlabelled images are unlabelled as a whole (num_classes 0, label 0).
    """
    check_split("stl10", split, ("train", "test", "unlabeled", "train+unlabeled"))
    root = resolve_root(root)
    ds = _torchvision("stl10", "STL10", root / "stl10_binary", root=str(root), split=split, download=download)
    images = torch.from_numpy(np.ascontiguousarray(ds.data))
    labelled = "unlabeled" not in split
    labels = np.asarray(ds.labels, dtype=np.int64) if labelled else np.zeros(len(ds.data), dtype=np.int64)
    identity = _identity("stl10", root, split, resolution)
    return _images_dataset("stl10", images, labels, 10 if labelled else 0, resolution, identity)
