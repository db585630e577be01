"""DiffAugment translation against a numpy shift, its shift range; per-sample hflips."""

from __future__ import annotations

import numpy as np
import torch

from ganlab.icgan.augment import diff_augment, hflip, translate, translation_shifts


def _shift_ref(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            if 0 <= si < h and 0 <= sj < w:
                out[..., i, j] = x[..., si, sj]
    return out


def test_translation_is_an_exact_zero_filled_shift_and_differentiable():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 8, 8, requires_grad=True)
    shifts = torch.tensor([[1.0, -2.0], [0.0, 0.0], [-3.0, 1.0]])
    y = translate(x, shifts)
    for b in range(3):
        np.testing.assert_allclose(y[b].detach().numpy(), _shift_ref(x[b].detach().numpy(), *map(int, shifts[b])))
    y.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_translation_shifts_cover_the_diffaugment_range():
    s = translation_shifts(20000, 32, 32, torch.Generator().manual_seed(0))
    assert s.min() == -4 and s.max() == 4  # int(0.125 * 32 + 0.5) = 4
    assert set(np.unique(s.numpy()).tolist()) == set(range(-4, 5))
    assert torch.equal(diff_augment(torch.ones(2, 1, 4, 4), ""), torch.ones(2, 1, 4, 4))


def test_hflip_flips_only_the_marked_images():
    x = torch.arange(2 * 3 * 4.0).view(2, 1, 3, 4)
    out = hflip(x, torch.tensor([True, False]))
    assert torch.equal(out[0], x[0].flip(-1)) and torch.equal(out[1], x[1])
