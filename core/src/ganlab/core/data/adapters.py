"""Your own data under the ganlab dataset protocol: any map-style torch dataset, or arrays / tensors.

>>> ds = from_torch(torchvision.datasets.CIFAR10(root, transform=ToTensor()), name="cifar", value_range=(0, 1))
>>> ds = from_arrays(images_uint8_nhwc, labels, name="faces")

Items may be ``(image, label)`` tuples (torchvision's convention), dicts with ``image``/``label``, or bare images.
Images may be PIL images, uint8 tensors/arrays (0..255, HWC or CHW), or float tensors in the declared
``value_range`` (default ``(-1, 1)``, the ``Normalize(0.5, 0.5)`` convention; ``(0, 1)`` for a bare ``ToTensor``);
they are served as float32 CHW in [-1, 1]. Values outside the declared range are refused with a message on the
first batch, never rescaled by guesswork. 2-D vectors (toy data) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import DatasetError

from .base import Batch, GanDataset, TensorDataset, as_index_array, uint8_to_unit

__all__ = ["TorchDatasetAdapter", "from_arrays", "from_torch"]

_IN_MEMORY_BYTES = 1 << 30  # datasets whose uint8/float images fit in 1 GiB are loaded once and served from memory


def _image_tensor(img: Any) -> torch.Tensor:
    """One image as a tensor: PIL -> uint8 CHW, numpy -> tensor (HWC uint8 -> CHW)."""
    if torch.is_tensor(img):
        return img
    if hasattr(img, "mode") and hasattr(img, "size"):  # a PIL image
        arr = np.asarray(img.convert("RGB" if img.mode not in ("L", "1", "I", "I;16") else "L"))
        img = arr
    if isinstance(img, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(img))
        if t.dtype == torch.uint8 and t.ndim == 3 and t.shape[-1] in (1, 3, 4) and t.shape[0] not in (1, 3):
            t = t.permute(2, 0, 1)
        return t
    raise DatasetError(f"dataset items must hold an image (tensor, numpy array or PIL image), got {type(img).__name__}")


def _to_unit(x: torch.Tensor, value_range: tuple[float, float], where: str) -> torch.Tensor:
    """uint8 -> [-1, 1]; float in ``value_range`` -> [-1, 1]; (B, D) vectors unchanged."""
    if x.dtype == torch.uint8:
        return uint8_to_unit(x)
    x = x.to(torch.float32)
    if x.ndim == 2:  # vectors (toy data): no image range
        return x
    lo, hi = (float(v) for v in value_range)
    if x.numel():
        x_min, x_max = float(x.min()), float(x.max())
        tol = 1e-3 * (hi - lo)
        if x_min < lo - tol or x_max > hi + tol:
            raise DatasetError(
                f"{where}: images hold values in [{x_min:.3g}, {x_max:.3g}], outside the declared value_range "
                f"({lo:g}, {hi:g}); pass value_range=(0, 1) for ToTensor() images, (0, 255) for unnormalised "
                "floats, or normalise them to [-1, 1]"
            )
    if (lo, hi) != (-1.0, 1.0):
        x = (x - lo) * (2.0 / (hi - lo)) - 1.0
    return x


def _split_item(item: Any, image_key: Any, label_key: Any) -> tuple[Any, Any]:
    if isinstance(item, dict):
        if image_key not in item:
            image_key = "image"
        if image_key not in item:
            raise DatasetError(f"dict items need an {image_key!r} key; they have: {', '.join(map(str, item))}")
        return item[image_key], item.get(label_key if label_key in item else "label")
    if isinstance(item, (tuple, list)):
        img = item[image_key if isinstance(image_key, int) else 0]
        li = label_key if isinstance(label_key, int) else 1
        return img, (item[li] if len(item) > li else None)
    return item, None


def _known_labels(dataset: Any) -> np.ndarray | None:
    for attr in ("targets", "labels", "y"):
        value = getattr(dataset, attr, None)
        if value is not None and not callable(value):
            arr = np.asarray(value.cpu() if torch.is_tensor(value) else value)
            if arr.ndim == 1 and len(arr) == len(dataset) and np.issubdtype(arr.dtype, np.integer):
                return arr.astype(np.int64)
    return None


class TorchDatasetAdapter(GanDataset):
    """A map-style torch dataset read item by item (``dataset[i]``) and stacked into ganlab batches.

    Used for datasets too large to hold in memory; :func:`from_torch` loads smaller ones once instead.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        name: str,
        labels: np.ndarray,
        num_classes: int,
        value_range: tuple[float, float],
        image_key: Any = 0,
        label_key: Any = 1,
        fingerprint: str | None = None,
    ) -> None:
        super().__init__(name, {"name": name, "adapter": type(dataset).__name__, "size": len(dataset)})
        self.dataset = dataset
        self.labels = np.asarray(labels, dtype=np.int64)
        self.num_classes = int(num_classes)
        self.value_range = value_range
        self.image_key, self.label_key = image_key, label_key
        self._given_fingerprint = fingerprint
        first = self._images([0])
        self.shape = tuple(first.shape[1:])

    @property
    def fingerprint(self) -> str:
        return self._given_fingerprint or super().fingerprint

    def _images(self, idx: Sequence[int]) -> torch.Tensor:
        imgs = [_image_tensor(_split_item(self.dataset[int(i)], self.image_key, self.label_key)[0]) for i in idx]
        return _to_unit(torch.stack(imgs), self.value_range, self.name) if imgs else torch.empty((0, *self.shape))

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        idx = as_index_array(indices, len(self))
        out = self._meta(idx)
        out["image"] = self._images(idx)
        return out


