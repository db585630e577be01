"""The backbone registry, the presets named after the papers' runs, and :func:`build_backbone`.

``BACKBONES`` holds one builder per family (``mlp``, ``dcgan``, ``acgan``, ``infogan``, ``sngan``, ``ssgan``,
``biggan``, ``sagan``, ``stylegan2``) and one per preset; a preset is a family plus option values, and options given
to :func:`build_backbone` override the preset's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ganlab.core.errors import ConfigError
from ganlab.core.nn.base import Discriminator, Generator, count_parameters
from ganlab.core.nn.biggan import BigGANConfig, build_biggan
from ganlab.core.nn.dcgan import (
    ACGANConfig,
    DCGANConfig,
    InfoGANConfig,
    MLPConfig,
    build_acgan,
    build_dcgan,
    build_infogan,
    build_mlp,
)
from ganlab.core.nn.layers import shapes_only
from ganlab.core.nn.mlp_image import MLPImageConfig, build_mlp_image
from ganlab.core.nn.sngan import SNGANConfig, build_sngan
from ganlab.core.nn.stylegan2 import StyleGAN2Config, build_stylegan2
from ganlab.core.registry import Registry

__all__ = [
    "BACKBONES",
    "FAMILIES",
    "PRESETS",
    "Family",
    "Preset",
    "build_backbone",
    "param_counts",
    "preset_options",
    "register_family",
    "register_preset",
]


@dataclass(frozen=True)
class Family:
    """A backbone family: its options dataclass, the builder, and family-level defaults over the dataclass."""

    name: str
    config: type
    build: Callable[[Any], tuple[Generator, Discriminator]]
    defaults: dict = field(default_factory=dict)
    doc: str = ""


@dataclass(frozen=True)
class Preset:
    """A named configuration of a family, after one of the papers' runs."""

    name: str
    family: str
    options: dict
    doc: str


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("mlp", MLPConfig, build_mlp, doc="toy MLP G/D (2-D mixtures)"),
        Family("dcgan", DCGANConfig, build_dcgan, doc="DCGAN / SNGAN-paper standard CNN, 28 or 32 px"),
        Family("mlp_image", MLPImageConfig, build_mlp_image, doc="fully connected G/D for small images (CPU suites)"),
        Family("acgan", ACGANConfig, build_acgan, doc="ACGAN G/D, 32 px (Dia-GAN MNIST, GOLD 3-channel) or 128 px"),
        Family("infogan", InfoGANConfig, build_infogan, doc="InfoGAN-style 1-channel G/D with class head (GOLD)"),
        Family("sngan", SNGANConfig, build_sngan, doc="SNGAN ResNet, 32/48/64/128 px (torch-mimicry)"),
        Family("ssgan", SNGANConfig, build_sngan, {"rotation_head": True}, doc="SNGAN ResNet + rotation head"),
        Family("biggan", BigGANConfig, build_biggan, doc="BigGAN, 32/64/128/256 px, class/instance conditioning"),
        Family(
            "sagan",
            BigGANConfig,
            build_biggan,
            {"shared": False, "hier": False, "z_dim": 128, "g_init": "xavier", "d_init": "xavier", "sn_eps": 1e-8},
            doc="SAGAN in BigGAN-PyTorch: per-layer class embeddings, no hierarchical z, xavier init",
        ),
        Family(
            "stylegan2",
            StyleGAN2Config,
            build_stylegan2,
            doc="StyleGAN2 (skip G, residual D), 32-1024 px, class/instance conditioning at the mapping input",
        ),
    ]
}

