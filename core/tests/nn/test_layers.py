"""Layers against independent references: numpy / torch.linalg closed forms and naive loop implementations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.core.nn import (
    ConditionalBatchNorm2d,
    ConditionEmbedding,
    ProjectionHead,
    SelfAttention,
    init_weights,
    ortho_penalty,
    ortho_reg,
    spectral_norm,
)
from ganlab.core.nn.layers import layer_factories

torch.set_num_threads(1)


def _effective_weight(m: nn.Module) -> torch.Tensor:
    return m.weight.detach()  # a parametrized module returns the normalised weight


def test_spectral_norm_converges_to_unit_largest_singular_value():
    torch.manual_seed(0)
    conv = spectral_norm(nn.Conv2d(8, 16, 3, padding=1))
    x = torch.randn(2, 8, 5, 5)
    for _ in range(50):  # one power iteration per training forward
        conv(x)
    w = _effective_weight(conv).reshape(16, -1).numpy()
    assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3)
    raw = conv.parametrizations.weight.original.detach().reshape(16, -1).numpy()
    sigma = np.linalg.svd(raw, compute_uv=False)[0]
    np.testing.assert_allclose(w, raw / sigma, rtol=1e-3, atol=1e-5)


def test_spectral_norm_vectors_are_buffers_saved_in_state_dict():
    lin = spectral_norm(nn.Linear(4, 3))
    keys = set(lin.state_dict())
    assert any(k.endswith("_u") for k in keys) and any(k.endswith("_v") for k in keys)
    assert {n for n, _ in lin.named_parameters()} == {"bias", "parametrizations.weight.original"}


def _batchnorm_reference(x: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)  # biased, as BN normalises in training
    return (x - mean) / np.sqrt(var + eps)


def test_conditional_bn_matches_hand_formula_with_vector_and_class_embeddings():
    torch.manual_seed(0)
    bn = ConditionalBatchNorm2d(6, cond_dim=5, num_classes=3, eps=1e-5)
    x, c, y = torch.randn(4, 6, 3, 3), torch.randn(4, 5), torch.tensor([0, 2, 1, 2])
    out = bn(x, c, y).detach().numpy()
    wg, wb = bn.gain.weight.detach().numpy(), bn.bias.weight.detach().numpy()
    eg, eb = bn.embed_gain.weight.detach().numpy(), bn.embed_bias.weight.detach().numpy()
    gain = 1 + c.numpy() @ wg.T + eg[y.numpy()]
    bias = c.numpy() @ wb.T + eb[y.numpy()]
    ref = _batchnorm_reference(x.numpy(), 1e-5) * gain[:, :, None, None] + bias[:, :, None, None]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_unconditional_bn_is_plain_affine_batchnorm():
    bn = ConditionalBatchNorm2d(4)
    ref = nn.BatchNorm2d(4)
    ref.load_state_dict(bn.bn.state_dict())
    x = torch.randn(3, 4, 2, 2)
    torch.testing.assert_close(bn(x), ref(x))
    assert sum(p.numel() for p in bn.parameters()) == 8


@pytest.mark.parametrize(
    ("num_classes", "feat_dim", "shared", "expected_dim", "bn_classes"),
    [(0, 0, True, 0, 0), (10, 0, True, 16, 0), (0, 32, True, 8, 0), (10, 32, True, 24, 0), (10, 0, False, 0, 10)],
)
def test_condition_embedding_modes(num_classes, feat_dim, shared, expected_dim, bn_classes):
    emb = ConditionEmbedding(num_classes, feat_dim, class_dim=16, feat_embed_dim=8, shared=shared)
    assert emb.out_dim == expected_dim and emb.bn_classes == bn_classes
    y = torch.randint(max(num_classes, 1), (3,)) if num_classes else None
    feat = torch.randn(3, feat_dim) if feat_dim else None
    c = emb(y, feat)
    if expected_dim == 0:
        assert c is None
    else:
        assert c.shape == (3, expected_dim)
        if num_classes and feat_dim:  # class part first, then instance part (cc-IC-GAN order)
            torch.testing.assert_close(c[:, :16], emb.class_embed(y))
            torch.testing.assert_close(c[:, 16:], emb.feat_embed(feat))


def test_projection_head_class_instance_and_both_by_hand():
    torch.manual_seed(0)
    h, y, f = torch.randn(5, 6), torch.tensor([0, 1, 2, 1, 0]), torch.randn(5, 7)
    head = ProjectionHead(6, num_classes=3, feat_dim=7, sn=False)
    assert head.embed.weight.shape == (3, 3) and head.feat_proj.weight.shape == (3, 7)  # halves of 6
    lin = head.linear.weight.detach().numpy()[0]
    b = head.linear.bias.item()
    e, wf, bf = head.embed.weight.detach().numpy(), head.feat_proj.weight.detach().numpy(), head.feat_proj.bias
    proj = np.concatenate([e[y.numpy()], f.numpy() @ wf.T + bf.detach().numpy()], axis=1)
    ref = h.numpy() @ lin + b + (proj * h.numpy()).sum(1)
    np.testing.assert_allclose(head(h, y, f).detach().numpy(), ref, rtol=1e-5, atol=1e-5)

    only_class = ProjectionHead(6, num_classes=3, sn=False)
    e = only_class.embed.weight.detach().numpy()
    ref = only_class.linear(h).squeeze(1).detach().numpy() + (e[y.numpy()] * h.numpy()).sum(1)
    np.testing.assert_allclose(only_class(h, y).detach().numpy(), ref, rtol=1e-5, atol=1e-5)

    with pytest.raises(ConfigError, match="even"):
        ProjectionHead(5, num_classes=3, feat_dim=7)


def _attention_reference(x, att: SelfAttention) -> np.ndarray:
    """Loop-over-positions SAGAN attention built from the layer's effective 1x1 weights."""
    wt, wp, wg, wo = (m.weight.detach().numpy()[:, :, 0, 0] for m in (att.theta, att.phi, att.g, att.o))
    b, c, hh, ww = x.shape
    out = np.empty_like(x)
    for n in range(b):
        xi = x[n].reshape(c, -1)
        theta = wt @ xi
        phi_full = (wp @ xi).reshape(-1, hh, ww)
        g_full = (wg @ xi).reshape(-1, hh, ww)
        pool = lambda a: a.reshape(a.shape[0], hh // 2, 2, ww // 2, 2).max(axis=(2, 4)).reshape(a.shape[0], -1)
        phi, g = pool(phi_full), pool(g_full)
        o = np.zeros((c // 2, hh * ww))
        for i in range(hh * ww):
            logits = theta[:, i] @ phi
            p = np.exp(logits - logits.max())
            p /= p.sum()
            o[:, i] = g @ p
        out[n] = x[n] + att.gamma.item() * (wo @ o).reshape(c, hh, ww)
    return out


def test_self_attention_against_loop_reference_and_identity_at_init():
    torch.manual_seed(0)
    conv, _ = layer_factories(sn=False)
    att = SelfAttention(16, conv)
    x = torch.randn(2, 16, 4, 6)
    torch.testing.assert_close(att(x), x)  # gamma starts at 0
    with torch.no_grad():
        att.gamma.fill_(0.7)
    np.testing.assert_allclose(att(x).detach().numpy(), _attention_reference(x.numpy(), att), rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError):
        SelfAttention(7, conv)
    odd = SelfAttention(12, conv)  # floor widths as BigGAN-PyTorch: 12 // 8 = 1, 12 // 2 = 6
    assert odd.theta.out_channels == 1 and odd.g.out_channels == 6
    x = torch.randn(2, 12, 4, 4)
    with torch.no_grad():
        odd.gamma.fill_(0.5)
    np.testing.assert_allclose(odd(x).detach().numpy(), _attention_reference(x.numpy(), odd), rtol=1e-4, atol=1e-5)


def test_ortho_reg_gradient_equals_autograd_of_penalty_and_respects_blacklist():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.Conv2d(3, 5, 3), nn.Embedding(7, 3))
    blacklist = list(model[2].parameters())
    strength = 0.3
    penalty = strength * ortho_penalty(model, blacklist)
    expected = torch.autograd.grad(penalty, [model[0].weight, model[1].weight])
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    ortho_reg(model, strength, blacklist)
    torch.testing.assert_close(model[0].weight.grad, expected[0])
    torch.testing.assert_close(model[1].weight.grad, expected[1])
    assert torch.count_nonzero(model[2].weight.grad) == 0  # blacklisted
    assert torch.count_nonzero(model[0].bias.grad) == 0  # 1-D parameters are skipped
    # closed form 2 (W W^T * (1 - I)) W by hand
    w = model[0].weight.detach().numpy()
    m = w @ w.T
    np.fill_diagonal(m, 0.0)
    np.testing.assert_allclose(model[0].weight.grad.numpy(), strength * 2 * m @ w, rtol=1e-5, atol=1e-6)


def test_ortho_reg_vanishes_on_orthogonal_rows():
    lin = nn.Linear(8, 4, bias=False)
    init_weights(lin, "ortho")
    w = lin.weight.detach()
    torch.testing.assert_close(w @ w.T, torch.eye(4), atol=1e-5, rtol=0)
    ortho_reg(lin, 1.0)
    assert lin.weight.grad.abs().max() < 1e-5


def test_init_schemes():
    torch.manual_seed(0)
    lin = nn.Linear(400, 300)
    init_weights(lin, "N02")
    assert lin.weight.std().item() == pytest.approx(0.02, rel=0.02)
    init_weights(lin, "xavier")
    bound = np.sqrt(6 / (400 + 300))
    assert lin.weight.abs().max().item() <= bound and lin.weight.std().item() == pytest.approx(bound / np.sqrt(3), 0.02)
    sn_lin = spectral_norm(nn.Linear(5, 9))
    init_weights(sn_lin, "ortho")  # reaches the raw weight under the parametrization
    raw = sn_lin.parametrizations.weight.original.detach()
    torch.testing.assert_close(raw.T @ raw, torch.eye(5), atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="unknown init"):
        init_weights(lin, "kaiming")
