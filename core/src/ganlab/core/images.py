"""Images in and out of files: PNG grids (or scatter plots of 2-D points), uint8 quantisation, sample files.

Every image tensor in ganlab is float in [-1, 1], NCHW; 2-D toy samples are (N, 2). Grids of small images are
enlarged by an integer factor with nearest-neighbour repetition (every cell at least ``MIN_CELL`` pixels), so that a
sheet of 28-px digits is legible and every pixel stays exactly the generated one.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from ganlab.core.errors import GanlabError
from ganlab.core.fileio import atomic_write_bytes

__all__ = ["MIN_CELL", "image_grid", "images_to_png", "to_uint8", "upscale_factor", "write_samples"]

MIN_CELL = 64


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW float -> uint8 NHWC (the quantisation every FID protocol applies)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def upscale_factor(height: int, width: int, min_cell: int = MIN_CELL) -> int:
    """The smallest integer factor that makes an ``height x width`` image at least ``min_cell`` pixels each way."""
    return max(1, math.ceil(min_cell / max(1, min(height, width))))


def image_grid(images: torch.Tensor, nrow: int | None = None, min_cell: int = MIN_CELL) -> np.ndarray:
    """uint8 HWC (or HW for grey) grid of NCHW images in [-1, 1], 2-px white padding, ``nrow`` images per row;
    enlarged by :func:`upscale_factor` with nearest-neighbour repetition (``min_cell=0`` keeps the native size)."""
    from torchvision.utils import make_grid

    images = images.detach().float().cpu()
    nrow = nrow or max(1, int(math.sqrt(len(images))))
    grid = make_grid(images.clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    array = (grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)).numpy()
    if images.shape[1] == 1:  # make_grid repeats a grey channel three times
        array = array[:, :, 0]
    f = upscale_factor(images.shape[2], images.shape[3], min_cell) if min_cell else 1
    if f > 1:
        array = np.repeat(np.repeat(array, f, axis=0), f, axis=1)
    return array


def images_to_png(images: torch.Tensor, nrow: int | None = None, min_cell: int = MIN_CELL) -> bytes:
    """A grid PNG of images in [-1, 1] (see :func:`image_grid`), or a scatter plot PNG of (N, 2) points."""
    images = images.detach().float().cpu()
    buf = io.BytesIO()
    if images.ndim == 2:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
        ax.scatter(images[:, 0].numpy(), images[:, 1].numpy(), s=2, alpha=0.5)
        ax.set_aspect("equal")
        fig.savefig(buf, format="png", bbox_inches="tight")
        plt.close(fig)
        return buf.getvalue()
    from PIL import Image

    Image.fromarray(image_grid(images, nrow, min_cell)).save(buf, format="PNG")
    return buf.getvalue()


def write_samples(samples: dict[str, torch.Tensor], out: str | Path) -> Path:
    """``*.png``: one grid; ``*.npz``: ``images`` uint8 NHWC (+ ``labels``); otherwise a folder of PNG files."""
    from PIL import Image

    out = Path(out)
    images = samples["image"]
    if out.suffix == ".png":
        atomic_write_bytes(out, images_to_png(images))
    elif out.suffix == ".npz":
        arrays = {"images": to_uint8(images) if images.ndim == 4 else images.cpu().numpy()}
        if "label" in samples:
            arrays["labels"] = samples["label"].cpu().numpy()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(out, buf.getvalue())
    else:
        if images.ndim != 4:
            raise GanlabError("2-D samples cannot be written as PNG files; use an .npz or .png output")
        out.mkdir(parents=True, exist_ok=True)
        for i, arr in enumerate(to_uint8(images)):
            buf = io.BytesIO()
            Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(buf, format="PNG")
            atomic_write_bytes(out / f"{i:06d}.png", buf.getvalue())
    return out