_PRESET_LIST = [
    # --- Instance Selection (DeVries et al. 2020), BigGAN-PyTorch launch scripts
    Preset(
        "sagan64_ch32_is",
        "sagan",
        {"resolution": 64, "ch": 32, "num_classes": 1000, "g_attn": "32", "d_attn": "32"},
        "Instance Selection §4.3-4.4: SAGAN 64x64 ImageNet, ch 32, attention at 32",
    ),
    Preset(
        "biggan128_ch64_is",
        "biggan",
        {
            "resolution": 128,
            "ch": 64,
            "num_classes": 1000,
            "z_dim": 120,
            "shared_dim": 128,
            "hier": True,
            "g_attn": "64",
            "d_attn": "64",
            "sn_eps": 1e-6,
        },
        "Instance Selection §4.6: BigGAN 128x128 ImageNet at half capacity (ch 64)",
    ),
    Preset(
        "biggan256_ch64_is",
        "biggan",
        {
            "resolution": 256,
            "ch": 64,
            "num_classes": 1000,
            "z_dim": 140,
            "shared_dim": 128,
            "hier": True,
            "g_attn": "64",
            "d_attn": "64",
            "sn_eps": 1e-6,
        },
        "Instance Selection launch script: BigGAN 256x256 ImageNet, ch 64, dim_z 140",
    ),
    Preset(
        "biggan64_ch64",
        "biggan",
        {"resolution": 64, "ch": 64, "num_classes": 1000, "z_dim": 120, "g_attn": "32", "d_attn": "32"},
        "BigGAN 64x64 ImageNet at ch 64 (the BigGAN / FQ-BigGAN row of Instance Selection Table 3; "
        "IC-GAN's class-conditional BigGAN baseline at 64)",
    ),
    # --- multi-GAN boosting (Slim 2020): the author's params.py
    Preset(
        "biggan32_cifar_multigan",
        "biggan",
        {
            "resolution": 32,
            "ch": 64,
            "num_classes": 10,
            "z_dim": 80,
            "shared_dim": 0,
            "hier": True,
            "g_attn": "0",
            "d_attn": "0",
            "sn_eps": 1e-8,
        },
        "multi-GAN boosting: BigGAN 32x32 CIFAR-10, ch 64, dim_z 80, hier, shared embedding of size dim_z",
    ),
    Preset(
        "biggan32_cifar",
        "biggan",
        {
            "resolution": 32,
            "ch": 64,
            "num_classes": 10,
            "z_dim": 128,
            "shared": False,
            "hier": False,
            "g_attn": "0",
            "d_attn": "0",
            "g_init": "N02",
            "d_init": "N02",
            "sn_eps": 1e-8,
        },
        "BigGAN-PyTorch launch_cifar_ema.sh: no shared embedding, no hier z, N(0, 0.02) init",
    ),
    # --- IC-GAN (Casanova et al. 2021): BigGAN backbone with instance (and class) conditioning
    Preset(
        "icgan64_ch64",
        "biggan",
        {
            "resolution": 64,
            "ch": 64,
            "num_classes": 0,
            "feat_dim": 2048,
            "z_dim": 120,
            "g_attn": "32",
            "d_attn": "32",
            "unused_class_embedding": 1000,
        },
        "IC-GAN 64x64 ImageNet (unlabelled; SwAV features), ch 64",
    ),
    Preset(
        "cc_icgan64_ch64",
        "biggan",
        {
            "resolution": 64,
            "ch": 64,
            "num_classes": 1000,
            "feat_dim": 2048,
            "z_dim": 120,
            "g_attn": "32",
            "d_attn": "32",
        },
        "class-conditional IC-GAN 64x64 ImageNet, ch 64",
    ),
    Preset(
        "icgan128_ch96",
        "biggan",
        {"resolution": 128, "ch": 96, "num_classes": 0, "feat_dim": 2048, "z_dim": 120, "unused_class_embedding": 1000},
        "IC-GAN 128x128 ImageNet, ch 96 (also the 'transf.' model of IC-GAN Table 2)",
    ),
    Preset(
        "icgan256_ch96",
        "biggan",
        {"resolution": 256, "ch": 96, "num_classes": 0, "feat_dim": 2048, "z_dim": 120, "unused_class_embedding": 1000},
        "IC-GAN 256x256 ImageNet, ch 96 (the 256 'transf.' model of IC-GAN Table 2)",
    ),
    Preset(
        "icgan128_coco",
        "biggan",
        {"resolution": 128, "ch": 48, "num_classes": 0, "feat_dim": 2048, "z_dim": 120, "unused_class_embedding": 1000},
        "IC-GAN 128x128 COCO-Stuff, ch 48",
    ),
    Preset(
        "icgan256_coco",
        "biggan",
        {"resolution": 256, "ch": 48, "num_classes": 0, "feat_dim": 2048, "z_dim": 120, "unused_class_embedding": 1000},
        "IC-GAN 256x256 COCO-Stuff, ch 48",
    ),
    Preset(
        "biggan128_coco_uncond",
        "biggan",
        {"resolution": 128, "ch": 48, "num_classes": 1, "constant_conditioning": True, "z_dim": 120},
        "IC-GAN's unconditional BigGAN baseline on COCO-Stuff 128 (labels set to zero), ch 48",
    ),
    Preset(
        "biggan256_coco_uncond",
        "biggan",
        {"resolution": 256, "ch": 48, "num_classes": 1, "constant_conditioning": True, "z_dim": 120},
        "IC-GAN's unconditional BigGAN baseline on COCO-Stuff 256 (labels set to zero), ch 48",
    ),
    # --- Dia-GAN (Lee et al. 2021): torch-mimicry backbones and its MNIST DCGAN
    Preset(
        "sngan32_cifar",
        "sngan",
        {"resolution": 32, "z_dim": 128, "ngf": 256, "ndf": 128},
        "Dia-GAN CIFAR-10: mimicry SNGAN 32 (nz 128, ngf 256, ndf 128)",
    ),
    Preset(
        "ssgan32_cifar",
        "ssgan",
        {"resolution": 32, "z_dim": 128, "ngf": 256, "ndf": 128},
        "Dia-GAN CIFAR-10: mimicry SSGAN 32 (SNGAN 32 + rotation head)",
    ),
    Preset(
        "sngan64_celeba",
        "sngan",
        {"resolution": 64, "z_dim": 128, "ngf": 1024, "ndf": 1024},
        "Dia-GAN CelebA 64x64: mimicry SNGAN 64 (ngf = ndf = 1024)",
    ),
    Preset(
        "dcgan32_diagan_mnist",
        "acgan",
        {"channels": 1, "z_dim": 100, "num_classes": 0, "sn": False, "dropout": 0.5},
        "Dia-GAN MNIST-FMNIST: ACGAN-style CIFAR DCGAN, 1 channel, D with dropout 0.5 and BN, no SN",
    ),
    Preset(
        "dcgan32_diagan_colored_mnist",
        "acgan",
        {"channels": 3, "z_dim": 100, "num_classes": 0, "sn": False, "dropout": 0.5},
        "Dia-GAN Colored MNIST: the same DCGAN with 3 channels",
    ),
    Preset(
        "toy_mlp",
        "mlp",
        {"data_dim": 2, "z_dim": 2, "width": 256, "depth": 3, "num_classes": 0},
        "Dia-GAN 25 Gaussians: MLP G/D, nz 2, 3 x 256 ReLU, no SN",
    ),
    # --- StyleGAN2 (Karras et al. 2020): a CPU-sized preset, Dia-GAN's FFHQ model, IC-GAN's COCO-Stuff models
    Preset(
        "stylegan2_32_cpu",
        "stylegan2",
        {"resolution": 32, "z_dim": 64, "w_dim": 64, "mapping_layers": 2, "channel_base": 1024, "channel_max": 64},
        "StyleGAN2 at 32 px and CPU size (w 64, 2 mapping layers, 64/64/64/32 channels at 4/8/16/32 px)",
    ),
    Preset(
        "stylegan2_ffhq256_diagan",
        "stylegan2",
        {"resolution": 256, "channel_base": 32768, "channel_max": 512, "mapping_layers": 8},
        "Dia-GAN FFHQ 256: the community PyTorch port's defaults (channel multiplier 2, n_mlp 8, style dim 512)",
    ),
    Preset(
        "stylegan2_256",
        "stylegan2",
        {"resolution": 256, "channel_base": 32768, "channel_max": 512, "mapping_layers": 8},
        "StyleGAN2 at 256 with the community PyTorch port's defaults (the name diagan's Table 3 config uses; "
        "same network as stylegan2_ffhq256_diagan)",
    ),
    Preset(
        "stylegan2_coco128_uncond",
        "stylegan2",
        {"resolution": 128, "channel_base": 16384, "channel_max": 512, "mapping_layers": 2},
        "IC-GAN's unconditional StyleGAN2 baseline, COCO-Stuff 128 (StyleGAN2-ADA 'auto' config: fmaps 0.5, map 2)",
    ),
    Preset(
        "stylegan2_coco256_uncond",
        "stylegan2",
        {"resolution": 256, "channel_base": 16384, "channel_max": 512, "mapping_layers": 2},
        "IC-GAN's unconditional StyleGAN2 baseline, COCO-Stuff 256 (StyleGAN2-ADA 'auto' config: fmaps 0.5, map 2)",
    ),
    Preset(
        "icgan_stylegan2_coco128",
        "stylegan2",
        {"resolution": 128, "channel_base": 16384, "channel_max": 512, "mapping_layers": 2, "feat_dim": 2048},
        "IC-GAN COCO-Stuff 128 on StyleGAN2-ADA ('auto'): instance feature (2048) embedded to 512 at the mapping input",
    ),
    Preset(
        "icgan_stylegan2_coco256",
        "stylegan2",
        {"resolution": 256, "channel_base": 16384, "channel_max": 512, "mapping_layers": 2, "feat_dim": 2048},
        "IC-GAN COCO-Stuff 256 on StyleGAN2-ADA ('auto'): instance feature (2048) embedded to 512 at the mapping input",
    ),
    # --- GOLD (Mo et al. 2019)
    Preset(
        "toy_mlp_gold",
        "mlp",
        {
            "data_dim": 2,
            "z_dim": 2,
            "width": 512,
            "depth": 3,
            "num_classes": 2,
            "acgan": True,
            "init": "N02",
            "zero_bias": True,
        },
        "GOLD synthetic: width 512, 3 hidden, G reads z ⊕ onehot(y), D adv + class heads, no SN (the reference's "
        "SN flag is a no-op; sn=true gives an SN variant), N(0, 0.02) weights and zero biases",
    ),
    Preset(
        "acgan_mnist_gold",
        "infogan",
        {"resolution": 32, "channels": 1, "z_dim": 100, "num_classes": 10, "sn": True},
        "GOLD MNIST / FMNIST: InfoGAN-style 1-channel G/D, SN on the D convs, adv + class heads",
    ),
    Preset(
        "acgan_cifar_gold",
        "acgan",
        {"channels": 3, "z_dim": 100, "num_classes": 10, "sn": True, "acgan": True},
        "GOLD CIFAR-10 / SVHN: ACGAN CIFAR G/D, SN on every D conv, adv + class heads",
    ),
    Preset(
        "acgan128_gold",
        "acgan",
        {"resolution": 128, "channels": 3, "z_dim": 100, "num_classes": 10, "sn": True, "acgan": True},
        "GOLD Imagenette / Imagewoof 128: the ImageNet ACGAN G/D, SN on every D conv, adv + class heads",
    ),
]
PRESETS: dict[str, Preset] = {p.name: p for p in _PRESET_LIST}

