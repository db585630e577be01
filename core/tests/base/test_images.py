"""Sample sheets: small images are enlarged by an integer factor, nearest neighbour, pixel for pixel."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ganlab.core.images import image_grid, images_to_png, upscale_factor


def _images(n, c, size, seed=0):
    """uint8 pictures and the same as [-1, 1] floats (u / 127.5 - 1 quantises back to u exactly)."""
    u = np.random.default_rng(seed).integers(0, 256, (n, c, size, size), dtype=np.uint8)
    return u, torch.from_numpy(u).float() / 127.5 - 1


def test_factor_is_the_smallest_integer_reaching_the_cell_size():
    assert [upscale_factor(s, s) for s in (8, 28, 32, 33, 64, 128)] == [8, 3, 2, 2, 1, 1]
    assert upscale_factor(28, 64) == 3 and upscale_factor(28, 28, min_cell=0) == 1


def test_8x8_sheet_of_28px_digits_is_nearest_upscaled_by_3():
    u, x = _images(64, 1, 28)
    png = Image.open(io.BytesIO(images_to_png(x, nrow=8)))
    sheet = np.asarray(png)
    native = 8 * (28 + 2) + 2  # make_grid: 2-px padding around and between cells
    assert png.mode == "L" and sheet.shape == (3 * native, 3 * native)
    # pixel-exact: the native grid, every pixel repeated 3 x 3 ...
    plain = image_grid(x, nrow=8, min_cell=0)
    assert plain.shape == (native, native)
    assert np.array_equal(sheet, np.repeat(np.repeat(plain, 3, axis=0), 3, axis=1))
    # ... and each cell is the digit itself (read independently of make_grid), padding white
    for k in range(64):
        i, j = divmod(k, 8)
        top, left = 3 * (2 + i * 30), 3 * (2 + j * 30)
        cell = sheet[top : top + 84, left : left + 84]
        assert np.array_equal(cell, np.repeat(np.repeat(u[k, 0], 3, axis=0), 3, axis=1))
    assert (sheet[:6] == 255).all() and (sheet[:, :6] == 255).all()


def test_colour_images_keep_their_channels_and_large_images_their_size():
    u, x = _images(4, 3, 16)
    sheet = np.asarray(Image.open(io.BytesIO(images_to_png(x, nrow=2))))
    assert sheet.shape == (4 * (2 * 18 + 2), 4 * (2 * 18 + 2), 3)
    assert np.array_equal(sheet[8 : 8 + 64, 8 : 8 + 64], np.repeat(np.repeat(u[0].transpose(1, 2, 0), 4, 0), 4, 1))
    _, big = _images(2, 3, 64)
    assert np.asarray(Image.open(io.BytesIO(images_to_png(big, nrow=2)))).shape == (68, 2 * 66 + 2, 3)
