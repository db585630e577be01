"""StyleGAN2 networks: modulated conv against a per-sample loop, equalised lr, FIR resampling, minibatch-stddev,
parameter counts against a closed-form layer-by-layer count, conditioning, truncation, errors, CPU speed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.signal import convolve2d

from ganlab.core.errors import ConfigError, RegistryError, ShapeError
from ganlab.core.nn import build_backbone, check_models, param_counts
from ganlab.core.nn.stylegan2_ops import (
    EqualConv2d,
    EqualLinear,
    MinibatchStd,
    downsample2d,
    modulated_conv2d,
    setup_filter,
    upsample2d,
)

torch.set_num_threads(1)
TINY = {"channel_base": 256, "channel_max": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 2}


# ------------------------------------------------------------------------------------------ modulated conv
def _loop_modconv(x, weight, styles, demod):
    outs = []
    for b in range(x.shape[0]):
        w = weight * styles[b][None, :, None, None]
        if demod:
            w = w / torch.sqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        outs.append(F.conv2d(x[b : b + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outs)


@pytest.mark.parametrize("demod", [True, False])
@pytest.mark.parametrize("k", [3, 1])
def test_modulated_conv_equals_per_sample_loop(demod, k):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, 6, generator=g, dtype=torch.float64)
    weight = torch.randn(5, 4, k, k, generator=g, dtype=torch.float64)
    styles = torch.randn(3, 4, generator=g, dtype=torch.float64) + 1
    got = modulated_conv2d(x, weight, styles, demodulate=demod)
    torch.testing.assert_close(got, _loop_modconv(x, weight, styles, demod), rtol=1e-10, atol=1e-10)
    if demod:  # demodulation makes the output invariant to a global scale of the styles (up to eps)
        big = modulated_conv2d(x, weight, styles * 100.0, demodulate=True)
        torch.testing.assert_close(big, got, rtol=1e-6, atol=1e-6)


def test_modulated_conv_upsampling_equals_transposed_conv_then_fir_filter():
    """up=2: per sample a stride-2 transposed conv with the modulated, demodulated weight, then the [1,3,3,1]
    filter (gain 4) as a scipy 2-D convolution, cropped to 2H x 2W."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64)
    weight = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)
    styles = torch.rand(2, 3, generator=g, dtype=torch.float64) + 0.5
    got = modulated_conv2d(x, weight, styles, up=2, resample_filter=setup_filter().double())
    assert got.shape == (2, 2, 8, 8)
    taps = np.array([1, 3, 3, 1.0])
    fir = np.outer(taps, taps) / 64 * 4
    for b in range(2):
        w = weight * styles[b][None, :, None, None]
        w = w / torch.sqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        t = F.conv_transpose2d(x[b : b + 1], w.transpose(0, 1), stride=2)[0].numpy()  # (O, 9, 9)
        for o in range(2):
            full = convolve2d(np.pad(t[o], 1), fir, mode="valid")  # pad 1 each side, 4-tap filter: 11 - 3 = 8
            np.testing.assert_allclose(got[b, o].numpy(), full, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------------------ FIR resampling
def test_fir_up_and_down_sampling_preserve_constants_and_remove_nyquist():
    f = setup_filter()
    assert f.sum().item() == pytest.approx(1.0) and f[0, 0].item() == pytest.approx(1 / 64)
    ones = torch.ones(1, 1, 8, 8)
    up = upsample2d(ones, f)
    assert up.shape == (1, 1, 16, 16)
    torch.testing.assert_close(up[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12))  # gain 4 keeps the mean
    down = downsample2d(ones, f)
    assert down.shape == (1, 1, 4, 4)
    torch.testing.assert_close(down[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None]).remainder(2).float()[None, None] * 2 - 1
    assert downsample2d(checker, f)[..., 1:-1, 1:-1].abs().max() < 1e-6  # [1,3,3,1] has a zero at Nyquist


# -------------------------------------------------------------------------------------------- equalised lr
def test_equalised_lr_linear_scaling_and_gradients():
    torch.manual_seed(0)
    lin = EqualLinear(50, 7, lr_mul=0.01, bias_init=0.3)
    assert lin.weight_gain == pytest.approx(0.01 / math.sqrt(50))
    assert lin.weight.std().item() == pytest.approx(100.0, rel=0.1)  # stored N(0, 1) / lr_mul
    x = torch.randn(4, 50)
    want = x @ (lin.weight * 0.01 / math.sqrt(50)).T + lin.bias * 0.01
    torch.testing.assert_close(lin(x), want)
    # the gradient of the stored weight is the effective weight's gradient scaled by lr_mul / sqrt(fan_in)
    lin(x).sum().backward()
    eff_grad = torch.ones(4, 7).T @ x
    torch.testing.assert_close(lin.weight.grad, eff_grad * 0.01 / math.sqrt(50))
    act = EqualLinear(5, 3, activation="lrelu")
    v = torch.randn(2, 5)
    pre = v @ (act.weight / math.sqrt(5)).T
    torch.testing.assert_close(act(v), F.leaky_relu(pre, 0.2) * math.sqrt(2))


def test_equalised_lr_conv_scaling():
    torch.manual_seed(1)
    conv = EqualConv2d(6, 4, 3)
    assert conv.weight_gain == pytest.approx(1 / math.sqrt(6 * 9))
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(2, 6, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight / math.sqrt(54), conv.bias, padding=1))
    down = EqualConv2d(6, 4, 3, down=2)
    assert down(torch.randn(2, 6, 8, 8)).shape == (2, 4, 4, 4)
    assert EqualConv2d(6, 4, 1, down=2, bias=False)(torch.randn(1, 6, 8, 8)).shape == (1, 4, 4, 4)


