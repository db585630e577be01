"""How the parts of GOLD, IC-GAN and the multi-GAN ensemble call their packages (imported only when used, so
a suite without them loads without them)."""

from __future__ import annotations

from typing import Any

import torch

from ganlab.core.errors import ConfigError

__all__ = [
    "gold_configure",
    "gold_method",
    "gold_rejection",
    "icgan_configure",
    "icgan_method",
    "icgan_sample",
]


# ---------------------------------------------------------------------------------------------------------- GOLD
def gold_configure(cell: Any, cfg: dict[str, Any], options: Any) -> None:
    """GOLD trains an ACGAN: the setting's backbone with class input to G and a class head on D, NS loss."""
    if not cell.ctx.spec.conditional:
        raise ConfigError(f"gold needs the setting's conditional model options (setting {cell.setting!r} has none)")
    opts = cfg.setdefault("model", {}).setdefault("options", {})
    opts.update({**cell.ctx.spec.conditional, "acgan": True})
    cfg.setdefault("loss", {})["name"] = "ns"  # GOLD's marginal term is the logit of a non-saturating D


def gold_method(cell: Any, options: Any) -> Any:
    """The gold package's semi-supervised ACGAN trainer (every item labelled), re-weighting from half the steps."""
    from ganlab.gold.method import Gold
    from ganlab.gold.options import GoldOptions

    extra = {"holdout": 0, "test_split": None, "eval_every": 0, **dict(options.options)}
    opts = GoldOptions(reweight=bool(options.reweight), **extra)
    opts.validate()
    return Gold(opts)


def gold_rejection(G: Any, D: Any, n: int, p: float, seed: int) -> dict[str, torch.Tensor]:
    """``n`` class-balanced samples accepted by GOLD's rejection (eq. 6); the statistics from 10 n proposals."""
    from ganlab.gold.rejection import gold_rejection_sample

    if D is None:
        raise ConfigError("gold_rejection needs the trained ACGAN's D")
    device = next(G.parameters()).device
    res = gold_rejection_sample(G, D.eval(), n, p=p, n_stats=10 * n, seed=seed, device=device)
    return {
        "image": res.images,
        "label": torch.as_tensor(res.labels),
        "drs_acceptance": torch.tensor(res.acceptance_rate),
    }


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