BACKBONES: Registry[Callable[..., tuple[Generator, Discriminator]]] = Registry("backbone")


def _builder(family: str, preset: dict | None, doc: str) -> Callable[..., tuple[Generator, Discriminator]]:
    def build(**options: Any) -> tuple[Generator, Discriminator]:
        return _build_family(family, {**(preset or {}), **options})

    build.__doc__ = doc
    return build


for _name, _fam in FAMILIES.items():
    BACKBONES.register(_name)(_builder(_name, None, _fam.doc))
for _p in _PRESET_LIST:
    BACKBONES.register(_p.name)(_builder(_p.family, _p.options, _p.doc))


def register_family(family: Family) -> None:
    """Add a backbone family (e.g. StyleGAN2 in a later release) to ``FAMILIES`` and ``BACKBONES``."""
    if family.name in FAMILIES:
        raise ConfigError(f"backbone family {family.name!r} is registered twice")
    FAMILIES[family.name] = family
    BACKBONES.register(family.name)(_builder(family.name, None, family.doc))


def register_preset(preset: Preset) -> None:
    """Add a named configuration of a registered family to ``PRESETS`` and ``BACKBONES``."""
    if preset.family not in FAMILIES:
        raise ConfigError(f"preset {preset.name!r} names unknown family {preset.family!r}; register it first")
    if preset.name in PRESETS:
        raise ConfigError(f"backbone preset {preset.name!r} is registered twice")
    PRESETS[preset.name] = preset
    BACKBONES.register(preset.name)(_builder(preset.family, preset.options, preset.doc))


