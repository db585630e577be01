"""Datasets read image by image from disk: image folders (ImageNet), ImageNet-LT, COCO-Stuff, CelebA, LSUN.

Images are preprocessed the BigGAN way: centre-crop the long edge to a square, then resize to ``resolution``
(default 64); for CelebA this selects the same pixels as Dia-GAN's ``Resize(64) + CenterCrop(64)``. For large
training runs convert a folder to HDF5 once (``ganlab data prepare``) and train from the ``hdf5`` dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganlab.core.errors import DatasetError

from .base import Batch, GanDataset, as_index_array, check_split, uint8_to_unit
from .layouts import layout_error
from .registry import register_dataset
from .vision import _torchvision, resolve_root

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
DEFAULT_RESOLUTION = 64


def center_crop_long_edge(img: Image.Image) -> Image.Image:
    """Crop the centred square whose side is the short edge (BigGAN's ``CenterCropLongEdge``)."""
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s))


def square_uint8(img: Image.Image, resolution: int) -> torch.Tensor:
    """An RGB PIL image -> uint8 (3, resolution, resolution): centre-crop the long edge, bilinear resize."""
    img = center_crop_long_edge(img.convert("RGB"))
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.BILINEAR)
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)


def load_image_file(path: str | Path, resolution: int) -> torch.Tensor:
    try:
        with Image.open(path) as img:
            return square_uint8(img, resolution)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read image {path}: {exc}; remove or replace the file") from None


class FileImageDataset(GanDataset):
    """Items read one at a time by ``reader(i) -> PIL.Image``; ``get_batch`` decodes each image of the batch.

    Decoding is per file by nature; use ``num_workers`` in a DataLoader or convert to HDF5 for speed.
    """

    def __init__(
        self,
        name: str,
        reader: Callable[[int], Image.Image],
        labels: np.ndarray,
        *,
        resolution: int,
        num_classes: int,
        identity: dict[str, Any],
        groups: np.ndarray | None = None,
        class_names: list[str] | None = None,
        paths: Sequence[str] | None = None,
    ) -> None:
        super().__init__(name, {**identity, "resolution": resolution, "size": len(labels)})
        self.reader = reader
        self.labels = np.asarray(labels, dtype=np.int64)
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        self.num_classes = int(num_classes)
        self.resolution = int(resolution)
        self.shape = (3, self.resolution, self.resolution)
        self.class_names = class_names
        self.paths = list(paths) if paths is not None else None

    def content_digest(self) -> str:
        """SHA-1 over the image files' bytes (cached by size and mtime), or over decoded images without paths."""
        if self.paths is None:
            return super().content_digest()
        from .fingerprint import files_digest

        try:
            return files_digest(self.paths, progress=len(self.paths) > 10_000)
        except OSError as exc:
            raise DatasetError(f"{self.name}: cannot read a file to fingerprint the dataset: {exc}") from None

    def load_uint8(self, i: int) -> torch.Tensor:
        """Image ``i`` as uint8 (3, R, R), cropped and resized."""
        try:
            img = self.reader(int(i))
            return square_uint8(img, self.resolution)
        except (OSError, ValueError) as exc:
            where = self.paths[int(i)] if self.paths is not None else f"item {i}"
            raise DatasetError(f"{self.name}: cannot read {where}: {exc}; remove or replace the file") from None

    def get_batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        idx = as_index_array(indices, len(self))
        out = self._meta(idx)
        images = [self.load_uint8(i) for i in idx]
        out["image"] = uint8_to_unit(torch.stack(images)) if images else torch.empty((0, *self.shape))
        return out


