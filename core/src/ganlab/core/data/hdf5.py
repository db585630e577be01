"""The HDF5 image format (BigGAN's ``make_hdf5`` layout) and the converter from an image folder.

A file holds ``imgs``: uint8 (N, 3, R, R), images centre-cropped on the long edge and resized to R; ``labels``:
int64 (N,); and attributes ``resolution``, ``num_classes``, ``class_names`` (JSON) and ``format``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import DatasetError

from .base import Batch, GanDataset, as_index_array, check_split, resize_images, uint8_to_unit
from .folder import load_image_file, read_split_file, scan_image_folder
from .registry import register_dataset

FORMAT = "ganlab-hdf5-v1"


def _h5py():
    import h5py

    return h5py


class HDF5Dataset(GanDataset):
    """Images from an HDF5 file, read lazily (sorted, de-duplicated fancy indexing per batch) or held in memory.

    The file handle is opened per process on first use, so the dataset can be handed to DataLoader workers.
    """

    def __init__(self, path: Path, resolution: int | None, in_memory: bool, identity: dict[str, Any]) -> None:
        super().__init__("hdf5", identity)
        h5py = _h5py()
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                if "imgs" not in f:
                    raise DatasetError(f"{self.path} has no 'imgs' dataset; make it with `ganlab data prepare`")
                imgs = f["imgs"]
                if imgs.ndim != 4 or imgs.dtype != np.uint8:
                    raise DatasetError(f"{self.path}: 'imgs' must be uint8 (N, C, H, W), got {imgs.dtype} {imgs.shape}")
                self.stored_shape = tuple(imgs.shape[1:])
                n = imgs.shape[0]
                self.labels = np.asarray(f["labels"][:], dtype=np.int64) if "labels" in f else np.zeros(n, np.int64)
                names = f.attrs.get("class_names")
                self.class_names = json.loads(names) if names else None
                n_cls = f.attrs.get("num_classes")
                self.num_classes = int(n_cls) if n_cls is not None else int(self.labels.max(initial=-1) + 1)
                self._memory = torch.from_numpy(imgs[:]) if in_memory else None
        except OSError as exc:
            raise DatasetError(f"cannot open HDF5 file {self.path}: {exc}") from None
        self.resolution = resolution
        size = resolution if resolution is not None else self.stored_shape[-1]
        self.shape = (self.stored_shape[0], size, size)
        if self._memory is not None and resolution is not None:
            self._memory = resize_images(self._memory, resolution)
        self._file = None
        self._pid = None

    def content_digest(self) -> str:
        """SHA-1 over the file's bytes, cached by size and mtime."""
        from .fingerprint import files_digest

        return files_digest([self.path], progress=False)

    def _imgs(self):
        if self._file is None or self._pid != os.getpid():
            self._file = _h5py().File(self.path, "r")
            self._pid = os.getpid()
        return self._file["imgs"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"] = None
        return state

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        idx = as_index_array(indices, len(self))
        out = self._meta(idx)
        if self._memory is not None:
            out["image"] = uint8_to_unit(self._memory[torch.from_numpy(idx)])
            return out
        # h5py fancy indexing needs increasing, unique indices: read those once, then gather in request order.
        uniq, inverse = np.unique(idx, return_inverse=True)
        x = torch.from_numpy(self._imgs()[uniq] if uniq.size else np.empty((0, *self.stored_shape), np.uint8))
        x = x[torch.from_numpy(inverse.reshape(-1))]
        if self.resolution is not None:
            x = resize_images(x, self.resolution)
        out["image"] = uint8_to_unit(x)
        return out


@register_dataset("hdf5")
def hdf5(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    path: str | None = None,
    in_memory: bool = False,
) -> HDF5Dataset:
    """An HDF5 file made by ``ganlab data prepare`` (or BigGAN's make_hdf5): ``root`` or ``path`` is the file."""
    check_split("hdf5", split, ("train", "val", "test"))
    file = path or root
    if file is None:
        raise DatasetError("the hdf5 dataset needs the file: root=<file.hdf5> (or path=...)")
    file = Path(file).expanduser()
    if not file.is_file():
        raise DatasetError(
            f"HDF5 file {file} does not exist; make it from an image folder with "
            f"`ganlab data prepare <image folder> {file} --resolution R` (for a dress rehearsal without the data: "
            f"`ganlab data stand-in hdf5 --root {file.parent} -o resolution=R` writes {file.parent}/prepared_R.hdf5)"
        )
    stat = file.stat()
    identity = {"name": "hdf5", "path": str(file.resolve()), "size": stat.st_size, "resolution": resolution}
    return HDF5Dataset(file, resolution, in_memory, identity)


class _FileList(torch.utils.data.Dataset):
    def __init__(self, paths: Sequence[str], resolution: int) -> None:
        self.paths = list(paths)
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        return load_image_file(self.paths[i], self.resolution)


def prepare_hdf5(
    source: str | Path,
    output: str | Path,
    resolution: int,
    *,
    split_file: str | Path | None = None,
    labelled: bool = True,
    chunk_size: int = 500,
    num_workers: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Convert an image folder (class sub-folders, or a split file of ``path label`` lines) to an HDF5 file.

    Each image is centre-cropped on its long edge and resized to ``resolution`` (BigGAN's ``make_hdf5``), and the
    file is written ``chunk_size`` images at a time, so memory stays at one chunk whatever the dataset size. The file
    appears under its final name only when complete (written to ``<output>.tmp`` and renamed).
    """
    source, output = Path(source).expanduser(), Path(output).expanduser()
    if int(resolution) < 1:
        raise DatasetError(f"resolution must be a positive number of pixels, got {resolution}")
    if split_file is not None:
        paths, labels = read_split_file(Path(split_file).expanduser(), source)
        classes = None
        num_classes = int(labels.max() + 1)
    else:
        paths, labels, classes = scan_image_folder(source, labelled)
        num_classes = len(classes) if classes else 0
    return write_hdf5(
        output,
        _FileList(paths, int(resolution)),
        labels,
        int(resolution),
        classes,
        num_classes,
        {"source": str(source.resolve())},
        chunk_size=chunk_size,
        num_workers=num_workers,
        progress=progress,
    )


def write_hdf5(
    output: Path,
    items: torch.utils.data.Dataset,
    labels: np.ndarray,
    resolution: int,
    classes: Sequence[str] | None,
    num_classes: int,
    attrs: dict[str, Any],
    *,
    chunk_size: int = 500,
    num_workers: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Write the HDF5 format from ``items`` (item ``i``: uint8 (3, R, R)) and their labels, ``chunk_size`` images at
    a time, to ``<output>.tmp`` renamed to ``output`` when complete; ``attrs`` are stored beside the format's own."""
    h5py = _h5py()
    n, r = len(labels), int(resolution)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    loader = torch.utils.data.DataLoader(items, batch_size=chunk_size, shuffle=False, num_workers=num_workers)
    try:
        with h5py.File(tmp, "w") as f:
            imgs = f.create_dataset("imgs", shape=(n, 3, r, r), dtype=np.uint8, chunks=(min(chunk_size, n), 3, r, r))
            f.create_dataset("labels", data=np.asarray(labels, dtype=np.int64), dtype=np.int64)
            f.attrs["resolution"] = r
            f.attrs["num_classes"] = int(num_classes)
            f.attrs["class_names"] = json.dumps(list(classes)) if classes else ""
            f.attrs["format"] = FORMAT
            for key, value in attrs.items():
                f.attrs[key] = value
            start = 0
            batches = loader
            if progress:
                from tqdm import tqdm

                batches = tqdm(loader, total=len(loader), desc=f"prepare {output.name}", unit="chunk")
            for batch in batches:
                imgs[start : start + batch.shape[0]] = batch.numpy()
                start += batch.shape[0]
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"path": str(output), "size": n, "resolution": r, "num_classes": num_classes}
