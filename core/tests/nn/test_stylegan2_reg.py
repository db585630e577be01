"""StyleGAN2 recipe: NS logistic loss, R1 and path length against closed forms / autograd Jacobians, style mixing,
truncation on w, lazy-regularisation Adam correction, EMA half-life."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.core.nn import build_backbone
from ganlab.core.nn.stylegan2_reg import (
    PathLengthPenalty,
    ema_beta,
    lazy_adam,
    lazy_regularization,
    mix_styles,
    ns_d_loss,
    ns_g_loss,
    r1_loss,
    r1_penalty,
    style_mixing_ws,
    truncate,
)

torch.set_num_threads(1)
TINY = {"channel_base": 256, "channel_max": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 2}


def test_non_saturating_logistic_loss_closed_form():
    r, f = np.array([-3.0, 0.0, 2.5]), np.array([1.0, -0.5, 4.0])
    sig = lambda v: 1 / (1 + np.exp(-v))
    d = ns_d_loss(torch.tensor(r), torch.tensor(f)).numpy()
    np.testing.assert_allclose(d, -np.log(sig(r)) - np.log(1 - sig(f)), rtol=1e-12)
    np.testing.assert_allclose(ns_g_loss(torch.tensor(f)).numpy(), -np.log(sig(f)), rtol=1e-12)
    with pytest.raises(ShapeError):
        ns_d_loss(torch.zeros(3), torch.zeros(2))


def test_r1_equals_closed_form_on_a_quadratic_discriminator():
    """D(x) = 1/2 sum_j a_j x_j^2 + <b, x>: grad = a * x + b, so R1 = ||a * x + b||^2 per sample."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(2, 3, 3, generator=g, dtype=torch.float64)
    x = torch.randn(4, 2, 3, 3, generator=g, dtype=torch.float64).requires_grad_(True)
    logits = (0.5 * a * x.square() + b * x).flatten(1).sum(1)
    want = ((a * x.detach() + b) ** 2).flatten(1).sum(1)
    torch.testing.assert_close(r1_penalty(x, logits), want)
    logits = (0.5 * a * x.square() + b * x).flatten(1).sum(1)
    torch.testing.assert_close(r1_loss(x, logits, gamma=10.0, interval=16), want.mean() * 5.0 * 16)
    with pytest.raises(ConfigError, match="requires_grad"):
        r1_penalty(x.detach(), logits)


def test_r1_is_differentiable_through_the_discriminator():
    torch.manual_seed(0)
    _, D = build_backbone("stylegan2", resolution=32, **TINY)
    x = torch.randn(4, 3, 32, 32).requires_grad_(True)
    loss = r1_loss(x, D(x)["adv"], gamma=1.0)
    loss.backward()
    assert loss.item() > 0 and D.conv.weight.grad.abs().sum() > 0


def test_path_length_equals_closed_form_for_a_linear_synthesis():
    """img_b = sum_i A_i ws_bi: d<img_b, y_b>/d ws_bi = A_i^T y_b, lengths_b = sqrt(mean_i ||A_i^T y_b||^2)."""
    g = torch.Generator().manual_seed(0)
    B, N, W, H = 3, 4, 5, 2
    A = torch.randn(N, H * H, W, generator=g, dtype=torch.float64)
    ws = torch.randn(B, N, W, generator=g, dtype=torch.float64).requires_grad_(True)
    y = torch.randn(B, 1, H, H, generator=g, dtype=torch.float64)
    img = torch.einsum("npw,bnw->bp", A, ws).reshape(B, 1, H, H)
    pl = PathLengthPenalty().double()
    penalty, lengths = pl(img, ws, noise=y)
    An, yn = A.numpy(), y.reshape(B, -1).numpy()
    want = np.array([np.sqrt(np.mean([np.sum((An[i].T @ yn[b]) ** 2) for i in range(N)])) for b in range(B)])
    np.testing.assert_allclose(lengths.numpy(), want, rtol=1e-10)
    mean1 = 0.01 * want.mean()
    assert pl.pl_mean.item() == pytest.approx(mean1, rel=1e-10)
    assert penalty.item() == pytest.approx(np.mean((want - mean1) ** 2), rel=1e-10)
    # a second call moves the running mean by 1 % of the gap
    img = torch.einsum("npw,bnw->bp", A, ws).reshape(B, 1, H, H)
    pl(img, ws, noise=2 * y)
    assert pl.pl_mean.item() == pytest.approx(mean1 + 0.01 * (2 * want.mean() - mean1), rel=1e-10)
    assert "pl_mean" in pl.state_dict()


