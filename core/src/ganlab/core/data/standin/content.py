"""Seeded random image content for stand-ins: smooth colour fields (they compress like photos, unlike noise)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def smooth_images(rng: np.random.Generator, n: int, height: int, width: int, cells: int = 6) -> np.ndarray:
    """uint8 (n, height, width, 3): a random ``cells``x``cells`` colour grid per image, bilinearly upsampled."""
    coarse = torch.from_numpy(rng.random((n, 3, cells, cells), dtype=np.float32) * 255.0)
    up = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
    return up.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def noise_images(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """uint8 uniform noise of any shape (the array formats: no encoding, so no reason for smoothness)."""
    return rng.integers(0, 256, size=tuple(shape), dtype=np.uint8)


def save_image(array: np.ndarray, path: Path, fmt: str, **params) -> None:
    """One HWC uint8 image to ``path`` in PIL format ``fmt`` (JPEG, PNG, WEBP)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt, **params)


def encode_image(array: np.ndarray, fmt: str, **params) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **params)
    return buf.getvalue()


def sizes(rng: np.random.Generator, n: int, choices: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``n`` (width, height) pairs drawn from ``choices``."""
    return [tuple(choices[i]) for i in rng.integers(0, len(choices), n)]


def write_images(rng: np.random.Generator, paths: Sequence[Path], wh: Sequence[tuple[int, int]], fmt: str, **params):
    """Smooth random images of the given (width, height) sizes, one per path (sizes grouped: one draw per size)."""
    wh = list(wh)
    for size in sorted(set(wh)):
        same = [i for i, s in enumerate(wh) if s == size]
        chunk = max(1, (1 << 24) // (size[0] * size[1] * 3))  # about 64 MB of float32 per draw
        for s in range(0, len(same), chunk):
            idx = same[s : s + chunk]
            for i, a in zip(idx, smooth_images(rng, len(idx), size[1], size[0])):
                save_image(a, paths[i], fmt, **params)
