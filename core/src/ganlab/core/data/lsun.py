"""LSUN scene categories read straight from their LMDB databases (``pip install lmdb``).

One database per category and split, ``root/<category>_<split>_lmdb`` (``data.mdb``, ``lock.mdb``), as the LSUN
download tools unzip it: keys are image ids, values the encoded images (WebP). The keys are listed once when the
dataset is built; torchvision's LSUN reader is not used because it caches the key list in the working directory
under a name made of the path's letters only, so two databases whose paths differ in digits share one stale cache.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganlab.core.errors import DatasetError, MissingDependencyError

from .base import check_split
from .folder import DEFAULT_RESOLUTION, FileImageDataset
from .layouts import layout_error
from .registry import register_dataset
from .vision import resolve_root


def _lmdb():
    try:
        import lmdb
    except ImportError:
        raise MissingDependencyError("the lsun dataset reads LMDB files: install it with `pip install lmdb`") from None
    return lmdb


def _open(path: Path):
    return _lmdb().open(str(path), readonly=True, lock=False, readahead=False, meminit=False, max_readers=126)


class LMDBReader:
    """Image ``i`` of an LMDB database; the environment is opened per process (DataLoader workers pickle this)."""

    def __init__(self, path: Path, keys: list[bytes]) -> None:
        self.path = Path(path)
        self.keys = keys
        self._env = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_env": None, "_pid": None}

    def __call__(self, i: int) -> Image.Image:
        if self._env is None or self._pid != os.getpid():
            self._env, self._pid = _open(self.path), os.getpid()
        with self._env.begin(write=False) as txn:
            value = txn.get(self.keys[i])
        if value is None:
            raise OSError(f"key {self.keys[i]!r} is not in {self.path}")
        img = Image.open(io.BytesIO(value))
        img.load()
        return img


@register_dataset("lsun")
def lsun(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    category: str = "bedroom",
) -> FileImageDataset:
    """One LSUN scene category (LMDB; needs ``pip install lmdb``) from ``root/<category>_<split>_lmdb``."""
    check_split("lsun", split, ("train", "val"))
    _lmdb()
    base = resolve_root(root)
    expected = base / f"{category}_{split}_lmdb"
    if not (expected / "data.mdb").is_file():
        raise DatasetError(layout_error("lsun", f"{expected} is not an LMDB folder (no data.mdb)", base))
    try:
        env = _open(expected)
        with env.begin(write=False) as txn:
            keys = list(txn.cursor().iternext(keys=True, values=False))
        env.close()
    except Exception as exc:  # lmdb raises its own error types
        raise DatasetError(f"lsun: cannot open {expected}: {exc}") from None
    if not keys:
        raise DatasetError(layout_error("lsun", f"{expected} holds no images", base))
    identity = {"name": "lsun", "root": str(expected.resolve())}
    return FileImageDataset(
        "lsun",
        LMDBReader(expected, keys),
        np.zeros(len(keys), dtype=np.int64),
        resolution=resolution or DEFAULT_RESOLUTION,
        num_classes=0,
        identity=identity,
    )