def _build_family(family: str, options: dict) -> tuple[Generator, Discriminator]:
    fam = FAMILIES[family]
    fields = {f.name for f in dataclasses.fields(fam.config)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ConfigError(
            f"backbone family {family!r} has no option(s) {', '.join(map(repr, unknown))}; "
            f"valid options: {', '.join(sorted(fields))}"
        )
    cfg = fam.config(**{**fam.defaults, **options})
    return fam.build(cfg)


def preset_options(name: str) -> tuple[str, dict]:
    """(family, options) a backbone name stands for; a family name maps to itself with no options."""
    BACKBONES.get(name)  # RegistryError with the closest names for an unknown one
    if name in PRESETS:
        return PRESETS[name].family, dict(PRESETS[name].options)
    return name, {}


def build_backbone(name: str, **options: Any) -> tuple[Generator, Discriminator]:
    """Build ``(G, D)`` for a preset or family ``name``; ``options`` override the preset's fields.

    Raises RegistryError for an unknown name and ConfigError for an unknown option or an unsupported resolution.

    >>> G, D = build_backbone("sngan32_cifar")
    >>> G, D = build_backbone("biggan", resolution=64, ch=16, num_classes=10)
    """
    return BACKBONES.get(name)(**options)


def param_counts(model: str | tuple[nn.Module, nn.Module], **options: Any) -> dict[str, int]:
    """Trainable parameter counts ``{"G": ..., "D": ..., "total": ...}`` of a backbone name or a (G, D) pair.

    A name is built on the meta device (shapes only, no memory, no init), so full-size models count instantly.
    """
    if isinstance(model, str):
        with shapes_only():
            g, d = build_backbone(model, **options)
    else:
        g, d = model
    n_g, n_d = count_parameters(g), count_parameters(d)
    return {"G": n_g, "D": n_d, "total": n_g + n_d}
