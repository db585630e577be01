"""Stand-ins: small datasets written exactly as the real ones lie on disk, for dress rehearsals without the data.

``write_standin(name, root, num=None, seed=0)`` (``ganlab data stand-in NAME --root DIR``) writes a stand-in of
dataset ``name`` under ``root`` with the real file names, folder layout and file formats, random content seeded by
``seed``; the ordinary reader (``get_dataset(name, root=root)``) reads it as it would read the real data. The
torchvision readers of CIFAR, SVHN, STL-10 and CelebA also compare MD5 sums with the real release: read their
stand-ins inside :func:`ganlab.core.data.checksums.skip_checksums` (or with ``GANLAB_SKIP_CHECKSUMS=1``).

A stand-in folder holds a marker file, ``.ganlab-standin.json``; ``write_standin`` writes only into an empty folder
or one that holds that marker, so real data is never mixed with random images.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.errors import DatasetError

from ..checksums import CHECKSUMMED, ENV_VAR

__all__ = ["CHECKSUMMED", "MARKER", "STANDINS", "default_num", "is_standin", "write_standin"]

MARKER = ".ganlab-standin.json"


def _writers() -> dict[str, tuple[Callable[..., list[Path]], int]]:
    from . import arrays, files

    return {
        "mnist": (arrays.write_mnist, 200),
        "fashion_mnist": (arrays.write_fashion_mnist, 200),
        "mnist_fmnist": (arrays.write_mnist_fmnist, 200),
        "cifar10": (arrays.write_cifar10, 200),
        "cifar100": (arrays.write_cifar100, 200),
        "svhn": (arrays.write_svhn, 200),
        "stl10": (arrays.write_stl10, 100),
        "hdf5": (arrays.write_hdf5, 128),
        "celeba": (files.write_celeba, 100),
        "imagenet": (files.write_imagenet, 64),
        "imagenet_lt": (files.write_imagenet_lt, 64),
        "image_folder": (files.write_image_folder, 64),
        "coco_stuff": (files.write_coco_stuff, 64),
        "lsun": (files.write_lsun, 16),  # per category (ten by default)
        "ffhq": (files.write_ffhq, 16),
    }


STANDINS = (
    "mnist fashion_mnist mnist_fmnist cifar10 cifar100 svhn stl10 hdf5 celeba imagenet imagenet_lt image_folder "
    "coco_stuff lsun ffhq"
).split()


def default_num(name: str) -> int:
    return _writers()[name][1]


def is_standin(root: str | Path) -> bool:
    return (Path(root).expanduser() / MARKER).is_file()


def _check_target(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise DatasetError(f"stand-in: {root} is a file; pass a folder as --root")
    if root.is_dir() and any(root.iterdir()) and not is_standin(root):
        raise DatasetError(
            f"stand-in: {root} is not empty and is not a stand-in folder (no {MARKER}); refusing to write random "
            "images beside what may be real data. Pass an empty or new folder"
        )


def _remove_previous(root: Path, files: list[str]) -> None:
    """Delete the files an earlier stand-in of the same dataset wrote here (and folders they leave empty)."""
    folders = set()
    for rel in files:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            continue  # only files inside the stand-in folder
        path = root / rel
        path.unlink(missing_ok=True)
        folders.update(p for p in path.parents if root in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def write_standin(name: str, root: str | Path, num: int | None = None, seed: int = 0, **options: Any) -> dict[str, Any]:
    """Write a stand-in of ``name`` under ``root``; returns a summary (dataset, root, num, seed, files written)."""
    from ganlab.core.registry import closest

    writers = _writers()
    if name not in writers:
        hint = closest(name, list(writers))
        raise DatasetError(
            f"no stand-in for dataset {name!r}"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f"; stand-ins exist for: {', '.join(STANDINS)}"
        )
    writer, default = writers[name]
    allowed = [p for p in inspect.signature(writer).parameters if p not in ("root", "num", "rng")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DatasetError(
            f"stand-in {name!r} has no option {unknown[0]!r}; its options: {', '.join(allowed) or 'none'}"
        )
    num = default if num is None else int(num)
    if num < 1:
        raise DatasetError(f"stand-in: --num must be at least 1, got {num}")
    root = Path(root).expanduser()
    _check_target(root)
    root.mkdir(parents=True, exist_ok=True)
    marker = root / MARKER
    record = json.loads(marker.read_text()) if marker.is_file() else {"stand_ins": {}}
    _remove_previous(root, record["stand_ins"].get(name, {}).get("files", []))
    record["stand_ins"][name] = {"num": num, "seed": int(seed), "options": options, "files": []}
    marker.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")  # first, so a failed write is still ours
    written = writer(root, num, np.random.default_rng(seed), **options)
    record["stand_ins"][name]["files"] = sorted(p.relative_to(root).as_posix() for p in written)
    marker.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    read_root = written[0] if name == "hdf5" else root  # the hdf5 dataset's root is the file itself
    return {
        "dataset": name,
        "root": str(root),
        "num": num,
        "seed": int(seed),
        "files": len(written),
        "read": f"get_dataset({name!r}, root={str(read_root)!r})",
        "checksums": f"skip them to read it ({ENV_VAR}=1)" if name in CHECKSUMMED else "not checked",
    }
