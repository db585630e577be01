"""Backbones and layers: ``build_backbone(name, **options) -> (G, D)``.

``G(z, y=None, feat=None) -> images`` and ``D(x, y=None, feat=None) -> dict(adv=(B,), [cls], [rot], [features])``
for every family; see :mod:`ganlab.core.nn.backbones` for the presets named after the papers' runs.
Classifiers (LeNet, CIFAR ResNet-20, the auto-encoder) live in :mod:`ganlab.core.nn.classifiers`.
"""

from ganlab.core.nn.backbones import (
    BACKBONES,
    FAMILIES,
    PRESETS,
    build_backbone,
    param_counts,
    preset_options,
    register_family,
    register_preset,
)
from ganlab.core.nn.base import Discriminator, Generator, count_parameters
from ganlab.core.nn.layers import (
    ConditionalBatchNorm2d,
    ConditionEmbedding,
    ProjectionHead,
    SelfAttention,
    init_weights,
    ortho_penalty,
    ortho_reg,
    spectral_norm,
)
from ganlab.core.nn.protocol import ContractError, as_discriminator, as_generator, check_models

__all__ = [
    "BACKBONES",
    "ContractError",
    "as_discriminator",
    "as_generator",
    "check_models",
    "FAMILIES",
    "PRESETS",
    "ConditionEmbedding",
    "ConditionalBatchNorm2d",
    "Discriminator",
    "Generator",
    "ProjectionHead",
    "SelfAttention",
    "build_backbone",
    "count_parameters",
    "init_weights",
    "ortho_penalty",
    "ortho_reg",
    "param_counts",
    "preset_options",
    "register_family",
    "register_preset",
    "spectral_norm",
]
