"""Backbone presets for every official IC-GAN config, and the official code's parameter count in closed form.

Core's BigGAN family carries the instance conditioning (``feat_dim``) and core ships the first IC-GAN presets; the
remaining official configs are registered here (at import of ``ganlab.icgan``). :data:`OFFICIAL_RUNS` lists every
config file of the official repository (``BigGAN_PyTorch/config_files``) with its architecture and optimisation
facts; :func:`official_param_count` counts the parameters the official ``BigGAN.py`` builds for it, layer by layer
(``sum(p.nelement() for p in G.parameters())``, what its trainer prints), independently of our modules.

Every count matches ours exactly. The official unlabelled IC-GAN generator is built with ``G_shared: true`` and
``n_classes = 1000`` (hard-coded in its trainer), so it holds an ``nn.Embedding(1000, 128)`` that it never calls
when ``class_cond`` is false (:data:`UNUSED_EMBEDDING` = 128,000 parameters); the unlabelled presets build that
table too (core BigGAN ``unused_class_embedding``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.core.nn import PRESETS, register_preset
from ganlab.core.nn.backbones import Preset

OFFICIAL_N_CLASSES = 1000  # the official trainer sets n_classes = 1000 for every dataset, COCO-Stuff included
UNUSED_EMBEDDING = OFFICIAL_N_CLASSES * 128

_IC = {"num_classes": 0, "feat_dim": 2048, "z_dim": 120, "shared_dim": 128, "feat_embed_dim": 512, "hier": True,
       "unused_class_embedding": OFFICIAL_N_CLASSES}  # fmt: skip
_CC = {**_IC, "num_classes": 1000, "unused_class_embedding": 0}
_BG = {"num_classes": 1000, "z_dim": 120, "shared_dim": 128, "hier": True}

_NEW_PRESETS = [
    Preset("cc_icgan128_ch96", "biggan", {"resolution": 128, "ch": 96, **_CC}, "cc-IC-GAN 128x128 ImageNet, ch 96"),
    Preset("cc_icgan256_ch96", "biggan", {"resolution": 256, "ch": 96, **_CC}, "cc-IC-GAN 256x256 ImageNet, ch 96"),
    Preset(
        "icgan256_ch64", "biggan", {"resolution": 256, "ch": 64, **_IC}, "IC-GAN 256x256 ImageNet, ch 64 (half cap)"
    ),
    Preset(
        "cc_icgan256_ch64",
        "biggan",
        {"resolution": 256, "ch": 64, **_CC},
        "cc-IC-GAN 256 ImageNet / ImageNet-LT, ch 64",
    ),
    Preset("cc_icgan128_ch64", "biggan", {"resolution": 128, "ch": 64, **_CC}, "cc-IC-GAN 128x128 ImageNet-LT, ch 64"),
    Preset(
        "biggan128_ch96",
        "biggan",
        {"resolution": 128, "ch": 96, **_BG},
        "BigGAN 128x128 ImageNet, ch 96 (IC-GAN baseline)",
    ),
    Preset("biggan128_ch64", "biggan", {"resolution": 128, "ch": 64, **_BG}, "BigGAN 128x128 ImageNet-LT, ch 64"),
    Preset("biggan256_ch64", "biggan", {"resolution": 256, "ch": 64, **_BG}, "BigGAN 256x256 ImageNet(-LT), ch 64"),
    Preset(
        "biggan64_uncond_ch71",
        "biggan",
        {"resolution": 64, "ch": 71, **_BG, "constant_conditioning": True, "g_attn": "32", "d_attn": "32"},
        "IC-GAN Table 1 unconditional BigGAN 64 (labels set to zero), ch 71 to match IC-GAN's capacity",
    ),
]
for _p in _NEW_PRESETS:
    if _p.name not in PRESETS:
        register_preset(_p)


@dataclass(frozen=True)
class OfficialRun:
    """One official config file: its architecture (as a preset + options) and its training facts."""

    name: str  # config file, relative to BigGAN_PyTorch/config_files
    preset: str
    options: dict = field(default_factory=dict)
    batch_per_gpu: int = 256
    gpus: int = 1
    accumulations: int = 1
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    d_steps: int = 1
    k: int | None = None
    extractor: str | None = None
    hflips: bool = True
    feature_augmentation: bool = False
    diffaugment: str = ""


def _run(name: str, preset: str, options: dict | None = None, **kw: Any) -> OfficialRun:
    return OfficialRun(name, preset, dict(options or {}), **kw)


OFFICIAL_RUNS: list[OfficialRun] = [
    # ImageNet, unlabelled IC-GAN (SwAV features)
    _run("ImageNet/IC-GAN/icgan_res64.json", "icgan64_ch64", k=50, extractor="swav", feature_augmentation=True),
    _run(
        "ImageNet/IC-GAN/icgan_res128.json",
        "icgan128_ch96",
        batch_per_gpu=64,
        gpus=32,
        g_lr=4e-5,
        k=50,
        extractor="swav",
        feature_augmentation=True,
    ),
    _run(
        "ImageNet/IC-GAN/icgan_res256.json",
        "icgan256_ch96",
        batch_per_gpu=16,
        gpus=32,
        accumulations=4,
        g_lr=4e-5,
        k=50,
        extractor="swav",
    ),
    _run(
        "ImageNet/IC-GAN/icgan_res256_halfcap.json",
        "icgan256_ch64",
        batch_per_gpu=16,
        gpus=32,
        accumulations=4,
        d_steps=2,
        k=50,
        extractor="swav",
        feature_augmentation=True,
    ),
    # ImageNet, class-conditional IC-GAN (supervised ResNet-50 features)
    _run(
        "ImageNet/cc_IC-GAN/cc_icgan_res64.json",
        "cc_icgan64_ch64",
        k=50,
        extractor="resnet50",
        feature_augmentation=True,
    ),
    _run(
        "ImageNet/cc_IC-GAN/cc_icgan_res128.json",
        "cc_icgan128_ch96",
        batch_per_gpu=64,
        gpus=32,
        g_lr=4e-5,
        k=50,
        extractor="resnet50",
        feature_augmentation=True,
    ),
    _run(
        "ImageNet/cc_IC-GAN/cc_icgan_res256.json",
        "cc_icgan256_ch96",
        batch_per_gpu=16,
        gpus=32,
        accumulations=4,
        g_lr=4e-5,
        k=50,
        extractor="resnet50",
    ),
    _run(
        "ImageNet/cc_IC-GAN/cc_icgan_res256_halfcap.json",
        "cc_icgan256_ch64",
        batch_per_gpu=16,
        gpus=32,
        accumulations=4,
        d_steps=2,
        k=50,
        extractor="resnet50",
        feature_augmentation=True,
    ),
    # ImageNet, BigGAN baselines
    _run("ImageNet/BigGAN/biggan_res64.json", "biggan64_ch64"),
    _run("ImageNet/BigGAN/biggan_res128.json", "biggan128_ch96", batch_per_gpu=64, gpus=32, d_lr=4e-4),
    _run(
        "ImageNet/BigGAN/biggan_res256_half_cap.json",
        "biggan256_ch64",
        batch_per_gpu=16,
        gpus=32,
        accumulations=4,
        d_lr=4e-4,
        hflips=False,
    ),
    _run(
        "ImageNet/BigGAN/unconditional_biggan_res64.json",
        "biggan64_uncond_ch71",
        batch_per_gpu=128,
        d_steps=2,
        hflips=False,
    ),
    # ImageNet-LT (class-balancing classifier features; DiffAugment translation)
    _run(
        "ImageNet-LT/BigGAN/biggan_res64.json",
        "biggan64_ch64",
        batch_per_gpu=128,
        g_lr=1e-5,
        d_lr=1e-3,
        diffaugment="translation",
    ),
    _run(
        "ImageNet-LT/BigGAN/biggan_res128.json",
        "biggan128_ch64",
        batch_per_gpu=64,
        gpus=2,
        d_steps=2,
        diffaugment="translation",
    ),
    _run(
        "ImageNet-LT/BigGAN/biggan_res256.json",
        "biggan256_ch64",
        batch_per_gpu=16,
        gpus=8,
        d_steps=2,
        diffaugment="translation",
    ),
    _run(
        "ImageNet-LT/cc_IC-GAN/cc_icgan_res64.json",
        "cc_icgan64_ch64",
        batch_per_gpu=128,
        g_lr=1e-5,
        d_lr=1e-3,
        k=5,
        extractor="resnet50",
        diffaugment="translation",
    ),
    _run(
        "ImageNet-LT/cc_IC-GAN/cc_icgan_res128.json",
        "cc_icgan128_ch64",
        batch_per_gpu=64,
        gpus=2,
        d_steps=2,
        k=5,
        extractor="resnet50",
        diffaugment="translation",
    ),
    _run(
        "ImageNet-LT/cc_IC-GAN/cc_icgan_res256.json",
        "cc_icgan256_ch64",
        batch_per_gpu=16,
        gpus=8,
        d_steps=2,
        k=5,
        extractor="resnet50",
        diffaugment="translation",
    ),
    # COCO-Stuff (unlabelled; the unconditional baseline keeps the official 1000-row embeddings)
    _run(
        "COCO_Stuff/IC-GAN/icgan_res128_ddp.json",
        "icgan128_coco",
        batch_per_gpu=64,
        gpus=4,
        d_lr=4e-4,
        k=5,
        extractor="swav",
        feature_augmentation=True,
        diffaugment="translation",
    ),
    _run(
        "COCO_Stuff/IC-GAN/icgan_res256_ddp.json",
        "icgan256_coco",
        batch_per_gpu=16,
        gpus=16,
        k=5,
        extractor="swav",
        feature_augmentation=True,
        diffaugment="translation",
    ),
    _run(
        "COCO_Stuff/BigGAN/unconditional_biggan_res128.json",
        "biggan128_coco_uncond",
        {"num_classes": OFFICIAL_N_CLASSES},
        batch_per_gpu=64,
        gpus=4,
        d_lr=4e-4,
        d_steps=2,
        diffaugment="translation",
    ),
    _run(
        "COCO_Stuff/BigGAN/unconditional_biggan_res256.json",
        "biggan256_coco_uncond",
        {"num_classes": OFFICIAL_N_CLASSES},
        batch_per_gpu=16,
        gpus=16,
        d_steps=2,
        diffaugment="translation",
    ),
]

# (in, out) channel multipliers of the official G_arch / D_arch (BigGAN_PyTorch/BigGAN.py)
_G = {
    64: ([16, 16, 8, 4], [16, 8, 4, 2]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
}
_D = {  # in (after the image), out, downsample, resolution labels
    64: ([1, 2, 4, 8], [1, 2, 4, 8, 16], [True] * 4 + [False], [32, 16, 8, 4, 4]),
    128: ([1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 16], [True] * 5 + [False], [64, 32, 16, 8, 4, 4]),
    256: ([1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False], [128, 64, 32, 16, 8, 4, 4]),
}


def _conv(i: int, o: int, k: int = 3, bias: bool = True) -> int:
    return i * o * k * k + (o if bias else 0)


def _attention(c: int) -> int:
    # theta, phi: c -> c//8; g: c -> c//2; o: c//2 -> c (1x1, no bias); gamma
    return 2 * c * (c // 8) + c * (c // 2) + (c // 2) * c + 1


def official_param_count(
    resolution: int,
    ch: int,
    *,
    class_cond: bool,
    instance_cond: bool,
    attn: int,
    n_classes: int = OFFICIAL_N_CLASSES,
    dim_z: int = 120,
    shared_dim: int = 128,
    shared_dim_feat: int = 512,
    instance_sz: int = 2048,
    bottom_width: int = 4,
) -> dict[str, int]:
    """Parameters of the official G and D (``G_shared``, ``hier``, SN everywhere, wide D) for one config."""
    ins, outs = ([m * ch for m in a] for a in _G[resolution])
    slots = len(ins) + 1
    z_chunk = dim_z // slots
    bn_in = z_chunk + (shared_dim if class_cond else 0) + (shared_dim_feat if instance_cond else 0)
    g = n_classes * shared_dim  # G.shared: built whenever G_shared, used only when class_cond
    if instance_cond:
        g += instance_sz * shared_dim_feat + shared_dim_feat  # G.shared_feat (SN-Linear)
    g += z_chunk * ins[0] * bottom_width**2 + ins[0] * bottom_width**2  # first linear
    res = bottom_width
    for i, o in zip(ins, outs):
        res *= 2
        g += 2 * bn_in * i + 2 * bn_in * o  # two ccbn, gain and bias linear maps without bias
        g += _conv(i, o) + _conv(o, o) + _conv(i, o, 1)
        if res == attn:
            g += _attention(o)
    g += 2 * outs[-1] + _conv(outs[-1], 3)  # output BN (gain, bias) and conv
    d_in, d_out, down, labels = _D[resolution]
    d_in = [3] + [m * ch for m in d_in]
    d_out = [m * ch for m in d_out]
    d = 0
    for i, o, ds, r in zip(d_in, d_out, down, labels):
        d += _conv(i, o) + _conv(o, o)
        if i != o or ds:
            d += _conv(i, o, 1)
        if r == attn:
            d += _attention(o)
    c = d_out[-1]
    d += c + 1  # linear
    if class_cond and instance_cond:
        d += instance_sz * (c // 2) + c // 2 + n_classes * (c // 2)
    elif class_cond:
        d += n_classes * c
    elif instance_cond:
        d += instance_sz * c + c
    return {"G": g, "D": d, "total": g + d}


def official_counts(run: OfficialRun) -> dict[str, int]:
    """The official count for an :class:`OfficialRun` (architecture read from its preset)."""
    opts = {**PRESETS[run.preset].options, **run.options}
    attn = {int(a) for a in str(opts.get("g_attn", "64")).split("_")}
    return official_param_count(
        opts["resolution"],
        opts["ch"],
        class_cond=bool(opts.get("num_classes", 0)),
        instance_cond=bool(opts.get("feat_dim", 0)),
        attn=max(attn),
        n_classes=int(opts.get("num_classes") or OFFICIAL_N_CLASSES),
    )


def expected_difference(run: OfficialRun) -> dict[str, int]:
    """official - ours, per model: the unused class embedding of an unlabelled IC-GAN G built without it (a preset
    sets ``unused_class_embedding: 1000`` to build it, as every official one does), else 0."""
    opts = {**PRESETS[run.preset].options, **run.options}
    unlabelled_ic = bool(opts.get("feat_dim")) and not opts.get("num_classes")
    built = bool(opts.get("unused_class_embedding"))
    return {"G": UNUSED_EMBEDDING if unlabelled_ic and not built else 0, "D": 0}