class _PathReader:
    """Opens image ``i`` of a path list (a class, not a closure, so DataLoader workers can pickle it)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)

    def __call__(self, i: int) -> Image.Image:
        with Image.open(self.paths[i]) as img:
            img.load()
            return img


def scan_image_folder(folder: Path, labelled: bool = True) -> tuple[list[str], np.ndarray, list[str] | None]:
    """Image files under ``folder`` and their labels.

    With class sub-folders (``folder/<class>/<image>``, torchvision's ImageFolder layout) the label is the index of
    the class folder in sorted order; a folder with images directly inside, or ``labelled=False``, gives label 0.
    """
    if not folder.is_dir():
        raise DatasetError(f"image folder {folder} does not exist")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    paths: list[str] = []
    labels: list[int] = []
    if classes:
        for c, cls in enumerate(classes):
            files = sorted(p for p in (folder / cls).rglob("*") if p.suffix.lower() in IMG_EXTENSIONS)
            paths += [str(p) for p in files]
            labels += [c] * len(files)
    else:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
        paths = [str(p) for p in files]
        labels = [0] * len(files)
    if not paths:
        raise DatasetError(f"no images ({', '.join(IMG_EXTENSIONS)}) found under {folder}")
    if not classes or not labelled:
        return paths, np.zeros(len(paths), dtype=np.int64), None
    return paths, np.asarray(labels, dtype=np.int64), classes


def read_split_file(path: Path, base: Path) -> tuple[list[str], np.ndarray]:
    """Lines ``relative/path.jpg [label]`` (ImageNet-LT's format) -> absolute paths and labels (0 if absent)."""
    if not path.is_file():
        raise DatasetError(f"split file {path} does not exist")
    paths, labels = [], []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].lstrip("-").isdigit()):
            raise DatasetError(f"{path}:{lineno}: expected 'relative/path [label]', got {line!r}")
        paths.append(str(base / parts[0]))
        labels.append(int(parts[1]) if len(parts) == 2 else 0)
    if not paths:
        raise DatasetError(f"split file {path} lists no images")
    return paths, np.asarray(labels, dtype=np.int64)


def _folder_dataset(name, paths, labels, resolution, num_classes, identity, **kwargs) -> FileImageDataset:
    return FileImageDataset(
        name,
        _PathReader(paths),
        labels,
        resolution=resolution or DEFAULT_RESOLUTION,
        num_classes=num_classes,
        identity=identity,
        paths=paths,
        **kwargs,
    )


@register_dataset("image_folder")
def image_folder(
    root: str | None = None, split: str = "train", resolution: int | None = None, *, labelled: bool = True
) -> FileImageDataset:
    """Any folder of images: ``root/<split>/<class>/*`` if ``root/<split>`` exists, else ``root/<class>/*``.

    Flat folders (images directly inside) are unlabelled. Default resolution 64.
    """
    if root is None:
        problem = "it needs root=<folder of images> (in a config: run.data.root=...)"
        raise DatasetError(layout_error("image_folder", problem, "DIR"))
    base = Path(root).expanduser()
    folder = base / split if (base / split).is_dir() else base
    if not folder.is_dir():
        raise DatasetError(layout_error("image_folder", f"{folder} does not exist", base))
    paths, labels, classes = scan_image_folder(folder, labelled)
    identity = {"name": "image_folder", "root": str(folder.resolve()), "labelled": labelled}
    n_cls = len(classes) if classes else 0
    return _folder_dataset("image_folder", paths, labels, resolution, n_cls, identity, class_names=classes)


@register_dataset("imagenet")
def imagenet(root: str | None = None, split: str = "train", resolution: int | None = None) -> FileImageDataset:
    """ImageNet ILSVRC-2012 as a folder: ``root/train/<wnid>/*.JPEG`` and ``root/val`` (1,000 classes).

    ``val`` may be in class folders, or flat as distributed (``ILSVRC2012_val_00000001.JPEG``...) with its labels in
    Kaggle's ``LOC_val_solution.csv`` or the ILSVRC-2012 devkit beside it. Labels index the sorted wnids.
    """
    check_split("imagenet", split, ("train", "val"))
    base = resolve_root(root) / "imagenet" if root is None else Path(root).expanduser()
    folder = base / split
    if not folder.is_dir():
        raise DatasetError(layout_error("imagenet", f"{folder} does not exist", base))
    if not any(d.is_dir() for d in folder.iterdir()):
        return _imagenet_flat(base, folder, split, resolution)
    paths, labels, classes = scan_image_folder(folder)
    identity = {"name": "imagenet", "root": str(folder.resolve())}
    n_cls = len(classes) if classes else 0
    return _folder_dataset("imagenet", paths, labels, resolution, n_cls, identity, class_names=classes)


