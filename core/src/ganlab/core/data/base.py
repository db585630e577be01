"""The dataset protocol every ganlab dataset follows, and the building blocks the concrete datasets share.

An item is a dict: ``index`` (int), ``image`` (float32 CHW tensor in [-1, 1], or a (2,) vector for the 2-D toys),
``label`` (int; 0 when unlabelled) and, where a dataset has major/minor groups, ``group`` (int). ``get_batch(indices)``
returns the same keys as stacked tensors (``index``, ``label``, ``group`` int64).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganlab.core.errors import DatasetError

Batch = dict[str, torch.Tensor]

# Images are resized in chunks so that resizing a large in-memory set never holds two float copies of it.
_RESIZE_CHUNK = 4096


def default_data_root() -> Path:
    """Where downloadable datasets live when no ``root`` is given: ``$GANLAB_DATA``, else ``./data``."""
    return Path(os.environ.get("GANLAB_DATA", "data")).expanduser()


def fingerprint_of(identity: dict[str, Any]) -> str:
    """A stable short hash of a dataset's identity (name, split, resolution, options, root)."""
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def as_index_array(indices: Sequence[int] | np.ndarray | torch.Tensor, n: int) -> np.ndarray:
    """Indices as an int64 numpy array, checked against the dataset size."""
    if isinstance(indices, torch.Tensor):
        indices = indices.detach().cpu().numpy()
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index out of range for a dataset of {n} items: [{idx.min()}, {idx.max()}]")
    return np.where(idx < 0, idx + n, idx)


def uint8_to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1] (the ``Normalize(0.5, 0.5)`` convention of every GAN codebase)."""
    return images.to(torch.float32).div_(127.5).sub_(1.0)


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (N, C, H, W) batch to ``size``x``size`` with antialiased bilinear filtering, in chunks.

    uint8 in, uint8 out (rounded, as a PIL ``Resize`` would store it); float in, float out.
    """
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty((*images.shape[:-2], size, size), dtype=images.dtype)
    down = size < max(images.shape[-2:])
    for s in range(0, images.shape[0], _RESIZE_CHUNK):
        x = images[s : s + _RESIZE_CHUNK].to(torch.float32)
        y = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=down)
        if images.dtype == torch.uint8:
            y = y.round_().clamp_(0, 255)
        out[s : s + _RESIZE_CHUNK] = y.to(images.dtype)
    return out


def check_resolution(resolution: int | None) -> int | None:
    if resolution is None:
        return None
    if int(resolution) != resolution or resolution < 1:
        raise DatasetError(f"resolution must be a positive integer (pixels), got {resolution!r}")
    return int(resolution)


def check_rho(rho: float, name: str) -> float:
    """The majority ratio of a two-group dataset must lie strictly between 0.5 and 1."""
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise DatasetError(f"{name}: rho must be a number in (0.5, 1), got {rho!r}") from None
    if not 0.5 < rho < 1.0:
        raise DatasetError(
            f"{name}: rho={rho} is outside (0.5, 1); rho is the majority ratio, e.g. 0.99, 0.95 or 0.9 "
            "(the minor group then holds 1%, 5% or 10% of the data)"
        )
    return rho


def check_split(name: str, split: str, splits: Sequence[str]) -> str:
    if split not in splits:
        raise DatasetError(f"dataset {name!r} has no split {split!r}; choose one of: {', '.join(splits)}")
    return split


