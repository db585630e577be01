"""Reproductions of the GOLD paper's tables and figures (``ganlab repro run gold/EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/``: ``experiment`` (what is GOLD's own: kind, variants, seeds,
rejection and FID settings) and ``run`` (a core training config with ``method.name: gold``), plus ``scales:``
deltas. They run on :mod:`ganlab.core.repro_harness` (resumable per (arm, seed), a failing pair isolated); the FID
settings are declared to it as a core :class:`~ganlab.core.evaluation.protocol.EvalProtocol`. Kinds:

- ``reweight`` (Tables 1, 2, 6; Figures 1, 2): arms baseline (loss (1)) and GOLD re-weighting (loss (5)), per label
  fraction; the GOLD run starts from the baseline's checkpoint at the re-weighting epoch (the two runs are the same
  until then); fitting capacity of each final G on the real test set.
- ``rejection`` (Tables 3, 4, 5, 7): one baseline G per seed, then a fixed bank of 50,000 samples drawn at random or
  by GOLD rejection (one per p); fitting capacity (and FID) of each bank (:func:`ganlab.gold.rejection.evaluate_banks`).
- ``active`` (Figures 3, 4): active learning with GOLD and random queries per trial (one arm per query).
- ``unstable`` (Figure 6): 10 labelled samples, no unlabelled data; FID every ``fid_every`` epochs.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganlab.core.config import from_dict, load_config, save_config, to_dict
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import ConditioningSpec, EvalProtocol, NetworkSpec, ResizeSpec
from ganlab.core.repro import Experiment, experiments
from ganlab.core.repro_harness import Arm, Harness, Hooks, ReproSpec
from ganlab.core.results import RunDir
from ganlab.core.train.config import ExperimentConfig
from ganlab.gold.options import GoldOptions, ProtocolConfig

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class ReproConfig:
    experiment: ProtocolConfig = field(default_factory=ProtocolConfig)
    run: ExperimentConfig = field(default_factory=ExperimentConfig)


def load_repro_config(path: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    cfg = load_config(ReproConfig, path, overrides, scale)
    if cfg.run.method.name != "gold":
        raise ConfigError(f"run.method.name must be 'gold' in a GOLD reproduction, not {cfg.run.method.name!r}")
    from_dict(GoldOptions, dict(cfg.run.method.options), where="run.method.options")  # validate early
    return cfg


# ------------------------------------------------------------------------------------------ the harness spec
@dataclass
class GoldArm(Arm):
    """One trained run: ``variant`` baseline / gold (re-weighting), or an active-learning query."""

    variant: str = "baseline"  # the label fraction, when there are several: info["label_fraction"]


@dataclass
class GoldSpec(ReproSpec):
    experiment: ProtocolConfig = field(default_factory=ProtocolConfig)  # seeds and variants: in seeds and arms
    arms: list[GoldArm] = field(default_factory=lambda: [GoldArm("baseline")])


def eval_protocol(p: ProtocolConfig) -> EvalProtocol:
    """The FID settings as core's protocol: the network ``fid_extractor`` names, ``fid_n`` fakes drawn with uniform
    labels (a rejection bank is scored whole: ``n_bank`` fakes, ``n_bank / num_classes`` of each class in class
    order), every real training image, the last generator."""
    if p.fid_extractor == "lenet_indomain":  # LeNet-32 reads images resized (bilinear, antialiased) to 32 px
        resize = ResizeSpec("torchvision", 32)
    elif p.fid_extractor == "inception":
        resize = ResizeSpec()  # clean-fid's resize to 299
    else:
        resize = ResizeSpec("none", None)  # the registered network's own preprocessing
    fid = p.fid or p.kind == "unstable"
    network = NetworkSpec(name=p.fid_extractor, options=dict(p.fid_extractor_options))
    bank = p.kind == "rejection"
    return EvalProtocol(
        metrics=["fid"] if fid else [],
        network=network,
        resize=resize,
        n_fake=p.n_bank if bank else p.fid_n,
        conditioning=ConditioningSpec(labels="class_sequential" if bank else "uniform"),
    )


def harness_spec(cfg: ReproConfig) -> GoldSpec:
    """The arms: per label fraction the baseline (first: GOLD continues its checkpoint) and the GOLD run; one baseline
    (rejection); one arm per query (active)."""
    p = cfg.experiment
    if p.kind == "rejection":
        arms = [GoldArm("baseline", run={"method": {"options": {"reweight": False}}})]
    elif p.kind == "active":
        arms = [GoldArm(q, variant=q) for q in p.variants]
    else:
        arms = []
        for frac in p.label_fractions or [None]:
            extra = {} if frac is None else {"label_fraction": float(frac)}  # also the arm's info column
            for v in sorted(p.variants, key=lambda v: v != "baseline"):
                name = v if frac is None else f"{v}_label_fraction{frac:g}"
                opts = {**extra, "reweight": v == "gold"}
                arms.append(GoldArm(name, run={"method": {"options": opts}}, info=extra, variant=v))
    own = dataclasses.replace(p, seeds=[], variants=[])
    return GoldSpec(eval_protocol(p), arms, list(p.seeds), to_dict(cfg.run), own)


class GoldHooks(Hooks):
    """GOLD's steps in the harness: epochs as steps, the GOLD run continuing the baseline's checkpoint, FID during
    training (Figure 6), fitting capacity and FID per run or per rejection bank, the active-learning loop, figures."""

    def __init__(self, cfg: ReproConfig) -> None:
        self.cfg, self.p = cfg, cfg.experiment
        p = self.p
        self.share = p.kind == "reweight" and p.share_first_half and {"baseline", "gold"} <= set(p.variants)
        self.test: Any = None
        self.fid: Any = None
        self.trainers: dict[tuple[str, int], Any] = {}  # the runs evaluated in this process (figures)
        self.curves: dict[str, dict[str, list]] = {"gold": {}, "capacity": {}, "fid": {}}

    def setup(self, h: Harness) -> None:
        from ganlab.gold.evaluation import fid_for, test_set

        if self.p.runs_dir:  # reuse another experiment's finished runs of the same config
            h.runs_dir = Path(self.p.runs_dir)
        if self.p.kind != "active":
            self.test = test_set(h.run_cfg, h.dataset, from_dict(GoldOptions, dict(h.run_cfg.method.options)))
        if self.p.fid or self.p.kind == "unstable":
            self.fid = fid_for(self.p, h.dataset, h.run_dir.path)

    def configure(self, h: Harness, arm: GoldArm, seed: int, cfg: ExperimentConfig) -> Any:
        from ganlab.gold.method import resolve_steps

        cfg.train.steps = resolve_steps(cfg, h.dataset)
        return None

    def kept(self, h: Harness, arm: GoldArm, seed: int, cfg: ExperimentConfig) -> Path | None:
        """The baseline's checkpoint at the re-weighting start, which the GOLD run of the same fraction continues."""
        from ganlab.gold.method import reweight_start_step

        start = reweight_start_step(cfg, h.dataset)
        if not (self.share and 0 < start < cfg.train.steps):
            return None
        return h.runs_dir / f"baseline{arm.name[len(arm.variant) :]}_seed{seed}" / f"keep_step{start}.pt"

    def trainer_options(self, h: Harness, arm: GoldArm, seed: int, cfg: ExperimentConfig) -> dict[str, Any]:
        return {"init_from": self.kept(h, arm, seed, cfg)} if arm.variant == "gold" else {}

    def fit(self, h: Harness, arm: GoldArm, seed: int, trainer: Any) -> None:
        steps, spe = trainer.cfg.train.steps, trainer.method.steps_per_epoch
        if self.p.kind == "unstable":  # Figure 6: chunks of fid_every epochs, FID between them
            while trainer.step < steps:
                trainer.fit(stop_at=min(trainer.step + self.p.fid_every * spe, steps))
                fid = self.fid.of_generator(trainer.G_ema, self.p.fid_n, trainer.num_classes, seed, trainer.device)
                trainer.run_dir.log_metrics({"event": "fid", "epoch": trainer.step / spe, "fid": fid["fid"]})
            return
        kept = self.kept(h, arm, seed, trainer.cfg) if arm.variant == "baseline" else None
        if kept is not None and not kept.is_file():
            trainer.fit(stop_at=int(kept.stem.removeprefix("keep_step")))
            shutil.copyfile(trainer._last_ckpt, kept)
        trainer.fit()

    def evaluate(self, h: Harness, arm: GoldArm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        from ganlab.gold.evaluation import run_capacity, run_curves
        from ganlab.gold.rejection import evaluate_banks

        p, tr = self.p, trainer
        if p.kind == "rejection":
            D, n = tr.unwrap(tr.D), tr.num_classes
            return evaluate_banks(
                G, D, p, self.test, self.fid, seed=seed, num_classes=n, device=tr.device, folder=h.run_dir.path
            )
        cap = run_capacity(tr, self.test, seed, p.capacity)
        rec = {"variant": arm.variant, "fitting_capacity": cap["cap_test"], "n_test": cap["n_test"]}
        rec["epochs"] = tr.step / tr.method.steps_per_epoch
        if self.fid is not None:
            rec.update(self.fid.of_generator(G, p.fid_n, tr.num_classes, seed, tr.device))
        rec["protocol"] = f"LeNet-32 fitting capacity ({cap['protocol']['epochs']} ep x "
        rec["protocol"] += f"{cap['protocol']['samples_per_epoch']}), real test {cap['n_test']}"
        self.trainers[(arm.name, seed)] = tr
        base = self.trainers.get((f"baseline{arm.name[len(arm.variant) :]}", seed))
        gold, capacity = run_curves(tr, base)
        fid = [(r["epoch"], r["fid"]) for r in tr.run_dir.read_metrics() if r.get("event") == "fid"]
        for key, curve in (("gold", gold), ("capacity", capacity), ("fid", fid)):
            self.curves[key].setdefault(arm.variant, []).append(curve)
        return [rec]

    def results(self, h: Harness, arm: GoldArm, seed: int) -> list[dict[str, Any]]:
        if self.p.kind != "active":
            return super().results(h, arm, seed)
        from ganlab.gold.active import run_active_learning

        ecfg = copy.deepcopy(h.run_cfg)
        ecfg.seed = int(seed)
        active = dataclasses.replace(self.p.active, query=arm.name)
        rounds = run_active_learning(ecfg, active, h.runs_dir / f"{arm.name}_seed{seed}", dataset=h.dataset)
        keys = ("round", "n_labelled", "cap_test", "cap_val")
        return [{"variant": arm.name, **{k: r[k] for k in keys}} for r in rounds]

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Figures, then the per-seed rows (per label fraction, seed-major) and their mean ± std with several seeds."""
        from ganlab.gold import figures

        p = self.p
        if p.kind == "active":
            figures.active_figures(h.run_dir.path, p.figures, per_seed, h.runs_dir, h.dataset, self.cfg.run.data.name)
        elif self.trainers and p.figures:  # the G/D of the last run evaluated in this process (a baseline if any)
            last = list(self.trainers.values())
            tr = next((t for (a, _), t in reversed(self.trainers.items()) if a.startswith("baseline")), last[-1])
            figures.reweight_figures(h.run_dir.path, p.figures, tr, self.curves, h.dataset, p.figure_samples)
        fractions = [a.info.get("label_fraction") for a in h.spec.arms]
        rows = sorted(per_seed, key=lambda r: fractions.index(r.get("label_fraction")))
        return rows + records if len(h.spec.seeds) > 1 else rows


GROUP_BY = {"rejection": ("variant", "p"), "active": ("variant", "round", "n_labelled")}


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    """Run an experiment on the harness; per-seed rows, then mean +- std rows over seeds."""
    cfg = load_repro_config(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    spec = harness_spec(cfg)
    return Harness(spec, run_dir, GoldHooks(cfg), group_by=GROUP_BY.get(cfg.experiment.kind, ("arm",))).run()


def _words(config: Path) -> Any:
    def words(scale: str) -> str:
        p = load_repro_config(config, scale).experiment
        data = (
            f"each fixed bank of {p.n_bank} samples (random or GOLD-accepted, class-balanced)"
            if p.kind == "rejection"
            else "generated samples (uniform labels)"
        )
        s = (
            f"Fitting capacity: a classifier (LeNet-32 on images, an MLP on 2-D points) trained on {data}, accuracy "
            "on the real test set."
        )
        return s + (" FID: " + eval_protocol(p).describe() if (p.fid or p.kind == "unstable") else "")

    return words


# ---------------------------------------------------------------------------------------------- the registry


_TABLE = [
    ("table1_mnist", "re-weighting, full labels, MNIST: fitting capacity (Table 1)"),
    ("table1_fmnist", "re-weighting, full labels, Fashion-MNIST (Table 1)"),
    ("table1_svhn", "re-weighting, full labels, SVHN (Table 1)"),
    ("table1_cifar10", "re-weighting, full labels, CIFAR-10 (Table 1)"),
    ("table1_stl10", "re-weighting, full labels, STL-10 (Table 1)"),
    ("table1_lsun", "re-weighting, full labels, LSUN (Table 1)"),
    ("table2_svhn", "re-weighting under 1-100 % supervision, SVHN (Table 2)"),
    ("table2_cifar10", "re-weighting under 1-100 % supervision, CIFAR-10 (Table 2)"),
    ("table3_mnist", "rejection sampling p=0.1 vs none, MNIST: fitting capacity, FID (Tables 3, 5)"),
    ("table3_fmnist", "rejection sampling p=0.1 vs none, Fashion-MNIST (Tables 3, 5)"),
    ("table3_svhn", "rejection sampling p=0.5 vs none, SVHN (Tables 3, 5)"),
    ("table3_cifar10", "rejection sampling p=0.5 vs none, CIFAR-10 (Tables 3, 5)"),
    ("table3_stl10", "rejection sampling p=0.5 vs none, STL-10 (Tables 3, 5)"),
    ("table3_lsun", "rejection sampling p=0.5 vs none, LSUN (Tables 3, 5)"),
    ("table4_cifar10", "rejection sampling, p sweep 0.1-0.9, CIFAR-10 (Table 4)"),
    ("table6_imagenette", "re-weighting, Imagenette 128 (Table 6)"),
    ("table6_imagewoof", "re-weighting, Imagewoof 128 (Table 6)"),
    ("table7_imagenette", "rejection sampling, Imagenette 128 (Table 7)"),
    ("table7_imagewoof", "rejection sampling, Imagewoof 128 (Table 7)"),
    ("figure1", "MNIST: term histograms, GOLD mean and fitting capacity during training (Figure 1)"),
    ("figure2", "MNIST: generated and real samples with top marginal / conditional / GOLD (Figure 2)"),
    ("figure3", "synthetic 6 clusters, active learning (4, 1, 8): queries, samples, GOLD field (Fig. 3, 4)"),
    ("figure4_mnist", "active learning (10, 2, 18), MNIST: GOLD vs random (Figure 4)"),
    ("figure4_fmnist", "active learning (20, 5, 40), Fashion-MNIST: GOLD vs random (Figure 4)"),
    ("figure4_svhn", "active learning (20, 20, 100), SVHN: GOLD vs random (Figure 4)"),
    ("figure6", "MNIST, 10 labels, no unlabelled data: FID during training (Figure 6)"),
]
EXPERIMENTS: dict[str, Experiment] = experiments("gold", CONFIGS, run_protocol, _TABLE, protocol=_words)