def test_minibatch_stddev_matches_hand_computation():
    torch.manual_seed(2)
    x = torch.randn(8, 3, 2, 2)
    out = MinibatchStd(group_size=4)(x)
    assert out.shape == (8, 4, 2, 2)
    torch.testing.assert_close(out[:, :3], x)
    for n in range(8):
        members = [m for m in range(8) if m % 2 == n % 2]  # 8 samples in groups of 4: sample n with n % 2
        sd = x[members].double().std(dim=0, unbiased=False)
        want = torch.sqrt(sd.square() + 1e-8).mean().float()
        torch.testing.assert_close(out[n, 3], torch.full((2, 2), want.item()), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        MinibatchStd(group_size=4)(torch.randn(6, 3, 2, 2))


# ------------------------------------------------------------------------------------ parameter counts
def _fc(i: int, o: int) -> int:
    return i * o + o


def closed_form_g(res, base, cmax, n_map, z=512, w=512, classes=0, feat=0, img=3) -> int:
    """Layer-by-layer count of the official generator (StyleGAN2-ADA / IC-GAN networks.py, community port)."""
    ch = lambda r: min(base // r, cmax)
    n = (_fc(classes, w) if classes else 0) + (_fc(feat, w) if feat else 0)
    dims = [z + (w if classes else 0) + (w if feat else 0)] + [w] * n_map
    n += sum(_fc(a, b) for a, b in zip(dims, dims[1:]))
    modconv = lambda i, o: _fc(w, i) + 9 * i * o + 1 + o
    torgb = lambda i: _fc(w, i) + img * i + img
    n += ch(4) * 4 * 4 + modconv(ch(4), ch(4)) + torgb(ch(4))
    r = 8
    while r <= res:
        n += modconv(ch(r // 2), ch(r)) + modconv(ch(r), ch(r)) + torgb(ch(r))
        r *= 2
    return n


def closed_form_d(res, base, cmax, classes=0, feat=0, d_map=8, img=3) -> int:
    ch = lambda r: min(base // r, cmax)
    n = img * ch(res) + ch(res)  # fromRGB 1x1
    r = res
    while r >= 8:
        t, o = ch(r), ch(r // 2)
        n += (9 * t * t + t) + (9 * t * o + o) + t * o  # conv0, conv1 (down), 1x1 skip without bias
        r //= 2
    c4 = ch(4)
    n += 9 * (c4 + 1) * c4 + c4 + _fc(16 * c4, c4)  # minibatch-stddev adds one channel to the 4x4 conv
    if classes or feat:
        n += _fc(c4, c4)  # out: one score per cmap feature
        n += (_fc(classes, c4) if classes else 0) + (_fc(feat, c4) if feat else 0)
        dims = [(c4 if classes else 0) + (c4 if feat else 0)] + [c4] * d_map
        n += sum(_fc(a, b) for a, b in zip(dims, dims[1:]))
    else:
        n += _fc(c4, 1)
    return n


@pytest.mark.parametrize(
    ("name", "options", "spec"),
    [
        ("stylegan2_ffhq256_diagan", {}, dict(res=256, base=32768, cmax=512, n_map=8)),
        ("stylegan2_coco128_uncond", {}, dict(res=128, base=16384, cmax=512, n_map=2)),
        ("stylegan2_coco256_uncond", {}, dict(res=256, base=16384, cmax=512, n_map=2)),
        ("icgan_stylegan2_coco128", {}, dict(res=128, base=16384, cmax=512, n_map=2, feat=2048)),
        ("icgan_stylegan2_coco256", {}, dict(res=256, base=16384, cmax=512, n_map=2, feat=2048)),
        ("stylegan2", {"resolution": 1024}, dict(res=1024, base=32768, cmax=512, n_map=8)),
        (
            "stylegan2",
            {"resolution": 64, "num_classes": 10, "feat_dim": 16},
            dict(res=64, base=32768, cmax=512, n_map=8, classes=10, feat=16),
        ),
        ("stylegan2_32_cpu", {}, dict(res=32, base=1024, cmax=64, n_map=2, z=64, w=64)),
    ],
)
def test_parameter_counts_equal_closed_form(name, options, spec):
    got = param_counts(name, **options)
    d_spec = {k: spec[k] for k in ("res", "base", "cmax")} | {k: spec.get(k, 0) for k in ("classes", "feat")}
    assert got["G"] == closed_form_g(**spec)
    assert got["D"] == closed_form_d(**d_spec)


def test_published_counts():
    """Numbers stated outside this code base. Per layer, StyleGAN2-ADA's printed network summaries (e.g.
    NVlabs/stylegan2-ada-pytorch issues 181/182, open-mmlab/mmgeneration issue 394): a 512->512 synthesis layer
    2,622,465, toRGB 264,195, the 512->256 up layer 1,442,561 and 256->256 layer 721,409. In total, IC-GAN's
    Table 2 (G in whole millions). The FFHQ-256 totals are the closed form above (no printed total was found)."""
    ffhq = param_counts("stylegan2_ffhq256_diagan")
    assert ffhq == {"G": 30_034_338, "D": 28_864_129, "total": 58_898_467}  # ~30.0 M / ~28.9 M
    assert param_counts("stylegan2_256") == ffhq  # the name diagan's Table 3 config asks for
    assert param_counts("stylegan2", resolution=1024)["G"] == 30_370_060  # config F at 1024, closed form
    G, D = build_backbone("stylegan2_ffhq256_diagan")
    n = lambda m: sum(p.numel() for p in m.parameters())
    blocks = {b.conv1.weight.shape[0]: b for b in G.synthesis.blocks[1:]}
    assert n(G.synthesis.blocks[1].conv0) == 2_622_465 and n(G.synthesis.blocks[1].torgb) == 264_195
    assert n(blocks[256].conv0) == 1_442_561 and n(blocks[256].conv1) == 721_409
    b128 = D.blocks[1]  # D at 128 px: 256 -> 512 channels (printed: conv0 590,080, conv1 1,180,160, skip 131,072)
    assert (n(b128.conv0), n(b128.conv1), n(b128.skip)) == (590_080, 1_180_160, 131_072)
    # IC-GAN Table 2 prints G in whole millions: 23 / 24 at 128 and 23 / 25 at 256
    assert [round(param_counts(p)["G"] / 1e6) for p in ("stylegan2_coco128_uncond", "icgan_stylegan2_coco128")] == [
        23,
        24,
    ]
    assert [round(param_counts(p)["G"] / 1e6) for p in ("stylegan2_coco256_uncond", "icgan_stylegan2_coco256")] == [
        23,
        25,
    ]


# ------------------------------------------------------------------------------------ forward / backward
def test_32px_forward_backward_on_cpu_is_fast_and_conditioned():
    torch.manual_seed(0)
    t0 = time.perf_counter()
    G, D = build_backbone("stylegan2_32_cpu", num_classes=10, feat_dim=32)
    z, y, feat = torch.randn(4, 64), torch.randint(10, (4,)), F.normalize(torch.randn(4, 32), dim=1)
    x = G(z, y, feat)
    out = D(x, y, feat)
    (out["adv"].sum()).backward()
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"32-px G+D forward/backward took {elapsed:.2f} s"
    assert x.shape == (4, 3, 32, 32) and x.abs().max() <= 1
    assert out["adv"].shape == (4,) and out["features"].shape == (4, 64)
    assert G.mapping.embed.weight.grad.abs().sum() > 0 and G.mapping.embed_feat.weight.grad.abs().sum() > 0
    assert D.mapping.embed_feat.weight.grad.abs().sum() > 0
    # the class changes the score (projection conditioning) and the image (mapping input)
    with torch.no_grad():
        G.eval()
        x1 = G(z, y, feat, noise_mode="const")
        x2 = G(z, (y + 1) % 10, feat, noise_mode="const")
        assert (x1 - x2).abs().max() > 1e-4
        assert (D(x1, y, feat)["adv"] - D(x1, (y + 1) % 10, feat)["adv"]).abs().max() > 1e-6
    check_models(G, D, data_shape=(3, 32, 32), num_classes=10)


def test_noise_modes_and_output_activation():
    torch.manual_seed(0)
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)
    with torch.no_grad():
        for m in G.modules():
            if hasattr(m, "noise_strength"):
                m.noise_strength.fill_(1.0)
        z = torch.randn(2, 8)
        a, b = G(z, noise_mode="const"), G(z, noise_mode="const")
        assert torch.equal(a, b)
        assert (G(z, noise_mode="random") - a).abs().max() > 1e-3
        assert not torch.equal(G(z, noise_mode="none"), a)
        raw = G.synthesis(G.ws(z), "const")
        torch.testing.assert_close(a, torch.tanh(raw))
    lin, _ = build_backbone("stylegan2", resolution=32, out_act="linear", **TINY)
    lin.load_state_dict(G.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(lin(z, noise_mode="const"), raw)
    assert G.num_ws == 2 * 5 - 2


# ------------------------------------------------------------------------------------ truncation and w_avg
def test_w_avg_is_tracked_with_decay_and_truncation_is_defined_by_it():
    torch.manual_seed(0)
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)
    beta = G.mapping.w_avg_beta
    assert beta == 0.995 and not G.has_w_avg()
    z1, z2 = torch.randn(6, 8), torch.randn(6, 8)
    G.train()
    w1 = G.map(z1).detach()
    torch.testing.assert_close(G.mapping.w_avg, (1 - beta) * w1.mean(0))
    w2 = G.map(z2).detach()
    torch.testing.assert_close(G.mapping.w_avg, w2.mean(0) + beta * ((1 - beta) * w1.mean(0) - w2.mean(0)))
    assert G.has_w_avg() and int(G.mapping.w_avg_updates) == 2
    G.eval()
    avg = G.mapping.w_avg.clone()
    G.map(z1)
    torch.testing.assert_close(G.mapping.w_avg, avg)  # eval mode does not update
    ws = G.ws(z1)
    wt = G.ws(z1, truncation_psi=0.5, truncation_cutoff=3)
    torch.testing.assert_close(wt[:, :3], avg + 0.5 * (ws[:, :3] - avg))
    torch.testing.assert_close(wt[:, 3:], ws[:, 3:])
    with torch.no_grad():  # psi = 0: every latent collapses to the average image
        imgs = G(torch.randn(3, 8), truncation_psi=0.0, noise_mode="const")
    torch.testing.assert_close(imgs[0], imgs[2])


def test_truncation_without_average_is_a_clear_error():
    G, _ = build_backbone("stylegan2", resolution=32, **TINY)
    G.eval()  # (a training-mode forward would first update the average, then truncate)
    with pytest.raises(ConfigError, match="estimate_w_avg"):
        G(torch.randn(2, 8), truncation_psi=0.7)
    avg = G.estimate_w_avg(64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(avg, G.mapping(torch.randn(64, 8, generator=torch.Generator().manual_seed(0))).mean(0))
    assert G(torch.randn(2, 8), truncation_psi=0.7).shape == (2, 3, 32, 32)
    G0, _ = build_backbone("stylegan2", resolution=32, w_avg_beta=0.0, **TINY)
    G0.train()
    with pytest.raises(ConfigError, match="w_avg_beta"):
        G0(torch.randn(2, 8), truncation_psi=0.7)


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("res", [16, 48, 2048, 100])
def test_bad_resolution_is_a_clear_error(res):
    with pytest.raises(ConfigError, match="power-of-two resolution between 32 and 1024"):
        build_backbone("stylegan2", resolution=res)


def test_unknown_preset_names_the_closest_match():
    with pytest.raises(RegistryError, match="stylegan2_ffhq256_diagan"):
        build_backbone("stylegan2_ffhq256_diagn")
    with pytest.raises(ConfigError, match="no option"):
        build_backbone("stylegan2", n_mlp=8)


def test_conditioning_mismatch_is_a_clear_error():
    G, D = build_backbone("stylegan2", resolution=32, num_classes=5, feat_dim=12, **TINY)
    z, y = torch.randn(2, 8), torch.tensor([0, 4])
    with pytest.raises(ShapeError, match=r"feat must have shape \(2, 12\)"):
        G(z, y, torch.randn(2, 10))
    with pytest.raises(ShapeError, match="pass y"):
        G(z, None, torch.randn(2, 12))
    with pytest.raises(ShapeError, match="z of shape"):
        G(torch.randn(2, 9), y, torch.randn(2, 12))
    with pytest.raises(ShapeError, match="feat must have shape"):
        D(torch.randn(2, 3, 32, 32), y, torch.randn(2, 3))
    with pytest.raises(ShapeError, match="expects images"):
        D(torch.randn(2, 3, 64, 64), y, torch.randn(2, 12))


def test_architecture_facts():
    G, D = build_backbone("stylegan2", resolution=64, channel_base=2048, channel_max=64, mapping_layers=3)
    assert [b.conv1.weight.shape[0] for b in G.synthesis.blocks] == [min(2048 // r, 64) for r in (4, 8, 16, 32, 64)]
    assert len(G.mapping.layers) == 3 and all(layer.lr_mul == 0.01 for layer in G.mapping.layers)
    affine = G.synthesis.blocks[2].conv0.affine
    assert affine.lr_mul == 1 and torch.all(affine.bias == 1)  # styles start at 1
    assert all(m.noise_strength.item() == 0 for m in G.modules() if hasattr(m, "noise_strength"))
    assert G.num_ws == 10 and G.synthesis.blocks[0].conv0 is None and G.synthesis.blocks[0].const.shape == (64, 4, 4)
    assert D.blocks[0].fromrgb is not None and all(b.fromrgb is None for b in D.blocks[1:])
    assert len(D.blocks) == 4 and D.conv.weight.shape == (64, 65, 3, 3) and D.out.weight.shape == (1, 64)
    assert D.mapping is None and D.cmap_dim == 0