def test_path_length_equals_autograd_jacobian_on_a_tiny_nonlinear_net():
    g = torch.Generator().manual_seed(1)
    N, W = 3, 4
    lin = torch.nn.Linear(N * W, 9).double()

    def synth(ws):  # (B, N, W) -> (B, 1, 3, 3)
        return torch.tanh(lin(ws.flatten(1))).reshape(-1, 1, 3, 3)

    ws = torch.randn(2, N, W, generator=g, dtype=torch.float64).requires_grad_(True)
    y = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
    _, lengths = PathLengthPenalty().double()(synth(ws), ws, noise=y)
    for b in range(2):
        jac = torch.autograd.functional.jacobian(lambda w: synth(w[None])[0].flatten(), ws[b].detach())  # (9, N, W)
        jty = torch.einsum("p,pnw->nw", y[b].flatten(), jac)
        assert lengths[b].item() == pytest.approx(jty.square().sum(1).mean().sqrt().item(), rel=1e-10)


def test_path_length_trains_the_generator():
    torch.manual_seed(0)
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)
    ws = G.ws(torch.randn(2, 8))
    loss = PathLengthPenalty().loss(G.synthesis(ws), ws, interval=4)
    loss.backward()
    assert torch.isfinite(loss) and G.synthesis.blocks[-1].conv1.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ style mixing, truncation
def test_mix_styles_and_truncate_on_w():
    ws, ws2 = torch.randn(2, 6, 4), torch.randn(2, 6, 4)
    m = mix_styles(ws, ws2, 2)
    assert torch.equal(m[:, :2], ws[:, :2]) and torch.equal(m[:, 2:], ws2[:, 2:])
    with pytest.raises(ConfigError):
        mix_styles(ws, ws2, 7)
    avg = torch.randn(4)
    t = truncate(ws, avg, 0.7, cutoff=4)
    torch.testing.assert_close(t[:, :4], avg + 0.7 * (ws[:, :4] - avg))
    assert torch.equal(t[:, 4:], ws[:, 4:])
    torch.testing.assert_close(truncate(ws[:, 0], avg, 0.0), avg.expand(2, 4))
    torch.testing.assert_close(truncate(ws, avg, 1.0), ws)


def test_style_mixing_probability_and_crossover():
    torch.manual_seed(0)
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)  # num_ws = 8
    G.eval()
    z = torch.randn(3, 8)
    base = G.ws(z)
    gen = torch.Generator().manual_seed(0)
    cutoffs = []
    for _ in range(600):
        ws, k = style_mixing_ws(G, z, prob=0.9, generator=gen)
        cutoffs.append(k)
        assert torch.equal(ws[:, :k], base[:, :k])
        if k < G.num_ws:  # rows from k on are one other w, broadcast
            assert (ws[:, k:] - base[:, k:]).abs().max() > 1e-4
            assert torch.equal(ws[:, k:], ws[:, k : k + 1].expand_as(ws[:, k:]))
    mixed = [k for k in cutoffs if k < G.num_ws]
    assert len(mixed) / len(cutoffs) == pytest.approx(0.9, abs=0.04)
    assert set(mixed) == set(range(1, G.num_ws))  # uniform over 1 .. num_ws - 1
    ws, k = style_mixing_ws(G, z, prob=0.0)
    assert k == G.num_ws and torch.equal(ws, base)


def test_style_mixing_second_latent_leaves_w_avg_alone():
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)
    G.train()
    style_mixing_ws(G, torch.randn(4, 8), prob=1.0, generator=torch.Generator().manual_seed(0))
    assert int(G.mapping.w_avg_updates) == 1


# --------------------------------------------------------------------------------- lazy regularisation
def test_lazy_regularisation_correction():
    lr, betas = lazy_regularization(0.002, (0.0, 0.99), 16)
    c = 16 / 17
    assert lr == pytest.approx(0.002 * c) and betas == (0.0, pytest.approx(0.99**c))
    lr, betas = lazy_regularization(0.0025, (0.5, 0.99), 4)
    assert lr == pytest.approx(0.0025 * 0.8) and betas == (pytest.approx(0.5**0.8), pytest.approx(0.99**0.8))
    assert lazy_regularization(0.001, (0.0, 0.9), 0) == (0.001, (0.0, 0.9))
    opt = lazy_adam([torch.nn.Parameter(torch.zeros(2))], lr=0.002, interval=4)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(0.0016) and group["betas"][1] == pytest.approx(0.99**0.8)
    assert group["eps"] == 1e-8


def test_ema_half_life():
    beta = ema_beta(32, 10)
    assert beta ** (10_000 / 32) == pytest.approx(0.5)
    assert math.isclose(ema_beta(64, 20), beta)
    with pytest.raises(ConfigError):
        ema_beta(32, 0)
