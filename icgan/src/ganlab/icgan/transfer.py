"""Transfer (IC-GAN §3.3): condition a trained model on the features of images it never saw.

The images are prepared like the training images (centre crop of the long edge, resize to the model's
resolution, the model's channel count, [-1, 1]) and embedded with the extractor the model was trained with, so the
conditionings live in the same feature space. A folder's unreadable files are skipped and counted; a folder with no
readable image is an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganlab.core.errors import DatasetError
from ganlab.icgan.features import resolve_extractor, unit_rows
from ganlab.icgan.instances import FORMAT, StoredInstances

log = logging.getLogger(__name__)
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")


@dataclass
class FolderImages:
    images: torch.Tensor  # (M, C, R, R) float in [-1, 1]
    paths: list[str]
    skipped: list[str]


def load_folder(folder: str | Path, resolution: int, channels: int = 3, limit: int | None = None) -> FolderImages:
    """Every readable image under ``folder`` (recursively, sorted), square-cropped and resized."""
    from ganlab.core.data.folder import center_crop_long_edge

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"transfer folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
    images, paths, skipped = [], [], []
    mode = "L" if channels == 1 else "RGB"
    for p in files:
        if limit is not None and len(images) >= limit:
            break
        try:
            with Image.open(p) as img:
                img = center_crop_long_edge(img.convert(mode))
                if img.size != (resolution, resolution):
                    img = img.resize((resolution, resolution), Image.BILINEAR)
                arr = np.asarray(img, dtype=np.uint8)
        except (OSError, ValueError, Image.DecompressionBombError):
            skipped.append(str(p))
            continue
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        images.append(torch.from_numpy(arr.copy()))
        paths.append(str(p))
    if skipped:
        log.warning("skipped %d unreadable file(s) in %s (first: %s)", len(skipped), folder, skipped[0])
    if not images:
        what = f"{len(files)} candidate file(s), none readable" if files else "no image files"
        raise DatasetError(f"transfer folder {folder} holds {what} ({', '.join(IMG_EXTENSIONS)})")
    x = torch.stack(images).float() / 127.5 - 1.0
    return FolderImages(x, paths, skipped)


@torch.no_grad()
def embed_images(
    images: torch.Tensor, extractor: Any, *, batch_size: int = 256, device: Any = "cpu", extractor_options: Any = None
) -> np.ndarray:
    """Raw features (M, D) of images in [-1, 1] (a core extractor or its name)."""
    from ganlab.core.features.extract import check_images

    if isinstance(extractor, str):
        extractor = resolve_extractor(extractor, extractor_options)
    extractor = extractor.to(device).eval()
    out = []
    for s in range(0, len(images), batch_size):
        x = images[s : s + batch_size].to(device)
        check_images(x, "transfer images")
        out.append(extractor(x).float().cpu().numpy())
    return np.concatenate(out)


def transfer_instances(
    images: torch.Tensor,
    extractor: Any,
    *,
    source: str = "images",
    device: Any = "cpu",
    extractor_options: Any = None,
    paths: list[str] | None = None,
) -> StoredInstances:
    """Stored instances made of the unit features of ``images`` (the conditionings of a transfer)."""
    raw = embed_images(images, extractor, device=device, extractor_options=extractor_options)
    meta = {"format": FORMAT, "selection": "transfer", "source": source, "n": len(raw)}
    if paths is not None:
        meta["paths"] = paths
    return StoredInstances(unit_rows(raw), None, None, meta)


def folder_instances(
    folder: str | Path,
    extractor: Any,
    *,
    resolution: int,
    channels: int = 3,
    device: Any = "cpu",
    extractor_options: Any = None,
    limit: int | None = None,
) -> tuple[StoredInstances, FolderImages]:
    """Load a folder of images and embed them: (stored instances, the prepared images)."""
    imgs = load_folder(folder, resolution, channels, limit)
    stored = transfer_instances(
        imgs.images, extractor, source=str(folder), device=device, extractor_options=extractor_options, paths=imgs.paths
    )
    stored.meta["skipped"] = len(imgs.skipped)
    return stored, imgs
