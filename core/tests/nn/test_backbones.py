"""Every preset builds and runs at smoke size; the conditioning interface; architecture facts; clear errors."""

from __future__ import annotations

import pytest
import torch

from ganlab.core.errors import ConfigError, RegistryError, ShapeError
from ganlab.core.nn import BACKBONES, FAMILIES, PRESETS, build_backbone, count_parameters, param_counts

torch.set_num_threads(1)

# Smaller widths for the big presets so a forward pass stays fast; the architecture code path is the same.
SMOKE = {
    "sagan64_ch32_is": {"ch": 8},
    "biggan64_ch64": {"ch": 8},
    "icgan64_ch64": {"ch": 8},
    "cc_icgan64_ch64": {"ch": 8, "num_classes": 5},
    "biggan128_ch64_is": {"ch": 8, "num_classes": 5},
    "biggan256_ch64_is": {"ch": 4, "num_classes": 5},
    "icgan128_ch96": {"ch": 8},
    "icgan256_ch96": {"ch": 4},
    "icgan128_coco": {"ch": 8},
    "icgan256_coco": {"ch": 4},
    "biggan128_coco_uncond": {"ch": 8},
    "biggan256_coco_uncond": {"ch": 4},
    "biggan32_cifar": {"ch": 8},
    "biggan32_cifar_multigan": {"ch": 8},
    "sngan64_celeba": {"ngf": 64, "ndf": 64},
    "sngan32_cifar": {"ngf": 32, "ndf": 32},
    "ssgan32_cifar": {"ngf": 32, "ndf": 32},
    **dict.fromkeys(
        [n for n in PRESETS if PRESETS[n].family == "stylegan2"],
        {"channel_base": 512, "channel_max": 16, "z_dim": 16, "w_dim": 16},
    ),
}


