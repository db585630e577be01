"""How the parts of GOLD, IC-GAN and the multi-GAN ensemble call their packages (imported only when used, so
a suite without them loads without them)."""

from __future__ import annotations

from typing import Any

import torch

from ganlab.core.errors import ConfigError

__all__ = ["icgan_configure", "icgan_method", "icgan_sample"]


# -------------------------------------------------------------------------------------------------------- IC-GAN
def icgan_configure(cell: Any, cfg: dict[str, Any], options: Any) -> None:
    """The setting's backbone, instance-conditioned: G reads the instance feature (z ⊕ h), D projects on it."""
    if cell.ctx.spec.protocol.extractor is None:
        raise ConfigError("icgan needs an image setting with a feature extractor for its instance features")
    dim = int(cell.ctx.features.shape[1])
    cfg.setdefault("model", {}).setdefault("options", {})["feat_dim"] = dim


def icgan_method(cell: Any, options: Any) -> Any:
    """IC-GAN on the core trainer, its instance features from the setting's extractor (on the training view)."""
    from ganlab.icgan.method import ICGAN, ICGANOptions

    opts = ICGANOptions(extractor=cell.ctx.extractor_name, k=int(options.k), **dict(options.options))
    return ICGAN(opts)


def icgan_sample(cell: Any, trained: Any, n: int, seed: int) -> dict[str, torch.Tensor]:
    """Samples conditioned on stored instances (k-means over the training features, the nearest real instance per
    centroid; IC-GAN's evaluation protocol)."""
    from ganlab.icgan.generate import generate
    from ganlab.icgan.instances import select_instances

    method = trained.trainer.method
    feats = method.features
    stored = select_instances(feats, min(int(cell.parts.one("train").options.stored), len(feats.raw)), seed=seed)
    return generate(trained.G, stored, n, seed=seed, device=trained.device)
