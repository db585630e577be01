"""The parts every suite method is made of (see :mod:`ganlab.benchmarks.parts` for the roles).

Each part calls its paper's package through that package's public API; nothing here re-implements a method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ganlab.benchmarks.parts import PARTS, Part
from ganlab.core.errors import ConfigError


def _deep_set(cfg: dict[str, Any], section: str, values: dict[str, Any]) -> None:
    cfg.setdefault(section, {})
    for k, v in values.items():
        if isinstance(v, dict) and isinstance(cfg[section].get(k), dict):
            cfg[section][k] = {**cfg[section][k], **v}
        else:
            cfg[section][k] = v


def _full(n: int, positions: np.ndarray | None, values: np.ndarray) -> np.ndarray:
    """Scores of a training view mapped back to full-dataset positions (NaN for instances the view left out)."""
    if positions is None:
        return np.asarray(values, dtype=np.float64)
    out = np.full(n, np.nan)
    out[positions] = values
    return out


# ---------------------------------------------------------------------------------------------- model parts
@PARTS.register("conditional")
class Conditional(Part):
    """A class-conditional G and a projection D: the setting's ``conditional`` model options."""

    name = "conditional"
    role = "model"
    needs = ("labels",)

    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        if not cell.ctx.spec.conditional:
            raise ConfigError(f"setting {cell.setting!r} defines no conditional model options")
        _deep_set(cfg, "model", {"options": dict(cell.ctx.spec.conditional)})


@dataclass
class ACGANOptions:
    class_weight: float = 1.0  # λ_c of the auxiliary classifier loss (Odena et al. 2017)


@PARTS.register("acgan")
class ACGAN(Part):
    """ACGAN: class input to G, a ``cls`` head on D and the auxiliary classifier loss (core ``loss.class_weight``)."""

    name = "acgan"
    role = "model"
    needs = ("labels",)
    Options = ACGANOptions

    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        Conditional().configure(cell, cfg)
        _deep_set(cfg, "model", {"options": {"acgan": True}})
        _deep_set(cfg, "loss", {"class_weight": self.options.class_weight})


# ----------------------------------------------------------------------------------------------- data parts
@dataclass
class SelectionOptions:
    retention_ratio: float = 50.0
    scorer: Literal["gaussian", "ppca", "knn", "uniform"] = "gaussian"
    per_class: bool = True


@PARTS.register("instance_selection")
class InstanceSelectionPart(Part):
    """Train on the instances instance selection keeps (embedding: the setting's in-domain extractor)."""

    name = "instance_selection"
    role = "data"
    module = "ganlab.instance_selection.api"
    Options = SelectionOptions

    def _selection(self, cell: Any) -> Any:
        from ganlab.instance_selection.api import SelectionConfig, select_instances

        o = self.options
        cfg = SelectionConfig(
            embedding=f"classifier:{cell.ctx.classifier_path}",
            scorer=o.scorer,
            retention_ratio=o.retention_ratio,
            per_class=o.per_class,
            seed=cell.seed,
        )
        return select_instances(cell.ctx.dataset, cfg, features=cell.ctx.features)

    def data(self, cell: Any, dataset: Any) -> Any:
        from ganlab.core.data import subset

        sel = self._selection(cell)
        cell.selection = sel
        return subset(dataset, np.sort(sel.indices))

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        sel = getattr(cell, "selection", None) or self._selection(cell)
        if sel.scores is None or self.options.scorer == "uniform":
            return {}
        return {f"instance_selection/{self.options.scorer}_density": np.asarray(sel.scores, dtype=np.float64)}


# ---------------------------------------------------------------------------------------------- train parts
@PARTS.register("topk")
class TopK(Part):
    """Top-k training (Sinha et al. 2020): G learns from the fakes D rates highest."""

    name = "topk"
    role = "train"

    def method(self, cell: Any) -> Any:
        from ganlab.core.train.topk import TopKMethod

        return TopKMethod()


@dataclass
class DiaGANPartOptions:
    phase1: float = 0.75  # phase 2 starts after this fraction of train.steps
    window: int = 20  # |T|
    record_every: int | None = None  # None: the window spans the second half of phase 1 (paper: 50 x 100 of 40k)
    k: float = 1.0
    aux_discriminator: bool = True

    def validate(self) -> None:
        if not 0 < self.phase1 < 1:
            raise ValueError(f"diagan.phase1 is a fraction of the steps in (0, 1), got {self.phase1}")