def _inputs(G, batch: int):
    z = G.sample_z(batch)
    y = G.sample_y(batch)
    feat = torch.nn.functional.normalize(torch.randn(batch, G.feat_dim), dim=1) if G.feat_dim else None
    return z, y, feat


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs(name):
    torch.manual_seed(0)
    G, D = build_backbone(name, **SMOKE.get(name, {}))
    batch = 2 if G.resolution >= 128 else 4
    z, y, feat = _inputs(G, batch)
    x = G(z, y, feat)
    if G.resolution:  # images: (B, C, R, R) in [-1, 1]
        assert x.shape == (batch, G.channels, G.resolution, G.resolution)
        assert x.abs().max() <= 1.0
    else:  # 2-D toy points
        assert x.shape == (batch, G.channels)
    out = D(x, y, feat)
    assert out["adv"].shape == (batch,)
    if "cls" in out:
        assert out["cls"].shape == (batch, G.num_classes)
    if name.startswith("ssgan"):
        assert out["rot"].shape == (batch, 4)
    if G.resolution >= 128:
        return  # the backward path is the same code at 32/64 px and costs seconds at 128/256
    out["adv"].sum().backward()  # gradients reach G through D
    grads = [p.grad for p in G.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_heads_required_by_the_papers():
    _, d = build_backbone("acgan_cifar_gold")
    out = d(torch.randn(2, 3, 32, 32))
    assert set(out) >= {"adv", "cls"} and out["cls"].shape == (2, 10)
    _, d = build_backbone("acgan_mnist_gold")
    assert d.eval()(torch.randn(2, 1, 32, 32))["cls"].shape == (2, 10)
    _, d = build_backbone("toy_mlp_gold")
    assert d(torch.randn(3, 2))["cls"].shape == (3, 2)
    assert all(m.bias.abs().sum() == 0 for m in d.modules() if isinstance(m, torch.nn.Linear))  # GOLD's toy init
    _, d = build_backbone("ssgan32_cifar", ngf=32, ndf=32)
    assert d(torch.randn(2, 3, 32, 32))["rot"].shape == (2, 4)
    _, d = build_backbone("sngan32_cifar", ngf=32, ndf=32)
    assert "rot" not in d(torch.randn(2, 3, 32, 32))


@pytest.mark.parametrize(("num_classes", "feat_dim"), [(0, 0), (5, 0), (0, 12), (5, 12)])
@pytest.mark.parametrize("hier", [False, True])
def test_one_biggan_class_serves_every_conditioning(num_classes, feat_dim, hier):
    torch.manual_seed(0)
    G, D = build_backbone(
        "biggan",
        resolution=32,
        ch=4,
        z_dim=20,
        num_classes=num_classes,
        feat_dim=feat_dim,
        shared_dim=8,
        feat_embed_dim=6,
        hier=hier,
        g_attn="0",
        d_attn="0",
    )
    G.eval()  # per-sample outputs independent of the batch
    z = G.sample_z(2)
    y = torch.tensor([0, 3])
    feat = torch.randn(2, feat_dim) if feat_dim else None
    x = G(z, y, feat)
    assert D(x, y, feat)["adv"].shape == (2,)
    if num_classes:  # changing the class changes the image and D's projection
        x2 = G(z, torch.tensor([1, 4]), feat)
        assert not torch.allclose(x, x2)
        assert not torch.allclose(D(x, y, feat)["adv"], D(x, torch.tensor([1, 4]), feat)["adv"])
    if feat_dim:
        assert not torch.allclose(x, G(z, y, torch.randn(2, feat_dim)))
    if not num_classes:  # unconditional / instance-only models ignore labels they are handed
        torch.testing.assert_close(G(z, torch.tensor([1, 4]), feat), x)


def test_sngan_serves_class_and_instance_conditioning_too():
    G, D = build_backbone("sngan", resolution=32, ngf=16, ndf=16, num_classes=3, feat_dim=8)
    z, y, f = G.sample_z(2), torch.tensor([0, 2]), torch.randn(2, 8)
    assert D(G(z, y, f), y, f)["adv"].shape == (2,)


def test_biggan_architecture_facts():
    # hierarchical z: one chunk per block + one for the linear layer; z_dim rounded down (BigGAN-PyTorch)
    G, _ = build_backbone("biggan", resolution=128, ch=4, z_dim=120, num_classes=3, g_attn="0", d_attn="0")
    assert (G.num_slots, G.z_chunk, G.z_dim) == (6, 20, 120)
    G, _ = build_backbone("biggan", resolution=64, ch=4, z_dim=120, num_classes=3, g_attn="0", d_attn="0")
    assert (G.num_slots, G.z_chunk, G.z_dim) == (5, 24, 120)
    G, _ = build_backbone("biggan", resolution=64, ch=4, z_dim=122, num_classes=3, g_attn="0", d_attn="0")
    assert G.z_dim == 120
    # IC-GAN: G embeds the 2048-d feature to 512 with an SN linear; ccbn input = 512 + z chunk (24 at 64 px)
    G, D = build_backbone("icgan64_ch64", ch=8)
    assert G.cond.feat_embed.parametrizations.weight.original.shape == (512, 2048)
    assert G.blocks[0].bn1.gain.parametrizations.weight.original.shape == (16 * 8, 512 + 24)
    # D projects the instance feature to the 16*ch pooled features; cc-IC-GAN splits half / half
    assert D.head.feat_proj.parametrizations.weight.original.shape == (16 * 8, 2048)
    _, D = build_backbone("cc_icgan64_ch64", ch=8, num_classes=5)
    assert D.head.embed.parametrizations.weight.original.shape == (5, 8 * 8)
    assert D.head.feat_proj.parametrizations.weight.original.shape == (8 * 8, 2048)
    # SAGAN: per-layer class embeddings, no shared embedding, attention at 32 in G and D
    G, D = build_backbone("sagan64_ch32_is", ch=8, num_classes=7)
    assert G.cond.class_embed is None and G.blocks[0].bn1.embed_gain.weight.shape == (7, 16 * 8)
    assert list(G.attention) == ["2"] and list(D.attention) == ["0"]  # G block 2 outputs 32x32
    # the shared embedding is what ortho reg skips
    G, _ = build_backbone("biggan32_cifar_multigan", ch=4)
    assert [p.shape for p in G.ortho_blacklist()] == [torch.Size([10, 80])]


def test_constant_conditioning_ignores_labels():
    G, D = build_backbone("biggan128_coco_uncond", ch=8)
    assert not G.uses_class_input and G.sample_y(3) is None
    G.eval()
    z = G.sample_z(2)
    torch.testing.assert_close(G(z), G(z, torch.tensor([5, 9])))
    assert D(G(z))["adv"].shape == (2,)


def test_pacgan_packing_and_dropout_discriminator():
    _, D = build_backbone("dcgan32_diagan_mnist", pack=2)
    assert D(torch.randn(6, 1, 32, 32))["adv"].shape == (3,)
    with pytest.raises(ConfigError, match="divisible"):
        D(torch.randn(5, 1, 32, 32))
    _, D = build_backbone("dcgan32_diagan_mnist")
    x = torch.randn(4, 1, 32, 32)
    D.train()
    assert not torch.allclose(D(x)["adv"], D(x)["adv"])  # dropout 0.5 is active in train mode
    D.eval()
    torch.testing.assert_close(D(x)["adv"], D(x)["adv"])


def test_toy_generator_output_is_unbounded_linear():
    G, _ = build_backbone("toy_mlp")
    with torch.no_grad():
        G.net[-1].bias.fill_(3.0)
    assert G(G.sample_z(5)).min() > 2.0  # no tanh: the 25-Gaussian data reaches about ±1.41


def test_dcgan_supports_28_and_32_px():
    for res in (28, 32):
        G, D = build_backbone("dcgan", resolution=res, channels=1, ngf=8, ndf=8, z_dim=16)
        x = G(G.sample_z(2))
        assert x.shape == (2, 1, res, res) and D(x)["adv"].shape == (2,)
    G, D = build_backbone("infogan", resolution=28)
    assert G(G.sample_z(2), torch.tensor([1, 2])).shape == (2, 1, 28, 28)


def test_acgan128_shapes_follow_the_imagenet_acgan():
    """GOLD's 128-px ACGAN: 1 -> 5 -> 13 -> 29 -> 61 -> 128 in G; 128 -> 64 -> 62 -> 31 -> 29 -> 15 -> 13 in D."""
    torch.manual_seed(0)
    G, D = build_backbone("acgan128_gold")
    x = G(G.sample_z(2), torch.tensor([3, 7]))
    assert x.shape == (2, 3, 128, 128) and x.abs().max() <= 1
    h = torch.randn(2, 3, 128, 128)
    sizes = []
    for m in D.net:
        h = m(h)
        if isinstance(m, torch.nn.Conv2d):
            sizes.append(h.shape[-1])
    assert sizes == [64, 62, 31, 29, 15, 13]
    out = D.eval()(torch.randn(2, 3, 128, 128))
    assert out["cls"].shape == (2, 10) and out["features"].shape == (2, 13 * 13 * 512)
    assert sum(hasattr(m, "parametrizations") for m in D.modules()) == 6  # SN on every conv, not on the heads


def test_dcgan_acgan_init_is_normal_002():
    torch.manual_seed(0)
    G, D = build_backbone("acgan_cifar_gold")
    w = D.net[0].parametrizations.weight.original
    assert w.std().item() == pytest.approx(0.02, rel=0.1)
    bns = [m for m in D.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 5  # BN from the second conv on
    assert torch.cat([b.weight for b in bns]).mean().item() == pytest.approx(1.0, abs=0.01)
    assert torch.cat([b.weight for b in bns]).std().item() == pytest.approx(0.02, rel=0.2)
    G, D = build_backbone("acgan_mnist_gold")
    assert all(m.bias.abs().sum() == 0 for m in D.modules() if isinstance(m, torch.nn.Linear))


def test_meta_counts_equal_real_counts():
    name = "sngan32_cifar"  # full size; SN in D is what the shape-only build leaves out
    g, d = build_backbone(name)
    assert param_counts(name) == {
        "G": count_parameters(g),
        "D": count_parameters(d),
        "total": count_parameters(g) + count_parameters(d),
    }


def test_clear_errors():
    with pytest.raises(RegistryError, match="did you mean 'sngan32_cifar'"):
        build_backbone("sngan32_cifr")
    with pytest.raises(ConfigError, match="resolution 48.*supported: 32, 64, 128, 256"):
        build_backbone("biggan", resolution=48)
    with pytest.raises(ConfigError, match="resolution 64"):
        build_backbone("dcgan32_diagan_mnist", resolution=64)
    with pytest.raises(ConfigError, match="no option.*'chh'"):
        build_backbone("sngan32_cifar", chh=3)
    G, D = build_backbone("biggan", resolution=32, ch=4, num_classes=3, z_dim=20, g_attn="0", d_attn="0")
    with pytest.raises(ShapeError, match="pass y"):
        G(G.sample_z(2))
    with pytest.raises(ShapeError, match="z of shape"):
        G(torch.randn(2, 7), torch.tensor([0, 1]))
    with pytest.raises(ShapeError, match="images of shape"):
        D(torch.randn(2, 3, 64, 64), torch.tensor([0, 1]))
    G, _ = build_backbone("icgan64_ch64", ch=8)
    with pytest.raises(ShapeError, match="feat"):
        G(G.sample_z(2), None, torch.randn(2, 100))


def test_registry_lists_families_and_presets():
    assert set(FAMILIES) <= set(BACKBONES.names()) and set(PRESETS) <= set(BACKBONES.names())
    for name in (
        "sagan64_ch32_is",
        "biggan128_ch64_is",
        "biggan32_cifar_multigan",
        "icgan64_ch64",
        "sngan32_cifar",
        "sngan64_celeba",
        "ssgan32_cifar",
        "dcgan32_diagan_mnist",
        "acgan_mnist_gold",
        "acgan_cifar_gold",
        "toy_mlp",
        "toy_mlp_gold",
        "acgan128_gold",
    ):
        assert name in PRESETS


@pytest.mark.parametrize("name", ["sngan32_cifar", "biggan32_cifar_multigan", "acgan_cifar_gold"])
def test_spectral_norm_is_consistent_with_reinitialised_weights(name):
    """Right after building, eval-mode SN layers divide by the largest singular value of the initialised weight."""
    torch.manual_seed(0)
    _, D = build_backbone(name, **SMOKE.get(name, {}))
    D.eval()
    sigmas = [
        torch.linalg.matrix_norm(m.weight.detach().reshape(m.weight.shape[0], -1), ord=2).item()
        for m in D.modules()
        if hasattr(m, "parametrizations")
    ]
    assert sigmas and max(abs(s - 1.0) for s in sigmas) < 0.1


def test_data_shape_and_family_registration():
    from ganlab.core.nn import register_family, register_preset
    from ganlab.core.nn.backbones import Family, Preset
    from ganlab.core.nn.dcgan import MLPConfig, build_mlp

    G, D = build_backbone("toy_mlp")
    assert G.data_shape == (2,) and D.data_shape == (2,)
    with pytest.raises(ShapeError, match="points of shape"):
        D(torch.randn(3, 3))
    G, _ = build_backbone("sngan32_cifar", ngf=16, ndf=16)
    assert G.data_shape == (3, 32, 32)
    # a later family (StyleGAN2) plugs in the same way
    try:
        register_family(Family("mlp_test_family", MLPConfig, build_mlp, {"width": 8}))
        register_preset(Preset("mlp_test_preset", "mlp_test_family", {"depth": 1}, "test"))
        G, _ = build_backbone("mlp_test_preset")
        assert len(G.net) == 3 and G.net[0].out_features == 8
        with pytest.raises(ConfigError, match="twice"):
            register_family(Family("mlp_test_family", MLPConfig, build_mlp))
    finally:  # leave the global registries as they were for other tests
        FAMILIES.pop("mlp_test_family", None)
        PRESETS.pop("mlp_test_preset", None)
        for name in ("mlp_test_family", "mlp_test_preset"):
            BACKBONES._items.pop(name, None)


def test_pacgan_packs_chunks_of_the_batch_along_channels():
    torch.manual_seed(0)
    _, D = build_backbone("dcgan32_diagan_mnist", pack=2)
    D.eval()
    x = torch.randn(4, 1, 32, 32)
    first = D.net[0]  # conv over the 2 packed channels
    packed = torch.cat([x[:2], x[2:]], dim=1)  # sample i packs with sample i + B/2
    torch.testing.assert_close(D.net(packed), D(x)["features"])
    assert first.in_channels == 2


@pytest.mark.parametrize(("family", "res"), [("sngan", 48), ("sngan", 128), ("ssgan", 64), ("biggan", 256)])
def test_other_resolutions_of_the_families(family, res):
    small = {"ngf": 32, "ndf": 32} if family != "biggan" else {"ch": 4, "num_classes": 3, "z_dim": 21}
    G, D = build_backbone(family, resolution=res, **small)
    z, y, _ = _inputs(G, 2)
    x = G(z, y)
    assert x.shape == (2, 3, res, res)
    out = D(x, y)
    assert out["adv"].shape == (2,) and (("rot" in out) == (family == "ssgan"))