def from_arrays(
    images: Any,
    labels: Any = None,
    *,
    name: str = "arrays",
    num_classes: int | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    groups: Any = None,
) -> TensorDataset:
    """A dataset held in memory from images (uint8 or float; NCHW, NHWC or (N, H, W)) or (N, D) vectors."""
    x = images if torch.is_tensor(images) else torch.from_numpy(np.ascontiguousarray(images))
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3):  # NHWC (RGBA too) -> NCHW
        x = x.permute(0, 3, 1, 2)
    if x.ndim not in (2, 4):
        raise DatasetError(
            f"{name}: expected images (N, C, H, W) / (N, H, W, C) / (N, H, W) or vectors (N, D), "
            f"got shape {tuple(x.shape)}"
        )
    x = x.contiguous()
    if x.dtype != torch.uint8:
        x = _to_unit(x, value_range, name)
    return _tensor_dataset(name, x, labels, num_classes, groups)


def _tensor_dataset(name: str, x: torch.Tensor, labels: Any, num_classes: int | None, groups: Any) -> TensorDataset:
    n = x.shape[0]
    if labels is None:
        y = np.zeros(n, dtype=np.int64)
        k = int(num_classes or 0)
    else:
        y = np.asarray(labels.cpu() if torch.is_tensor(labels) else labels).reshape(-1)
        if not np.issubdtype(y.dtype, np.integer):
            raise DatasetError(f"{name}: labels must be integers (class indices), got {y.dtype}")
        y = y.astype(np.int64)
        k = int(num_classes) if num_classes is not None else int(y.max(initial=-1) + 1)
    if len(y) != n:
        raise DatasetError(f"{name}: {n} images but {len(y)} labels")
    if len(y) and (y.min() < 0 or (k and y.max() >= k)):
        raise DatasetError(f"{name}: labels must lie in [0, {k}), got [{y.min()}, {y.max()}]")
    g = None if groups is None else np.asarray(groups, dtype=np.int64)
    return TensorDataset(name, x, y, num_classes=k, identity={"name": name, "adapter": "arrays"}, groups=g)


def from_torch(
    dataset: Any,
    *,
    name: str = "custom",
    labels: Any = None,
    num_classes: int | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    image_key: Any = 0,
    label_key: Any = 1,
    in_memory: bool | None = None,
    fingerprint: str | None = None,
    progress: bool = True,
) -> GanDataset:
    """Any map-style torch dataset (``__len__`` + ``__getitem__``) as a ganlab dataset.

    ``labels``: class indices (N,); default: the dataset's ``targets``/``labels`` attribute, else read from the
    items (one pass), else 0 (unlabelled). ``num_classes``: default max label + 1 (0 for unlabelled data).
    ``in_memory``: load every item once (default: when the images fit in 1 GiB); otherwise items are read per batch.
    ``fingerprint``: your own content hash for a large lazy dataset (default: a hash over all decoded items, computed
    the first time a file made from the dataset needs it). A ganlab dataset is returned unchanged.
    """
    if isinstance(dataset, GanDataset):
        return dataset
    if isinstance(dataset, torch.utils.data.TensorDataset):
        tensors = dataset.tensors
        y = labels if labels is not None else (tensors[1] if len(tensors) > 1 else None)
        return from_arrays(tensors[0], y, name=name, num_classes=num_classes, value_range=value_range)
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise DatasetError(
            f"{type(dataset).__name__} is not a map-style dataset (it needs __len__ and __getitem__); wrap an iterable "
            "dataset's items in a list or tensor and use from_arrays"
        )
    n = len(dataset)
    if n == 0:
        raise DatasetError(f"{name}: the dataset is empty")
    first_img, first_label = _split_item(dataset[0], image_key, label_key)
    first = _image_tensor(first_img)
    y = None if labels is None else np.asarray(labels)
    if y is None:
        y = _known_labels(dataset)
    if in_memory is None:
        in_memory = n * first.numel() * first.element_size() <= _IN_MEMORY_BYTES
    if in_memory:
        items = range(n)
        if progress and n > 2000:
            from tqdm.auto import tqdm

            items = tqdm(items, desc=f"loading {name}", unit="item")
        images, read_labels = [], []
        for i in items:
            img, lab = _split_item(dataset[i], image_key, label_key)
            images.append(_image_tensor(img))
            read_labels.append(-1 if lab is None else int(lab))
        if y is None and first_label is not None:
            y = np.asarray(read_labels, dtype=np.int64)
        x = torch.stack(images)
        if x.dtype != torch.uint8:
            x = _to_unit(x, value_range, name)
        return _tensor_dataset(name, x, y, num_classes, None)
    if y is None and first_label is not None:
        y = np.asarray([int(_split_item(dataset[i], image_key, label_key)[1]) for i in range(n)], dtype=np.int64)
    if y is None:
        y = np.zeros(n, dtype=np.int64)
        k = int(num_classes or 0)
    else:
        k = int(num_classes) if num_classes is not None else int(y.max(initial=-1) + 1)
    return TorchDatasetAdapter(
        dataset,
        name=name,
        labels=y,
        num_classes=k,
        value_range=value_range,
        image_key=image_key,
        label_key=label_key,
        fingerprint=fingerprint,
    )
