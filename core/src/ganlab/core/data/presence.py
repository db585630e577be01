"""Whether a dataset is present on this machine, checked cheaply (a few ``stat`` calls, nothing decoded).

``ganlab data list`` and ``ganlab repro list`` use it to say "embedded", "on disk" or "not on disk" truthfully.
"""

from __future__ import annotations

from pathlib import Path

from .base import default_data_root

__all__ = ["EMBEDDED", "dataset_present"]

EMBEDDED = ("digits", "mnist5k", "colored_mnist", "gaussians25", "ring8", "gaussian_minor", "clusters6")


def _root(root: str | Path | None) -> Path:
    return Path(root).expanduser() if root is not None else default_data_root()


def _mnist(root: Path, folder: str) -> bool:
    raw = root / folder / "raw"
    return all(
        (raw / f).is_file() or (raw / f"{f}.gz").is_file()
        for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    )


def _sub(root: str | Path | None, name: str) -> Path:
    """Folder datasets: ``root`` itself when given, else ``$GANLAB_DATA/<name>``."""
    return Path(root).expanduser() if root is not None else default_data_root() / name


_CHECKS = {
    "mnist": lambda r, s: _mnist(_root(r), "MNIST"),
    "fashion_mnist": lambda r, s: _mnist(_root(r), "FashionMNIST"),
    "mnist_fmnist": lambda r, s: _mnist(_root(r), "MNIST") and _mnist(_root(r), "FashionMNIST"),
    "cifar10": lambda r, s: (_root(r) / "cifar-10-batches-py" / "data_batch_1").is_file(),
    "cifar100": lambda r, s: (_root(r) / "cifar-100-python" / "train").is_file(),
    "svhn": lambda r, s: (_root(r) / f"{s}_32x32.mat").is_file(),
    "stl10": lambda r, s: (_root(r) / "stl10_binary").is_dir(),
    "celeba": lambda r, s: (_root(r) / "celeba" / "list_attr_celeba.txt").is_file(),
    "lsun": lambda r, s: any(_root(r).glob(f"*_{s}_lmdb")),
    "imagenet": lambda r, s: (_sub(r, "imagenet") / s).is_dir(),
    "imagenet_lt": lambda r, s: (_sub(r, "imagenet") / f"ImageNet_LT_{s}.txt").is_file(),
    "ffhq": lambda r, s: (_sub(r, "ffhq") / "images1024x1024").is_dir(),
    "coco_stuff": lambda r, s: any((_sub(r, "coco_stuff") / f).is_dir() for f in (s, f"{s}2017")),
    "image_folder": lambda r, s: r is not None and Path(r).expanduser().is_dir(),
    "hdf5": lambda r, s: r is not None and Path(r).expanduser().is_file(),
}


def dataset_present(name: str, root: str | Path | None = None, split: str = "train") -> bool | None:
    """True if ``name`` can be loaded here without a download, False if not, None if unknown (a foreign dataset)."""
    if name in EMBEDDED:
        return True
    check = _CHECKS.get(name)
    return bool(check(root, split)) if check is not None else None
