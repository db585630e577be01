"""The experiment section of an IC-GAN reproduction (``experiment:`` of ``configs/*.yaml``): the protocol as IC-GAN
states it (network, resize, counts, draws, checkpoint rule, stored instances, sweeps), the same protocol as core's
:class:`~ganlab.core.evaluation.EvalProtocol` (:func:`eval_protocol`: the harness's checkpoint rule, the words of
``ganlab repro show``, the ``eval_*`` columns), and the trained arm the evaluation reads (:class:`Trained`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.repro_harness import Arm as HarnessArm
from ganlab.icgan import evaluate as ev


@dataclass
class Arm(HarnessArm):
    """One trained variant: its method (``icgan``, or ``icgan_baseline`` for the BigGAN baselines) and config delta."""

    name: str = "icgan"
    # True: the arm trains on its own run.data (e.g. ImageNet) and samples from the experiment dataset's instances
    # ("IC-GAN (BigGAN, transf.)" of Table 2)
    transfer: bool = False


@dataclass
class ClassifierSpec:
    arch: str = "lenet"
    epochs: int = 10
    seed: int = 0


@dataclass
class Protocol:
    kind: Literal["compare", "figure4", "figure1"] = "compare"
    arms: list[Arm] = field(default_factory=lambda: [Arm()])
    seeds: list[int] = field(default_factory=lambda: [0])
    metrics: list[str] = field(default_factory=lambda: ["fid", "precision", "recall", "density", "coverage"])
    extractor: str = "inception"  # evaluation network; classifier:auto = an in-domain classifier trained here
    extractor_options: dict[str, Any] = field(default_factory=dict)
    eval_classifier: ClassifierSpec = field(default_factory=ClassifierSpec)
    n_fake: int | str = 50000  # or "reference": as many samples as each reference split has images
    n_real: int | None = None
    n_prdc: int | None = None  # P/R/D/C on n_prdc real (drawn by reference_draw) and the first n_prdc fake features
    reference_draw: str = "random"  # first | random | all (random: seeded by reference_seed, as the official)
    reference_seed: int = 0
    transform_input: bool = False  # torchvision Inception only: False as BigGAN-PyTorch's (PyTorch FID) network
    resize: str = "extractor"  # extractor | tf_bilinear (the TF graph's resize of the paper's TF FID / IS)
    resize_size: int | None = 299
    instance_draw: str = "uniform"  # uniform | class_balanced (a uniform class, then one of its instances)
    label_draw: str = "uniform"  # a class-conditional baseline's labels: uniform | train_distribution
    instance_set: str = "train"  # train | reference: extra reference splits sampled from their own images
    checkpoint: str = "last"  # last | best (the G_ema with the best training FID, every best_every steps)
    best_every: int = 5000
    best_n_fake: int = 10000
    reference_split: str | None = None  # None: the training split (the official training monitor)
    stored: int = 1000
    selection: Literal["kmeans", "random", "all"] = "kmeans"
    sample_seeds: list[int] = field(default_factory=lambda: [0])  # the paper: five noise seeds per model
    lpips_pairs: int = 0
    stratified: bool = False  # FID per ImageNet-LT class group
    # figure4
    ks: list[int] = field(default_factory=lambda: [5, 50])
    stored_sweep: list[int] = field(default_factory=lambda: [100, 1000])
    selections: list[str] = field(default_factory=lambda: ["kmeans", "random"])
    # figure1
    sheet_rows: int = 8
    per_instance: int = 3
    swap_classes: list[int] = field(default_factory=list)
    transfer: dict[str, Any] | None = None  # a dataset {name, resolution, options} whose images condition G
    transfer_n: int = 500
    eval_batch_size: int = 256
    # more FID references from the same dataset: [{tag, split, options}] (COCO-Stuff eval / seen / unseen)
    extra_references: list[dict[str, Any]] = field(default_factory=list)

    def validate(self) -> None:
        from ganlab.core.features.resize import RESIZES

        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")
        ev.check_metrics(self.metrics)
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ConfigError(f"arm names must be unique, got {names}")
        for value, choices, what in (
            (self.reference_draw, ev.REFERENCE_DRAWS, "reference_draw"),
            (self.resize, RESIZES, "resize"),
            (self.instance_draw, ev.INSTANCE_DRAWS, "instance_draw"),
            (self.label_draw, ev.LABEL_DRAWS, "label_draw"),
            (self.instance_set, ev.INSTANCE_SETS, "instance_set"),
            (self.checkpoint, ev.CHECKPOINTS, "checkpoint"),
        ):
            ev.check_choice(value, choices, what)
        if isinstance(self.n_fake, str) and self.n_fake != "reference":
            raise ConfigError(f"experiment.n_fake must be a number or 'reference', got {self.n_fake!r}")
        if self.checkpoint == "best" and (self.best_every < 1 or self.best_n_fake < 2):
            raise ConfigError("checkpoint: best needs best_every >= 1 and best_n_fake >= 2")


@dataclass
class ReproConfig:
    experiment: Protocol = field(default_factory=Protocol)
    run: dict[str, Any] = field(default_factory=dict)


TORCHVISION_INCEPTIONS = ("inception_torchvision", "random:inception")
OWN_RESIZE = {"inception": "clean", "inception_torchvision": "torchvision", "random:inception": "torchvision"}


@dataclass
class Trained:
    trainer: Any
    best_G: torch.nn.Module | None = None  # checkpoint: best (None: the last G_ema)
    best: dict[str, Any] | None = None

    @property
    def G(self) -> torch.nn.Module:
        return (self.best_G if self.best_G is not None else self.trainer.G_ema).eval()

    @property
    def method(self) -> Any:
        return self.trainer.method

    @property
    def is_icgan(self) -> bool:
        return getattr(self.trainer.method, "name", "") in ("icgan", "icgan_stylegan2")


def trained(trainer: Any, G: Any = None) -> Trained:
    """A finished trainer with its best-FID generator (``G``: already loaded) when it kept one."""
    sel = getattr(trainer, "best", None)
    if sel is None or sel.best_step is None or G is trainer.G_ema:
        return Trained(trainer)
    if G is None:
        from ganlab.core.train.checkpoint import load_generator

        G = load_generator(sel.path, trainer.device)[0]
    m = sel.metric
    info = {
        "best_step": int(sel.best_step),
        f"best_{m}_train": float(sel.best_value),
        "last_eval_step": sel.last_step,
        f"last_{m}_train": sel.last_value,
    }
    return Trained(trainer, G, info)


def extractor_options(p: Any) -> dict[str, Any]:
    """The evaluation network's options; ``transform_input`` goes to torchvision's Inception only."""
    opts = dict(p.extractor_options)
    if p.extractor in TORCHVISION_INCEPTIONS:
        opts["transform_input"] = bool(p.transform_input)
    return opts


def eval_extractor(p: Any, name: str | None = None, **extra: Any) -> Any:
    """The evaluation network of protocol ``p`` (``name`` resolved, e.g. ``classifier:auto``), behind the
    protocol's resize."""
    from ganlab.core.features.resize import resized_extractor
    from ganlab.icgan.features import resolve_extractor

    ext = resolve_extractor(name or p.extractor, {**extractor_options(p), **extra})
    return resized_extractor(ext, p.resize, p.resize_size)


