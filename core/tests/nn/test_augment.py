"""DiffAugment and ADA (core.augment) against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab.core.augment import (
    AdaptiveAugment,
    ada_augment,
    check_diffaugment_policy,
    color,
    cutout,
    diff_augment,
    translate,
    translation_shifts,
)
from ganlab.core.errors import ConfigError


def _grid(h: int = 4, w: int = 4) -> torch.Tensor:
    return torch.arange(1.0, h * w + 1).view(1, 1, h, w)


def test_translation_by_a_known_shift_moves_pixels_and_fills_zeros():
    x = _grid()  # rows [1 2 3 4], [5 6 7 8], ...
    right = translate(x, torch.tensor([[1.0, 0.0]]))[0, 0]
    expected = torch.tensor([[0, 1, 2, 3], [0, 5, 6, 7], [0, 9, 10, 11], [0, 13, 14, 15]], dtype=torch.float)
    assert torch.equal(right, expected)
    up_left = translate(x, torch.tensor([[-1.0, -2.0]]))[0, 0]
    expected = torch.tensor([[10, 11, 12, 0], [14, 15, 16, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.float)
    assert torch.equal(up_left, expected)
    # per image shifts of a batch, the gradient reaches the kept pixels only
    xb = torch.cat([x, x]).requires_grad_(True)
    translate(xb, torch.tensor([[1.0, 0.0], [0.0, 0.0]])).sum().backward()
    assert torch.equal(xb.grad[0, 0, :, 3], torch.zeros(4)) and torch.equal(xb.grad[0, 0, :, :3], torch.ones(4, 3))
    assert torch.equal(xb.grad[1], torch.ones(1, 4, 4))


def test_translation_shifts_lie_in_the_eighth_of_the_size():
    s = translation_shifts(2000, 32, 16, torch.Generator().manual_seed(0))
    assert s.dtype == torch.float and torch.equal(s, s.round())
    # s = int(32 / 8 + 0.5) = 4 for y, int(16 / 8 + 0.5) = 2 for x; every value is drawn
    assert set(s[:, 0].tolist()) == set(range(-2, 3)) and set(s[:, 1].tolist()) == set(range(-4, 5))


def test_cutout_zeroes_the_expected_box_clipped_at_the_border():
    x = torch.ones(2, 2, 6, 6)
    out = cutout(x, torch.tensor([[2, 3], [0, 0]]), (3, 3))
    box = torch.ones(6, 6)
    box[1:4, 2:5] = 0  # top-left = centre - 3 // 2 = (1, 2)
    assert torch.equal(out[0, 0], box) and torch.equal(out[0, 1], box)
    clipped = torch.ones(6, 6)
    clipped[0:2, 0:2] = 0  # top-left (-1, -1): rows and cols -1 .. 1 inside the image: 0 .. 1
    assert torch.equal(out[1, 0], clipped)
    # the DiffAugment draw: a half-size box (3 x 3 of a 6 x 6 image), so at most 9 and at least 4 zeros
    drawn = diff_augment(torch.ones(200, 1, 6, 6), "cutout", torch.Generator().manual_seed(0))
    zeros = (drawn == 0).flatten(1).sum(1)
    assert zeros.max() == 9 and zeros.min() >= 4


def test_color_with_given_factors_equals_the_hand_computation():
    # one image, 2 channels, 1 x 2 pixels: channel 0 = [0, 1], channel 1 = [1, 1]
    x = torch.tensor([[[[0.0, 1.0]], [[1.0, 1.0]]]])
    b, s, c = torch.tensor([0.25]), torch.tensor([2.0]), torch.tensor([0.5])
    # brightness: [0.25, 1.25], [1.25, 1.25]; channel means per pixel [0.75, 1.25];
    # saturation x2 around them: [-0.25, 1.25], [1.75, 1.25]; overall mean 1.0;
    # contrast x0.5 around it: [0.375, 1.125], [1.375, 1.125]
    expected = torch.tensor([[[[0.375, 1.125]], [[1.375, 1.125]]]])
    assert torch.allclose(color(x, b, s, c), expected, atol=1e-6)


def test_diff_augment_is_differentiable_and_checks_its_policy():
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    y = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(1))
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, ""), x)
    assert check_diffaugment_policy(" color, cutout ") == ["color", "cutout"]
    with pytest.raises(ConfigError, match="unknown DiffAugment operation 'flip'"):
        diff_augment(x, "color,flip")


def test_ada_p_follows_a_scripted_sequence_of_real_logit_signs():
    ada = AdaptiveAugment(target=0.6, interval=2, kimg=0.02)  # 20 images take p from 0 to 1
    batches = [
        [1, 1, 1, -1],
        [1, 1, 1, 1],  # E sign = (2 + 4) / 8 = 0.75 > 0.6: p = 0 + 8 / 20 = 0.4
        [1, 1, 1, -1],
        [1, 1, 1, 1],  # 0.75 again: p = 0.8
        [1, 1, 1, 1],
        [1, 1, 1, 1],  # 1.0: 0.8 + 0.4 = 1.2, kept at 1
        [1, -1, 1, 1],
        [1, -1, 1, -1],  # (2 + 0) / 8 = 0.25 < 0.6: p = 1 - 0.4 = 0.6
        [1, 1, -1, 1],
        [1, -1, 1, 1],  # 4 / 8 = 0.5 < 0.6: p = 0.6 - 0.4 = 0.2
    ]
    expected = [0.0, 0.4, 0.4, 0.8, 0.8, 1.0, 1.0, 0.6, 0.6, 0.2]
    for signs, p in zip(batches, expected):
        ada.observe(torch.tensor(signs, dtype=torch.float) * 3.0)  # magnitudes do not count
        ada.step()
        assert math.isclose(ada.p, p, abs_tol=1e-12), (ada.steps, ada.p, p)
    assert ada.rt == 0.5
    state = ada.state_dict()
    ada.observe(torch.ones(3))
    other = AdaptiveAugment(target=0.6, interval=2, kimg=0.02)
    other.load_state_dict(state)
    assert other.state_dict() == state
    with pytest.raises(ConfigError, match="ada_target"):
        AdaptiveAugment(target=1.5)


def test_ada_pipeline_strength_zero_is_identity_and_strength_one_changes_every_image():
    x = torch.randn(8, 3, 16, 16, requires_grad=True)
    assert torch.equal(ada_augment(x, 0.0), x)
    y = ada_augment(x, 1.0, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert all(not torch.allclose(a, b) for a, b in zip(x.detach(), y.detach()))
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
