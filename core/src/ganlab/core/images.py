"""Images in and out of files: PNG grids (or scatter plots of 2-D points), uint8 quantisation, sample files.

Every image tensor in ganlab is float in [-1, 1], NCHW; 2-D toy samples are (N, 2).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from ganlab.core.errors import GanlabError
from ganlab.core.fileio import atomic_write_bytes

__all__ = ["images_to_png", "to_uint8", "write_samples"]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW float -> uint8 NHWC (the quantisation every FID protocol applies)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def images_to_png(images: torch.Tensor, nrow: int | None = None) -> bytes:
    """A grid PNG of images in [-1, 1], or a scatter plot PNG of (N, 2) points."""
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
    from torchvision.utils import make_grid

    nrow = nrow or max(1, int(math.sqrt(len(images))))
    grid = make_grid(images.clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    array = (grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)).numpy()
    if array.shape[2] == 1:
        array = array[:, :, 0]
    Image.fromarray(array).save(buf, format="PNG")
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