def protocol_fields(p: Any) -> dict[str, Any]:
    """The protocol choices every record carries (named as the fields of the experiment section)."""
    return {
        "transform_input": bool(p.transform_input) if p.extractor in TORCHVISION_INCEPTIONS else None,
        "resize_rule": p.resize,
        "reference_draw": p.reference_draw,
        "instance_draw": p.instance_draw,
        "label_draw": p.label_draw,
        "n_fake_rule": str(p.n_fake),
        "instance_set": p.instance_set,
        "checkpoint": p.checkpoint,
    }


def eval_protocol(cfg: Any) -> Any:
    """The experiment section ``cfg.experiment`` stated as core's EvalProtocol (words, ``eval_*`` columns, and the
    harness's checkpoint rule)."""
    from ganlab.core.evaluation.protocol import EvalProtocol

    p = cfg.experiment
    own = OWN_RESIZE.get(p.extractor, "none")
    tf = p.resize == "tf_bilinear"
    data_split = (cfg.run.get("data") or {}).get("split") or "train"
    best = p.checkpoint == "best"
    # P/R/D/C use min(n_prdc, N real, N fake) of each (evaluate_run); the counts known before the data is read
    known = [n for n in (p.n_prdc, p.n_real, p.n_fake) if isinstance(n, int)]
    n_prdc = min(known) if p.n_prdc is not None and known else None
    metrics = [m for m in ("fid", "is") if m in p.metrics]
    if any(m in p.metrics for m in ("precision", "recall", "density", "coverage")):
        metrics.append("prdc")
    out = from_dict(
        EvalProtocol,
        {
            "metrics": metrics,
            "network": {
                "name": p.extractor,
                "transform_input": bool(p.transform_input) if p.extractor in TORCHVISION_INCEPTIONS else None,
                "options": dict(p.extractor_options),
            },
            "resize": {"method": "tf_bilinear" if tf else own, "size": p.resize_size if tf or own != "none" else None},
            "n_fake": p.n_fake,
            "reference": {
                "split": p.reference_split or data_split,
                "n": p.n_real,
                "draw": "random" if p.n_real is not None else "all",  # ev.real_features: seed 0
            },
            "prdc": {"k": 5, "n_real": n_prdc, "n_fake": n_prdc, "seed": p.reference_seed},
            "conditioning": {"labels": p.label_draw, "instances": p.instance_draw},
            "checkpoint": {
                "choice": p.checkpoint,
                "metric": "fid",
                "every": p.best_every if best else 0,
                "n_fake": p.best_n_fake if best else None,
            },
            "batch_size": p.eval_batch_size,
        },
        where="experiment (as an evaluation protocol)",
    )
    return out