def _imagenet_flat(base: Path, folder: Path, split: str, resolution: int | None = None) -> FileImageDataset:
    """A flat ``val`` folder labelled by LOC_val_solution.csv or the devkit; any other flat folder is an error."""
    from .imagenet_val import find_val_labels, synset_mapping

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
    found = find_val_labels(base, [p.stem for p in files]) if split == "val" and files else None
    if found is None:
        what = "images" if files else "no images"
        problem = f"{folder} holds {what} without class sub-folders" + (
            " and no label file (LOC_val_solution.csv or ILSVRC2012_devkit_t12/) beside it" if split == "val" else ""
        )
        raise DatasetError(layout_error("imagenet", problem, base))
    wnid_of, source = found
    unlabelled = next((p.name for p in files if p.stem not in wnid_of), None)
    if unlabelled is not None:
        raise DatasetError(layout_error("imagenet", f"{source} gives no label for {folder / unlabelled}", base))
    train = base / "train"
    classes = sorted(d.name for d in train.iterdir() if d.is_dir()) if train.is_dir() else []
    classes = classes or synset_mapping(base) or sorted(set(wnid_of.values()))
    index = {w: i for i, w in enumerate(classes)}
    stray = next((wnid_of[p.stem] for p in files if wnid_of[p.stem] not in index), None)
    if stray is not None:
        raise DatasetError(f"imagenet: {source} labels an image {stray}, which is not a class folder of {train}")
    labels = np.asarray([index[wnid_of[p.stem]] for p in files], dtype=np.int64)
    paths = [str(p) for p in files]
    identity = {"name": "imagenet", "root": str(folder.resolve()), "labels": str(source)}
    return _folder_dataset("imagenet", paths, labels, resolution, len(classes), identity, class_names=classes)


@register_dataset("imagenet_lt")
def imagenet_lt(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    split_dir: str | None = None,
) -> FileImageDataset:
    """ImageNet-LT (Liu et al. 2019; 115.8k train images, 1,000 classes with 5-1,280 images each).

    Reads ``ImageNet_LT_<split>.txt`` (lines ``train/n01440764/xxx.JPEG 0``, paths relative to the ImageNet root
    ``root``) from ``split_dir`` (default: ``root``). Note: the LT ``val`` split is 20 images per class drawn from
    ImageNet's training set.
    """
    check_split("imagenet_lt", split, ("train", "val", "test"))
    base = resolve_root(root) / "imagenet" if root is None else Path(root).expanduser()
    split_file = (Path(split_dir).expanduser() if split_dir else base) / f"ImageNet_LT_{split}.txt"
    if not split_file.is_file():
        problem = f"{split_file} does not exist (put the split files in the ImageNet root or pass split_dir=...)"
        raise DatasetError(layout_error("imagenet_lt", problem, base))
    paths, labels = read_split_file(split_file, base)
    missing = next((p for p in paths if not Path(p).is_file()), None)
    if missing is not None:
        problem = (
            f"{split_file} lists {missing}, which is not on disk; root must be the ImageNet folder that holds the "
            "train/ (and val/) images the split file refers to"
        )
        raise DatasetError(layout_error("imagenet_lt", problem, base))
    identity = {"name": "imagenet_lt", "root": str(base.resolve()), "split": split}
    return _folder_dataset("imagenet_lt", paths, labels, resolution, 1000, identity)


