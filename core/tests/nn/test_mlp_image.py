"""The fully connected image family: shapes, parameter count by hand, and the conditioning of every head."""

from __future__ import annotations

import pytest
import torch

from ganlab.core.errors import ShapeError
from ganlab.core.nn.backbones import build_backbone


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_equal_a_hand_count():
    G, D = build_backbone("mlp_image", resolution=28, channels=1, z_dim=64, width=128, sn=False)
    # G: 64->128 (+BN 2x128), 128->256 (+BN 2x256), 256->784; D: 784->256, 256->128, adv 128->1
    g = (64 * 128 + 128) + 2 * 128 + (128 * 256 + 256) + 2 * 256 + (256 * 784 + 784)
    d = (784 * 256 + 256) + (256 * 128 + 128) + (128 + 1)
    assert (n_params(G), n_params(D)) == (g, d)


def test_images_out_and_heads_follow_the_conditioning():
    G, D = build_backbone("mlp_image", resolution=28, channels=3, z_dim=16, width=32, num_classes=10)
    z, y = torch.randn(4, 16), torch.randint(0, 10, (4,))
    x = G(z, y=y)
    assert x.shape == (4, 3, 28, 28) and float(x.abs().max()) <= 1
    out = D(x, y=y)
    assert out["adv"].shape == (4,) and "cls" not in out
    # the projection reads the class: another label changes D's output for the same image
    assert not torch.allclose(out["adv"], D(x, y=(y + 1) % 10)["adv"])
    Ga, Da = build_backbone("mlp_image", resolution=28, channels=1, z_dim=16, width=32, num_classes=10, acgan=True)
    assert Da(Ga(z, y=y))["cls"].shape == (4, 10)
    with pytest.raises(ShapeError):
        D(torch.randn(4, 3, 32, 32), y=y)
