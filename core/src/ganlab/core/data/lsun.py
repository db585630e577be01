"""LSUN scene categories read straight from their LMDB databases (``pip install lmdb``), or from a prepared HDF5 file.

One database per category and split, ``root/<category>_<split>_lmdb`` (``data.mdb``, ``lock.mdb``), as the LSUN
download tools unzip it: keys are image ids, values the encoded images (the release documents JPEG; its files are
WebP; either decodes). Several categories read as one labelled dataset: label = the category's index in the order
given (``categories="all"``: the ten scene categories in the release's order). The keys are listed once when the
dataset is built; torchvision's LSUN reader is not used because it caches the key list in the working directory
under a name made of the path's letters only, so two databases whose paths differ in digits share one stale cache.

``prepare_lsun_hdf5`` (``ganlab data prepare ROOT OUT --resolution R --lsun CATEGORIES --split S``) writes the
categories once to the project's HDF5 format (:mod:`ganlab.core.data.hdf5`: centre crop, resize, labels, class
names); ``get_dataset("lsun", ..., hdf5=OUT)`` then reads that file, checked against the categories and split.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganlab.core.errors import DatasetError, MissingDependencyError

from .base import GanDataset, TensorDataset, check_split
from .folder import DEFAULT_RESOLUTION, FileImageDataset
from .layouts import layout_error
from .registry import register_dataset
from .vision import resolve_root

# the scene categories of the LSUN release (download.py's list), in its order: the labels of categories="all"
SCENE_CATEGORIES = (
    "bedroom",
    "bridge",
    "church_outdoor",
    "classroom",
    "conference_room",
    "dining_room",
    "kitchen",
    "living_room",
    "restaurant",
    "tower",
)
SPLITS = ("train", "val")


def _lmdb():
    try:
        import lmdb
    except ImportError:
        raise MissingDependencyError("the lsun dataset reads LMDB files: install it with `pip install lmdb`") from None
    return lmdb


_ENVS: dict[str, Any] = {}  # one read-only environment per database and process (lmdb refuses a second open)
_ENVS_PID: list[int] = []


def _open(path: Path):
    if _ENVS_PID != [os.getpid()]:  # a forked worker: drop the parent's handles (closing unmaps this process's copy)
        for env in _ENVS.values():
            env.close()
        _ENVS.clear()
        _ENVS_PID[:] = [os.getpid()]
    key = str(Path(path).resolve())
    if key not in _ENVS:
        _ENVS[key] = _lmdb().open(key, readonly=True, lock=False, readahead=False, meminit=False, max_readers=126)
    return _ENVS[key]


def lsun_categories(categories: str | Sequence[str]) -> list[str]:
    """``"all"`` (the ten scene categories), ``"a,b"`` or a list -> the category names in order (no repeats)."""
    if isinstance(categories, str):
        names = list(SCENE_CATEGORIES) if categories == "all" else [c.strip() for c in categories.split(",")]
    else:
        names = [str(c).strip() for c in categories]
    names = [c for c in names if c]
    if not names:
        raise DatasetError("lsun: categories is empty; name one or more (e.g. bedroom,kitchen) or 'all'")
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise DatasetError(f"lsun: category {repeated[0]!r} is listed twice (each category is one label)")
    return names


class LMDBReader:
    """Image ``i`` of one or more LMDB databases read one after another (item ``i`` of the concatenation); the
    environments are opened per process (DataLoader workers pickle this)."""

    def __init__(self, paths: Sequence[Path] | Path, keys: Sequence[list[bytes]] | list[bytes]) -> None:
        if isinstance(paths, (str, Path)):  # one database
            paths, keys = [paths], [keys]
        self.paths = [Path(p) for p in paths]
        self.keys = [list(k) for k in keys]
        self.offsets = np.cumsum([0] + [len(k) for k in self.keys])
        self._envs: list[Any] | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_envs": None, "_pid": None}

    def locate(self, i: int) -> tuple[int, int]:
        """Global item ``i`` -> (database, position in it)."""
        db = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return db, int(i - self.offsets[db])

    def __call__(self, i: int) -> Image.Image:
        if self._envs is None or self._pid != os.getpid():
            self._envs, self._pid = [_open(p) for p in self.paths], os.getpid()
        db, j = self.locate(i)
        key = self.keys[db][j]
        with self._envs[db].begin(write=False) as txn:
            value = txn.get(key)
        if value is None:
            raise OSError(f"key {key!r} is not in {self.paths[db]}")
        img = Image.open(io.BytesIO(value))
        img.load()
        return img


def _database(base: Path, category: str, split: str) -> Path:
    folder = base / f"{category}_{split}_lmdb"
    if not (folder / "data.mdb").is_file():
        from ganlab.core.registry import closest

        present = sorted(p.name[: -len(f"_{split}_lmdb")] for p in base.glob(f"*_{split}_lmdb") if p.is_dir())
        hint = closest(category, present) if present else None
        problem = f"{folder} is not an LMDB folder (no data.mdb)" + (f"; did you mean {hint!r}?" if hint else "")
        raise DatasetError(layout_error("lsun", problem, base))
    return folder


def _keys(folder: Path, base: Path) -> list[bytes]:
    try:
        with _open(folder).begin(write=False) as txn:
            keys = list(txn.cursor().iternext(keys=True, values=False))
    except Exception as exc:  # lmdb raises its own error types
        raise DatasetError(f"lsun: cannot open {folder}: {exc}") from None
    if not keys:
        raise DatasetError(layout_error("lsun", f"{folder} holds no images", base))
    return keys


def _from_lmdb(base: Path, cats: list[str], split: str, resolution: int, labelled: bool) -> FileImageDataset:
    _lmdb()
    folders = [_database(base, c, split) for c in cats]
    keys = [_keys(f, base) for f in folders]
    counts = [len(k) for k in keys]
    if labelled:
        labels = np.repeat(np.arange(len(cats), dtype=np.int64), counts)
        identity = {"name": "lsun", "roots": [str(f.resolve()) for f in folders], "categories": cats}
    else:  # one category, unlabelled (the identity of the single-category reader, so its fingerprints still hold)
        labels = np.zeros(counts[0], dtype=np.int64)
        identity = {"name": "lsun", "root": str(folders[0].resolve())}
    return FileImageDataset(
        "lsun",
        LMDBReader(folders, keys),
        labels,
        resolution=resolution,
        num_classes=len(cats) if labelled else 0,
        identity=identity,
        class_names=cats if labelled else None,
    )


def _from_hdf5(base: Path, file: str, split: str, resolution: int | None, cats: list[str] | None, in_memory: bool):
    from .hdf5 import HDF5Dataset

    path = Path(file).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise DatasetError(
            f"lsun: prepared file {path} does not exist; write it from the LMDB databases under {base} with "
            f"`ganlab data prepare {base} {path} --resolution R --lsun {','.join(cats) if cats else 'all'} "
            f"--split {split}`"
        )
    identity = {"name": "lsun", "path": str(path.resolve()), "size": path.stat().st_size, "resolution": resolution}
    ds = HDF5Dataset(path, resolution, in_memory, identity)
    ds.name = "lsun"
    import h5py

    with h5py.File(path, "r") as f:
        stored_split = f.attrs.get("lsun_split")
    if stored_split is not None and str(stored_split) != split:
        raise DatasetError(f"lsun: {path} holds the {stored_split!r} split, not {split!r}")
    if cats is not None and ds.class_names != cats:
        raise DatasetError(
            f"lsun: {path} holds the categories {ds.class_names} (labels in that order), not {cats}; prepare a file "
            "for these categories or drop the categories option to use the file's"
        )
    return ds


def _in_memory(ds: FileImageDataset) -> TensorDataset:
    """Every image decoded once (uint8 at the dataset's resolution): training then costs one gather per batch."""
    data = torch.stack([ds.load_uint8(i) for i in range(len(ds))])
    identity = {**ds.identity, "in_memory": True}
    return TensorDataset(
        "lsun", data, ds.labels, num_classes=ds.num_classes, identity=identity, class_names=ds.class_names
    )


@register_dataset("lsun")
def lsun(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    category: str = "bedroom",
    categories: str | list[str] | None = None,
    hdf5: str | None = None,
    in_memory: bool = False,
) -> GanDataset:
    """LSUN scene categories (LMDB; needs ``pip install lmdb``) from ``root/<category>_<split>_lmdb``.

    ``categories`` (a list, ``"a,b"`` or ``"all"`` for the ten scene categories): several categories, label = index
    in that order; without it, ``category`` alone, unlabelled. ``hdf5``: read a file made by ``ganlab data prepare
    ROOT OUT --lsun ...`` instead (a relative path is under ``root``). ``in_memory``: decode every image once.
    """
    check_split("lsun", split, SPLITS)
    base = resolve_root(root)
    cats = lsun_categories(categories) if categories is not None else None
    if hdf5 is not None:
        return _from_hdf5(base, hdf5, split, resolution, cats, in_memory)
    ds = _from_lmdb(base, cats or [category], split, resolution or DEFAULT_RESOLUTION, labelled=cats is not None)
    return _in_memory(ds) if in_memory else ds


class _Uint8Items(torch.utils.data.Dataset):
    def __init__(self, ds: FileImageDataset) -> None:
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.ds.load_uint8(i)


def prepare_lsun_hdf5(
    root: str | Path,
    output: str | Path,
    resolution: int,
    *,
    categories: str | Sequence[str] = "all",
    split: str = "val",
    chunk_size: int = 500,
    num_workers: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """LSUN categories (labels = their index in ``categories``) -> the HDF5 format, each image centre-cropped on its
    long edge and resized to ``resolution`` as ``ganlab data prepare`` does for a folder."""
    from .hdf5 import write_hdf5

    check_split("lsun", split, SPLITS)
    if int(resolution) < 1:
        raise DatasetError(f"resolution must be a positive number of pixels, got {resolution}")
    base = Path(root).expanduser()
    cats = lsun_categories(categories)
    ds = _from_lmdb(base, cats, split, int(resolution), labelled=True)
    return write_hdf5(
        Path(output).expanduser(),
        _Uint8Items(ds),
        ds.labels,
        int(resolution),
        cats,
        len(cats),
        {"source": str(base.resolve()), "lsun_split": split},
        chunk_size=chunk_size,
        num_workers=num_workers,
        progress=progress,
    )
