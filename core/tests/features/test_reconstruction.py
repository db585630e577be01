import math

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.errors import ShapeError
from ganlab.core.metrics.reconstruction import generate_uint8, reconstruction_error, reconstruction_errors


class Const(nn.Module):
    """A stand-in auto-encoder that outputs a constant image."""

    def __init__(self, value):
        super().__init__()
        self.value = value
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.full_like(x, self.value)


def test_re_formula_by_hand():
    # RE(x) = sqrt(sum((CAE(x) - x)^2)) / 32
    x = torch.stack([torch.full((1, 32, 32), 0.5), torch.full((1, 32, 32), -1.0)])
    re = reconstruction_errors(Const(0.0), x)
    # 1024 pixels of 0.5: sqrt(1024 * 0.25) / 32 = 16 / 32 = 0.5 ; 1024 pixels of 1: 32 / 32 = 1
    np.testing.assert_allclose(re, [0.5, 1.0], rtol=1e-12)
    # 3 channels, one pixel off by 0.8 and the rest exact: sqrt(0.64) / 32
    y = torch.zeros(1, 3, 32, 32)
    y[0, 1, 5, 7] = 0.8
    np.testing.assert_allclose(reconstruction_errors(Const(0.0), y), [0.8 / 32], rtol=1e-6)
    # against numpy on random images
    z = torch.rand(4, 3, 32, 32) * 2 - 1
    ref = np.sqrt(((0.25 - z.double().numpy()) ** 2).reshape(4, -1).sum(1)) / 32
    np.testing.assert_allclose(reconstruction_errors(Const(0.25), z, batch_size=3), ref, rtol=1e-6)
    assert math.isclose(float(reconstruction_errors(Const(0.25), torch.full((1, 1, 32, 32), 0.25))[0]), 0.0)


def test_generate_uint8_quantises_like_a_png():
    x = torch.tensor([-1.0, -0.999, 0.0, 0.5, 1.0]).view(1, 1, 1, 5).expand(1, 1, 32, 5).contiguous()
    u = generate_uint8(lambda k: x.expand(k, -1, -1, -1), 3, batch_size=2)
    assert u.dtype == torch.uint8 and u.shape == (3, 1, 32, 5)
    assert u[0, 0, 0].tolist() == [0, 0, 128, 191, 255]  # round((x + 1) * 127.5)


def _stripes(n, vertical, seed):
    g = torch.Generator().manual_seed(seed)
    phase = torch.randint(0, 8, (n,), generator=g)
    coord = torch.arange(32)
    s = ((coord.view(1, 32) + phase.view(n, 1)) // 4 % 2).float() * 2 - 1  # (n, 32)
    img = s.view(n, 1, 1, 32).expand(n, 1, 32, 32) if vertical else s.view(n, 1, 32, 1).expand(n, 1, 32, 32)
    return img.contiguous()


def test_reconstruction_error_flags_the_group_the_generator_misses():
    fake = _stripes(256, vertical=True, seed=0)  # the "generator" only makes vertical stripes
    real = torch.cat([_stripes(32, True, 1), _stripes(32, False, 2)])
    groups = np.array([0] * 32 + [1] * 32)
    out = reconstruction_error(fake, real, groups=groups, epochs=15, batch_size=32, nf=8, latent_dim=32)
    assert out["per_image"].shape == (64,)
    assert out["re_group1"] > 2 * out["re_group0"]
    assert out["re_mean"] == pytest.approx(out["per_image"].mean())
    assert out["n_fake"] == 256


def test_reconstruction_error_input_checks():
    with pytest.raises(ShapeError, match="32"):
        reconstruction_error(torch.zeros(8, 1, 28, 28), torch.zeros(4, 1, 28, 28), epochs=1)
    with pytest.raises(ShapeError, match=r"\[-1, 1\]"):
        reconstruction_errors(Const(0.0), torch.full((1, 1, 32, 32), 3.0))