@PARTS.register("diagan")
class DiaGANPart(Part):
    """Dia-GAN: LDR diagnosis in phase 1, score-weighted sampling in phase 2 (DRS with the aux D is ``drs``)."""

    name = "diagan"
    role = "train"
    module = "ganlab.diagan.method"
    Options = DiaGANPartOptions

    def method(self, cell: Any) -> Any:
        from ganlab.diagan.method import DiaGAN, DiaGANOptions

        o = self.options
        phase1 = max(1, int(round(o.phase1 * int(cell.cfg.train.steps))))
        every = o.record_every or max(1, phase1 // (2 * o.window))
        return DiaGAN(
            DiaGANOptions(
                phase1_steps=phase1,
                window=o.window,
                record_every=every,
                k=o.k,
                aux_discriminator=o.aux_discriminator,
                eval_batch_size=512,
            )
        )

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        got = trained.trainer.method.instance_scores(trained.trainer) if trained.trainer is not None else None
        n = len(cell.ctx.dataset)
        return {f"diagan/{k}": _full(n, cell.positions, v) for k, v in (got or {}).items()}


# --------------------------------------------------------------------------------------------- sample parts
@dataclass
class DRSOptions:
    critic: Literal["D", "aux_d"] = "D"
    percentile: float = 80.0
    burn_in: int = 50


@PARTS.register("drs")
class DRS(Part):
    """Discriminator rejection sampling (Azadi et al. 2019) with the trained D or Dia-GAN's auxiliary D."""

    name = "drs"
    role = "sample"
    Options = DRSOptions

    def sample(self, cell: Any, trained: Any, n: int, seed: int) -> dict[str, Any]:
        from ganlab.core.sampling import generate_samples

        critic = trained.critic(self.options.critic)
        if critic is None:
            raise ConfigError(f"drs: the trained run has no {self.options.critic!r} model to use as the critic")
        opts = {"percentile": self.options.percentile, "burn_in": self.options.burn_in}
        return generate_samples(trained.G, n, drs_critic=critic, drs_options=opts, seed=seed, device=trained.device)


@dataclass
class GoldRejectionOptions:
    p: float = 0.1  # the percentile of eq. 6 (GOLD: 0.1 for 1-channel images, 0.5 for 3-channel)


@PARTS.register("gold_rejection")
class GoldRejection(Part):
    """GOLD rejection sampling (Mo et al. 2019, eq. 6) with the trained ACGAN's D: a class-balanced bank, n / classes
    samples of each class, class after class (its records' protocol says so)."""

    name = "gold_rejection"
    role = "sample"
    module = "ganlab.gold.rejection"
    needs = ("labels",)
    Options = GoldRejectionOptions
    conditioning = {"labels": "class_sequential"}

    def sample(self, cell: Any, trained: Any, n: int, seed: int) -> dict[str, Any]:
        from ganlab.benchmarks.integrations import gold_rejection

        return gold_rejection(trained.G, trained.critic("D"), n, self.options.p, seed)


# ------------------------------------------------------------------------------------ gold, icgan, multigan
@dataclass
class GoldPartOptions:
    reweight: bool = True  # False: the same semi-supervised ACGAN trainer without GOLD weights (its baseline)
    options: dict[str, Any] = field(default_factory=dict)  # more ganlab.gold options


@PARTS.register("gold")
class Gold(Part):
    """GOLD example re-weighting (eq. 5) on the ACGAN trainer of the gold package."""

    name = "gold"
    role = "train"
    module = "ganlab.gold.method"
    needs = ("labels",)
    Options = GoldPartOptions

    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        from ganlab.benchmarks.integrations import gold_configure

        gold_configure(cell, cfg, self.options)

    def method(self, cell: Any) -> Any:
        from ganlab.benchmarks.integrations import gold_method

        return gold_method(cell, self.options)

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        got = trained.trainer.method.instance_scores(trained.trainer) if trained.trainer is not None else None
        n = len(cell.ctx.dataset)
        return {f"gold/{k}": _full(n, cell.positions, v) for k, v in (got or {}).items()}


@dataclass
class ICGANPartOptions:
    k: int = 5  # neighbourhood size (paper: 50 on ImageNet, 5 on COCO / ImageNet-LT)
    stored: int = 100  # stored instances for sampling, by k-means (paper: 1000)
    options: dict[str, Any] = field(default_factory=dict)  # more ganlab.icgan options


@PARTS.register("icgan")
class ICGAN(Part):
    """IC-GAN: G and D conditioned on instance features; real images drawn from the instance's k neighbours."""

    name = "icgan"
    role = "train"
    module = "ganlab.icgan.method"
    needs = ("images",)
    Options = ICGANPartOptions
    draws_samples = True

    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        from ganlab.benchmarks.integrations import icgan_configure

        icgan_configure(cell, cfg, self.options)

    def method(self, cell: Any) -> Any:
        from ganlab.benchmarks.integrations import icgan_method

        return icgan_method(cell, self.options)

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        got = trained.trainer.method.instance_scores(trained.trainer) if trained.trainer is not None else None
        n = len(cell.ctx.dataset)
        return {f"icgan/{k}": _full(n, cell.positions, v) for k, v in (got or {}).items()}

    def sample(self, cell: Any, trained: Any, n: int, seed: int) -> dict[str, Any]:
        from ganlab.benchmarks.integrations import icgan_sample

        return icgan_sample(cell, trained, n, seed)


@dataclass
class MultiGANOptions:
    n_gans: int = 2
    transform: Literal["A_mu", "A_sigma", "B", "C"] = "B"
    options: dict[str, Any] = field(default_factory=dict)


@PARTS.register("multigan")
class MultiGAN(Part):
    """A boosted ensemble (Slim 2020, Algorithm 1): GAN i+1 trains on real data re-weighted by its distance to the
    previous GANs' samples; samples come from a generator chosen per batch."""

    name = "multigan"
    role = "ensemble"
    module = "ganlab.multigan_boosting.ensemble"
    needs = ("labels", "images")
    draws_samples = True
    Options = MultiGANOptions

    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        if not cell.ctx.spec.conditional:
            raise ConfigError(f"multigan needs the setting's conditional model options (setting {cell.setting!r})")
        _deep_set(cfg, "model", {"options": dict(cell.ctx.spec.conditional)})

    def train(self, cell: Any) -> Any:
        from ganlab.benchmarks.integrations import multigan_train

        return multigan_train(cell, self.options)

    def sample(self, cell: Any, trained: Any, n: int, seed: int) -> dict[str, Any]:
        from ganlab.benchmarks.integrations import multigan_sample

        return multigan_sample(trained, n, seed)

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        """Algorithm 1's sampling probability of each real instance for the last GAN (high: far from the previous
        GANs' samples of its class)."""
        last = cell.train_dir / f"weights_{int(self.options.n_gans) - 1}.npy"
        return {"multigan/weight": np.load(last).astype(np.float64)} if last.is_file() else {}