@register_dataset("coco_stuff")
def coco_stuff(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    split_file: str | None = None,
) -> FileImageDataset:
    """COCO-Stuff images as a folder (unlabelled, as IC-GAN uses them): ``root/<split>`` or ``root/<split>2017``.

    IC-GAN trains on the LostGAN/OC-GAN subset (76k train, 2k eval; 3-8 objects per image); pass
    ``split_file=<txt of image file names, one per line, relative to the split folder>`` to restrict to it.
    """
    check_split("coco_stuff", split, ("train", "val"))
    base = resolve_root(root) / "coco_stuff" if root is None else Path(root).expanduser()
    folder = next((f for f in (base / split, base / f"{split}2017") if f.is_dir()), None)
    if folder is None:
        raise DatasetError(
            layout_error("coco_stuff", f"neither {base / split} nor {base / f'{split}2017'} exists", base)
        )
    if split_file is not None:
        listed = Path(split_file).expanduser()
        if not listed.is_absolute() and not listed.is_file() and (base / listed).is_file():
            listed = base / listed  # a bare name in a config (coco_stuff_train.txt) lies in the COCO folder
        if not listed.is_file():
            raise DatasetError(
                layout_error("coco_stuff", f"the split file {split_file} is neither here nor in {base}", base)
            )
        paths, _ = read_split_file(listed, folder)
        missing = next((p for p in paths if not Path(p).is_file()), None)
        if missing is not None:
            raise DatasetError(layout_error("coco_stuff", f"{listed} lists {missing}, which is not on disk", base))
    else:
        paths, _, _ = scan_image_folder(folder, labelled=False)
    labels = np.zeros(len(paths), dtype=np.int64)
    identity = {"name": "coco_stuff", "root": str(folder.resolve()), "split_file": split_file}
    return _folder_dataset("coco_stuff", paths, labels, resolution, 0, identity)


@register_dataset("celeba")
def celeba(
    root: str | None = None,
    split: str = "train",
    resolution: int | None = None,
    *,
    label_attr: str | None = None,
    group_attr: str | None = None,
    download: bool = False,
) -> FileImageDataset:
    """CelebA aligned faces (torchvision; train 162,770 / valid / test / all) with its 40 binary attributes.

    ``attributes`` ((N, 40) int64 in {0, 1}) and ``attribute_names`` are attributes of the dataset;
    ``label_attr`` makes one attribute the label (2 classes), ``group_attr`` makes one the group (e.g. "Bald" for
    partial recall). Default resolution 64 (Dia-GAN's CelebA 64x64).
    """
    check_split("celeba", split, ("train", "valid", "test", "all"))
    base = resolve_root(root)
    tv = _torchvision(
        "celeba", "CelebA", base / "celeba", root=str(base), split=split, target_type="attr", download=download
    )
    attrs = tv.attr.numpy().astype(np.int64)
    names = [n for n in tv.attr_names if n]
    folder = Path(tv.root) / tv.base_folder / "img_align_celeba"
    paths = [str(folder / f) for f in tv.filename]

    def column(attr: str | None, what: str) -> np.ndarray | None:
        if attr is None:
            return None
        if attr not in names:
            raise DatasetError(f"celeba: unknown {what} {attr!r}; attributes are: {', '.join(names)}")
        return attrs[:, names.index(attr)]

    label_col = column(label_attr, "label_attr")
    labels = label_col if label_col is not None else np.zeros(len(paths), dtype=np.int64)
    identity = {"name": "celeba", "root": str(base.resolve()), "split": split, "label": label_attr}
    identity["group"] = group_attr
    ds = _folder_dataset(
        "celeba",
        paths,
        labels,
        resolution,
        2 if label_col is not None else 0,
        identity,
        groups=column(group_attr, "group_attr"),
    )
    ds.attributes = attrs
    ds.attribute_names = names
    return ds


@register_dataset("ffhq")
def ffhq(root: str | None = None, split: str = "train", resolution: int | None = None) -> FileImageDataset:
    """FFHQ (70,000 aligned faces, unlabelled) as NVIDIA distributes it: ``root/images1024x1024/<chunk>/<id>.png``.

    The 1,000-image chunk folders (00000, 01000, ...) are not classes. Default resolution 64.
    """
    check_split("ffhq", split, ("train",))
    base = resolve_root(root) / "ffhq" if root is None else Path(root).expanduser()
    folder = base / "images1024x1024"
    files = sorted(folder.rglob("*.png")) if folder.is_dir() else []
    if not files:
        problem = f"{folder} does not exist" if not folder.is_dir() else f"{folder} holds no .png images"
        raise DatasetError(layout_error("ffhq", problem, base))
    paths = [str(p) for p in files]
    identity = {"name": "ffhq", "root": str(folder.resolve())}
    return _folder_dataset("ffhq", paths, np.zeros(len(paths), dtype=np.int64), resolution, 0, identity)
