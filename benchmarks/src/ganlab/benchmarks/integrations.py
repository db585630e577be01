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
    "multigan_sample",
    "multigan_train",
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


# ----------------------------------------------------------------------------------------------------- multi-GAN
def multigan_train(cell: Any, options: Any) -> Any:
    """The boosted sequence (Slim 2020, Algorithm 1) on the setting's class-conditional model: GAN 0 is the plain
    conditional GAN, GAN i+1 trains on the real set re-weighted by its distance to the previous GANs' samples.
    φ is the setting's in-domain classifier's features (the paper: its filter ResNet-20 trained on real CIFAR-10;
    here the setting's own classifier plays that role, so the suite needs no second network)."""
    from ganlab.benchmarks.trained import Trained
    from ganlab.core.features.classifier import load_classifier
    from ganlab.multigan_boosting.boost import selected_generator, train_boosted
    from ganlab.multigan_boosting.ensemble import Ensemble

    if cell.ctx.spec.protocol.extractor is None or cell.ctx.spec.protocol.extractor.name is not None:
        raise ConfigError("multigan needs an image setting with an in-domain classifier (its φ for Algorithm 1)")
    feature_net, _ = load_classifier(cell.ctx.classifier_path)
    runs = train_boosted(
        cell.cfg,
        int(options.n_gans),
        cell.train_dir,
        feature_net,
        options.transform,
        dataset=cell.ctx.dataset,
        **dict(options.options),
    )
    gens = [selected_generator(r) for r in runs]
    return Trained(G=gens[0], models={"ensemble": Ensemble(gens, seed=cell.seed)}, trainer=None)


def multigan_sample(trained: Any, n: int, seed: int, batch_size: int = 100) -> dict[str, torch.Tensor]:
    """``n`` samples, a generator of the ensemble chosen uniformly per generated batch, labels uniform."""
    ens = trained.models["ensemble"]
    ens.reseed(seed)
    gen = torch.Generator().manual_seed(int(seed))
    images, labels = [], []
    with torch.no_grad():
        for s in range(0, n, batch_size):
            k = min(batch_size, n - s)
            G = ens.pick()
            y = torch.randint(0, ens.num_classes, (k,), generator=gen)
            z = torch.randn(k, G.z_dim, generator=gen)
            dev = next(G.parameters()).device
            images.append(G(z.to(dev), y=y.to(dev)).float().cpu())
            labels.append(y)
    return {"image": torch.cat(images), "label": torch.cat(labels)}