class GanDataset(torch.utils.data.Dataset):
    """Base class of all datasets: a sized collection of dict items with vectorised :meth:`get_batch`.

    Attributes: ``name``, ``num_classes`` (0 = unlabelled), ``shape`` (of one image or vector), ``labels``
    (np.int64, (N,)), ``groups`` (np.int64 (N,) or None), ``fingerprint`` and ``class_names`` (list or None).

    ``fingerprint`` hashes the dataset's identity (name, split, resolution, options, root) *and its content*
    (:meth:`content_digest`; computed on first use, then kept), so files made from a dataset are refused after its
    data changed. Subclasses hash what is cheapest: the tensor in memory, the files' bytes, or decoded batches.
    """

    name: str = "dataset"
    num_classes: int = 0
    shape: tuple[int, ...] = ()
    labels: np.ndarray
    groups: np.ndarray | None = None
    class_names: list[str] | None = None

    def __init__(self, name: str, identity: dict[str, Any]) -> None:
        self.name = name
        self.identity = dict(identity)
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint_of({**self.identity, "content": self.content_digest()})
        return self._fingerprint

    def content_digest(self) -> str:
        """A hash of the data itself (default: every decoded batch, streamed; subclasses do it cheaper)."""
        from .fingerprint import stream_digest

        return stream_digest(self, progress=len(self) > 100_000)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        raise NotImplementedError

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"dataset items are indexed by an int, got {type(i).__name__}; use get_batch for arrays")
        batch = self.get_batch([int(i)])
        item: dict[str, Any] = {"index": int(batch["index"][0]), "image": batch["image"][0]}
        item["label"] = int(batch["label"][0])
        if "group" in batch:
            item["group"] = int(batch["group"][0])
        return item

    def _meta(self, idx: np.ndarray) -> Batch:
        out = {"index": torch.from_numpy(idx.copy()), "label": torch.from_numpy(self.labels[idx].astype(np.int64))}
        if self.groups is not None:
            out["group"] = torch.from_numpy(self.groups[idx].astype(np.int64))
        return out

    def describe(self) -> dict[str, Any]:
        """Size, shape and class information (``ganlab data show`` prints this)."""
        info: dict[str, Any] = {
            "name": self.name,
            "size": len(self),
            "shape": list(self.shape),
            "num_classes": self.num_classes,
            "fingerprint": self.fingerprint,
        }
        if self.num_classes:
            counts = np.bincount(self.labels, minlength=self.num_classes)
            info["class_counts"] = {"min": int(counts.min()), "max": int(counts.max())}
        if self.groups is not None:
            info["group_counts"] = np.bincount(self.groups).tolist()
        return info

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, size={len(self)}, shape={self.shape})"


class TensorDataset(GanDataset):
    """A dataset held in memory as one tensor: uint8 images (converted to [-1, 1] on the fly), or float data.

    ``get_batch`` indexes the preloaded tensor, so a batch costs one gather however large the dataset is.
    """

    def __init__(
        self,
        name: str,
        data: torch.Tensor,
        labels: np.ndarray,
        *,
        num_classes: int,
        identity: dict[str, Any],
        groups: np.ndarray | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        super().__init__(name, identity)
        if data.shape[0] != len(labels):
            raise DatasetError(f"{name}: {data.shape[0]} images but {len(labels)} labels")
        self.data = data.contiguous()
        self.labels = np.asarray(labels, dtype=np.int64)
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        self.num_classes = int(num_classes)
        self.shape = tuple(data.shape[1:])
        self.class_names = class_names

    def content_digest(self) -> str:
        from .fingerprint import array_digest

        return array_digest(self.data, self.labels, self.groups)

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        idx = as_index_array(indices, len(self))
        x = self.data[torch.from_numpy(idx)]
        out = self._meta(idx)
        out["image"] = uint8_to_unit(x) if x.dtype == torch.uint8 else x.to(torch.float32)
        return out


class SubsetDataset(GanDataset):
    """A view of ``parent`` restricted to ``indices`` (e.g. instance selection's kept set).

    Item ``j`` of the view is item ``indices[j]`` of the parent; its ``index`` is ``j`` (a position in the view) so
    samplers and per-instance statistics work on the view; ``indices`` maps back to the parent.
    """

    def __init__(self, parent: GanDataset, indices: Sequence[int] | np.ndarray) -> None:
        idx = as_index_array(indices, len(parent))
        digest = hashlib.sha1(np.ascontiguousarray(idx).tobytes()).hexdigest()[:16]
        super().__init__(parent.name, {"subset": digest})
        self.parent = parent
        self.indices = idx
        self.labels = parent.labels[idx]
        self.groups = None if parent.groups is None else parent.groups[idx]
        self.num_classes = parent.num_classes
        self.shape = parent.shape
        self.class_names = parent.class_names

    def content_digest(self) -> str:
        return self.parent.fingerprint  # the parent's content and identity, with the subset's indices beside it

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        local = as_index_array(indices, len(self))
        out = self.parent.get_batch(self.indices[local])
        out["index"] = torch.from_numpy(local.copy())
        return out


def subset(dataset: GanDataset, indices: Sequence[int] | np.ndarray) -> SubsetDataset:
    """A view of ``dataset`` holding only ``indices`` (see :class:`SubsetDataset`)."""
    return SubsetDataset(dataset, indices)
