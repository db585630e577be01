"""StyleGAN2 mixed precision: which resolutions run in fp16, conv clamping against hand computations, the option's
forward on CPU (fp16 is a no-op there, the clamp is not), and the fp16 dtypes on CUDA when a GPU is present."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab.core.errors import ConfigError
from ganlab.core.nn import build_backbone
from ganlab.core.nn.stylegan2 import SynthesisLayer, compute_dtype, fp16_resolutions
from ganlab.core.nn.stylegan2_ops import EqualConv2d

torch.set_num_threads(1)
TINY = {"channel_base": 256, "channel_max": 16, "z_dim": 8, "w_dim": 8, "mapping_layers": 2}


def test_fp16_resolutions_are_the_top_ones_never_4x4():
    assert fp16_resolutions(256, 4) == {32, 64, 128, 256}
    assert fp16_resolutions(32, 2) == {16, 32}
    assert fp16_resolutions(32, 9) == {8, 16, 32}  # the 4x4 block and D's epilogue stay float32
    assert fp16_resolutions(1024, 0) == set()
    assert compute_dtype(True, torch.device("cpu")) == torch.float32  # no-op on CPU
    assert compute_dtype(True, torch.device("cuda")) == torch.float16
    assert compute_dtype(False, torch.device("cuda")) == torch.float32


def test_clamp_on_a_one_weight_conv_equals_the_hand_computation():
    conv = EqualConv2d(1, 1, 1, activation="lrelu")  # weight gain 1/sqrt(1 * 1) = 1
    with torch.no_grad():
        conv.weight.fill_(1000.0)
    x = torch.tensor([1.0, -1.0, 0.001]).view(1, 1, 1, 3)
    # pre-activation 1000, -1000, 1; leaky ReLU (0.2) times sqrt(2): 1414.2, -282.8, 1.414; clamp 256
    out = conv(x, clamp=256.0).flatten()
    assert out.tolist() == pytest.approx([256.0, -256.0, math.sqrt(2)], rel=1e-6)
    # gain sqrt(0.5) (residual blocks): 1000, -200, 1 before the clamp, bound 256 * sqrt(0.5) = 181.02
    out = conv(x, gain=math.sqrt(0.5), clamp=256.0).flatten()
    b = 256.0 * math.sqrt(0.5)
    assert out.tolist() == pytest.approx([b, -b, 1.0], rel=1e-6)
    assert conv(x).flatten().tolist() == pytest.approx([1000 * math.sqrt(2), -200 * math.sqrt(2), math.sqrt(2)])


def test_synthesis_layer_clamps_after_bias_and_activation():
    layer = SynthesisLayer(1, 1, 4, resolution=4, up=1, resample_filter=(1, 3, 3, 1), conv_clamp=3.0)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(10.0)
        layer.affine.weight.zero_()  # styles = the affine's bias, 1
    x = torch.full((1, 1, 4, 4), 0.5)
    w = torch.zeros(1, 4)
    # one input channel, 3x3 weight of ones scaled by 1/3, demodulated: 1/3 each (sum of squares 9/9 = 1); a 0.5
    # input gives 0.5 * (covered taps) / 3; plus bias 10, times sqrt(2) >> 3, so every pixel is clamped to 3
    out = layer(x, w, noise_mode="none")
    assert torch.equal(out, torch.full_like(out, 3.0))
    layer.conv_clamp = None
    corner = (0.5 * 4 / 3 + 10.0) * math.sqrt(2)  # a corner pixel sees 4 of the 9 taps
    assert layer(x, w, noise_mode="none")[0, 0, 0, 0].item() == pytest.approx(corner, rel=1e-5)


def _conv_outputs(model):
    """Max |output| of every synthesis conv (the modulated 3x3 layers and toRGB) seen in the next forwards."""
    seen = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: seen.append(o.detach().abs().max().item()))
        for m in model.modules()
        if type(m).__name__ in ("SynthesisLayer", "ToRGB")
    ]
    return seen, hooks


def test_option_on_cpu_runs_and_the_clamp_bounds_activations():
    torch.manual_seed(0)
    G, D = build_backbone("stylegan2", resolution=32, num_fp16_res=2, conv_clamp=0.5, **TINY)
    ref, _ = build_backbone("stylegan2", resolution=32, **TINY)
    ref.load_state_dict(G.state_dict())
    assert [b.use_fp16 for b in G.synthesis.blocks] == [False, False, True, True]  # 4, 8 | 16, 32
    z = torch.randn(4, 8)
    seen, hooks = _conv_outputs(G)
    img = G(z, noise_mode="const")
    for h in hooks:
        h.remove()
    assert img.dtype == torch.float32 and img.shape == (4, 3, 32, 32) and torch.isfinite(img).all()
    assert seen and max(seen) <= 0.5
    free, hooks = _conv_outputs(ref)
    ref(z, noise_mode="const")
    for h in hooks:
        h.remove()
    assert max(free) > 0.5  # the same weights without the clamp exceed the bound: the clamp did bite
    out = D(img)
    assert out["adv"].dtype == torch.float32 and torch.isfinite(out["adv"]).all()
    out["adv"].sum().backward()


def test_clamp_256_leaves_a_fresh_network_unchanged_on_cpu():
    torch.manual_seed(1)
    G, D = build_backbone("stylegan2", resolution=32, num_fp16_res=4, conv_clamp=256, **TINY)
    ref_G, ref_D = build_backbone("stylegan2", resolution=32, **TINY)
    ref_G.load_state_dict(G.state_dict())
    ref_D.load_state_dict(D.state_dict())
    z = torch.randn(4, 8)
    a, b = G(z, noise_mode="const"), ref_G(z, noise_mode="const")
    assert torch.equal(a, b)  # fp16 is a no-op on CPU and the activations of a fresh net are far below 256
    assert torch.equal(D(a)["adv"], ref_D(b)["adv"])


@pytest.mark.parametrize("bad", [{"num_fp16_res": -1}, {"conv_clamp": 0}, {"conv_clamp": -256}])
def test_bad_options(bad):
    with pytest.raises(ConfigError, match="num_fp16_res|conv_clamp"):
        build_backbone("stylegan2", resolution=32, **TINY, **bad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 runs on CUDA only")
def test_fp16_blocks_run_in_half_on_cuda():
    torch.manual_seed(0)
    G, D = build_backbone("stylegan2", resolution=32, num_fp16_res=2, conv_clamp=256, **TINY)
    G, D = G.cuda(), D.cuda()
    dtypes = {}
    for i, block in enumerate(G.synthesis.blocks):
        block.register_forward_hook(lambda m, inp, out, i=i: dtypes.__setitem__(i, (out[0].dtype, out[1].dtype)))
    img = G(torch.randn(4, 8, device="cuda"))
    assert dtypes[3] == (torch.float16, torch.float32) and dtypes[1] == (torch.float32, torch.float32)
    assert img.dtype == torch.float32 and torch.isfinite(img).all()
    out = D(img)["adv"]
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in D.parameters() if p.grad is not None)
    assert all(p.dtype == torch.float32 for p in G.parameters())
