"""Where evaluated images come from: arrays in memory or in an npz/npy file, an image folder, or a generator.

Every source serves float images in [-1, 1] batch by batch; a generator is sampled on the fly, never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganlab.core.errors import DatasetError

__all__ = ["ArrayImages", "file_digest", "generator_image_fn", "load_folder", "load_images", "load_npz"]


class ArrayImages:
    """uint8 or float images held in memory (an npz), served in [-1, 1] batch by batch."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None, identity: str) -> None:
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4:
            raise DatasetError(f"expected images (N, H, W, C) or (N, C, H, W), got shape {images.shape}")
        if images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
            images = images.transpose(0, 3, 1, 2)
        self.images = np.ascontiguousarray(images)
        self.labels = labels
        self.fingerprint = identity

    def __len__(self) -> int:
        return len(self.images)

    def get_batch(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        x = torch.from_numpy(self.images[np.asarray(indices)])
        x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
        out = {"image": x}
        if self.labels is not None:
            out["label"] = torch.from_numpy(np.asarray(self.labels)[np.asarray(indices)].astype(np.int64))
        return out


def file_digest(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]


def load_npz(path: str | Path) -> ArrayImages:
    """Images from an npz (keys ``images``/``x``/``arr_0``; labels ``labels``/``y`` optional)."""
    path = Path(path)
    with np.load(path) as z:
        key = next((k for k in ("images", "x", "arr_0") if k in z), None)
        if key is None:
            raise DatasetError(f"{path} holds {list(z.keys())}; expected an 'images' (or 'x') array")
        labels = next((z[k] for k in ("labels", "y") if k in z), None)
        return ArrayImages(z[key], labels, f"npz:{file_digest(path)}")


def load_folder(path: str | Path) -> ArrayImages:
    """All images of a folder (sorted by name), decoded to uint8; sizes must agree."""
    from PIL import Image

    exts = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".ppm", ".pgm", ".tif", ".tiff")
    files = sorted(p for p in Path(path).iterdir() if p.suffix.lower() in exts)
    if not files:
        raise DatasetError(f"no image files ({', '.join(exts)}) in {path}")
    arrays = []
    for f in files:
        with Image.open(f) as img:
            arrays.append(np.asarray(img.convert("L" if img.mode in ("L", "I", "I;16", "1") else "RGB")))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DatasetError(f"images in {path} have different sizes {sorted(shapes)[:3]}; resize them first")
    digest = hashlib.sha1("|".join(f"{f.name}:{f.stat().st_size}" for f in files).encode()).hexdigest()[:16]
    return ArrayImages(np.stack(arrays), None, f"folder:{digest}")


def generator_image_fn(G: torch.nn.Module, seed: int, device: torch.device) -> Callable[[int], torch.Tensor]:
    """``fn(k) -> k images`` with z ~ N(0, I) and uniform labels for a conditional G (streamed, never stored)."""
    gen = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(G, "num_classes", 0) or 0)

    @torch.no_grad()
    def fn(k: int) -> torch.Tensor:
        z = torch.randn(k, G.z_dim, generator=gen).to(device)
        y = torch.randint(0, num_classes, (k,), generator=gen).to(device) if num_classes else None
        return G(z, y=y).float()

    return fn


def load_images(path: str | Path) -> ArrayImages:
    """Stored images from an ``.npz``, an ``.npy`` or a folder of image files."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p} does not exist; pass an image folder, an .npz or an .npy file")
    if p.suffix == ".npz":
        return load_npz(p)
    if p.suffix == ".npy":
        return ArrayImages(np.load(p), None, f"npy:{file_digest(p)}")
    if p.is_dir():
        return load_folder(p)
    raise DatasetError(f"{p} is not an image folder, an .npz or an .npy file")
