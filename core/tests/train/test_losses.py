"""Losses against their closed forms (hand formulas in float64)."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab.core.errors import RegistryError, ShapeError
from ganlab.core.losses import get_loss, list_losses, log_density_ratio

L = torch.tensor([-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 30.0], dtype=torch.float64)


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_names():
    assert list_losses() == ["hinge", "ns", "wasserstein"]


def test_ns_matches_bce_and_log_sigmoid():
    loss = get_loss("ns")
    for i, x in enumerate(L.tolist()):
        # -log sigmoid(x) and -log(1 - sigmoid(x)) written out; mpmath-free stable forms for the large |x|
        real = math.log1p(math.exp(-x)) if x > -30 else -x + math.log1p(math.exp(x))
        fake = math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))
        assert loss.d_real(L)[i].item() == pytest.approx(real, rel=1e-12, abs=1e-12)
        assert loss.d_fake(L)[i].item() == pytest.approx(fake, rel=1e-12, abs=1e-12)
        assert loss.g(L)[i].item() == pytest.approx(real, rel=1e-12, abs=1e-12)
    # the reference's -log(sigmoid(l) + 1e-8) agrees where it does not saturate
    mid = torch.tensor([-3.0, 0.0, 2.0], dtype=torch.float64)
    ref = -torch.log(torch.sigmoid(mid) + 1e-8)
    assert torch.allclose(loss.g(mid), ref, atol=1e-7)


def test_ns_generator_is_non_saturating():
    x = torch.tensor([-20.0], requires_grad=True)
    get_loss("ns").g(x).sum().backward()
    assert x.grad.item() == pytest.approx(-1.0, abs=1e-6)  # d/dx softplus(-x) = -sigmoid(-x) -> -1 when D is sure


def test_hinge_and_wasserstein():
    h, w = get_loss("hinge"), get_loss("wasserstein")
    for i, x in enumerate(L.tolist()):
        assert h.d_real(L)[i].item() == max(0.0, 1 - x)
        assert h.d_fake(L)[i].item() == max(0.0, 1 + x)
        assert h.g(L)[i].item() == -x
        assert w.d_real(L)[i].item() == -x
        assert w.d_fake(L)[i].item() == x
        assert w.g(L)[i].item() == -x


@pytest.mark.parametrize("name", ["ns", "hinge", "wasserstein"])
def test_per_sample_shapes(name):
    loss = get_loss(name)
    x = torch.randn(5)
    for term in (loss.d_real, loss.d_fake, loss.g):
        assert term(x).shape == (5,)
        assert term(x[:, None]).shape == (5,)  # (B, 1) heads are flattened
    with pytest.raises(ShapeError, match=r"\(B,\)"):
        loss.g(torch.randn(2, 3))


def test_log_density_ratio_is_the_logit():
    x = torch.tensor([-2.0, 0.0, 1.5], dtype=torch.float64)
    d = torch.sigmoid(x)
    assert torch.allclose(log_density_ratio(x).double(), torch.log(d / (1 - d)), atol=1e-6)
    assert [_sig(v) for v in x.tolist()] == pytest.approx(d.tolist())


def test_unknown_loss_name():
    with pytest.raises(RegistryError, match=r"unknown loss 'hinj'.*did you mean 'hinge'"):
        get_loss("hinj")
