"""Reproductions of the Dia-GAN paper's tables and figures (``ganlab repro run diagan/EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/`` run by :mod:`ganlab.core.repro_harness`: ``protocol`` (core's
:class:`~ganlab.core.evaluation.EvalProtocol`: network, resize, counts, reference; ``ganlab repro show diagan/EXP``
says it in words), ``seeds``, ``experiment`` (what is Dia-GAN's own: the variants, majority ratios, analyses) and
``run`` (a core training config; Dia-GAN uses its ``method.options``, vanilla the same config without phase 2).
``scales:`` holds the per-scale deltas.

Variants: ``vanilla`` (uniform sampling all the way; LDR still recorded for the diagnosis tables), ``drs`` (the
vanilla run's samples through DRS with its own D), ``diagan`` (phases 1-3: weighted sampling, samples through DRS
with the auxiliary D) and ``diagan_nodrs`` (the Dia-GAN run without phase 3). The harness trains one arm per
(base run, majority ratio): ``vanilla`` (for the vanilla and drs variants, and Dia-GAN's phase 1) and ``diagan``
(phase 2 starts from the vanilla run's phase-1 checkpoint); :class:`DiaHooks` evaluates each arm's variants.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.config import from_dict, load_config, save_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment, experiments
from ganlab.core.repro_harness import Arm, Harness, Hooks, ReproSpec
from ganlab.core.results import RunDir
from ganlab.core.train.config import ExperimentConfig, MethodConfig
from ganlab.core.train.stylegan2_recipe import StyleGAN2Options
from ganlab.diagan import evaluation
from ganlab.diagan.method import DiaGANOptions
from ganlab.diagan.options import DiaOptions
from ganlab.diagan.protocols import check_data_source, describe

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class DiaArm(Arm):
    """One training run: ``base`` vanilla or diagan, at majority ratio ``rho`` (None: the dataset's own)."""

    base: str = "vanilla"
    rho: float | None = None

    def columns(self) -> dict[str, Any]:
        return {} if self.rho is None else {"rho": self.rho}


@dataclass
class DiaSpec(ReproSpec):
    experiment: DiaOptions = field(default_factory=DiaOptions)
    arms: list[DiaArm] = field(default_factory=lambda: [DiaArm("vanilla")])  # built from the variants and rhos
    notes: str = ""  # what the protocol's words cannot say (e.g. the size of a reference split)

    def run_config(self) -> ExperimentConfig:
        return from_dict(ExperimentConfig, dict(self.run), where="run")

    def phase1(self) -> int | None:
        p1 = self.run.get("method", {}).get("options", {}).get("phase1_steps")
        return None if p1 is None else int(p1)

    def shares_phase1(self) -> bool:
        return self.experiment.share_phase1 and "diagan" in self.bases() and self.phase1() is not None

    def bases(self) -> set[str]:
        return {"vanilla" if v in ("vanilla", "drs") else "diagan" for v in self.experiment.variants}


def load_repro_config(path: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> DiaSpec:
    """The experiment with its arms: per majority ratio, the vanilla run (also when only Dia-GAN's phase 1 is
    needed: it is shared) then the Dia-GAN run."""
    spec = load_config(DiaSpec, path, overrides, scale)
    if spec.run_config().method.name not in ("diagan", "diagan_stylegan2"):
        raise ConfigError(
            f"run.method.name must be 'diagan' (or 'diagan_stylegan2') in a Dia-GAN reproduction, "
            f"not {spec.run['method']}"
        )
    bases = [b for b in ("vanilla", "diagan") if b in spec.bases() or (b == "vanilla" and spec.shares_phase1())]
    spec.arms = [
        DiaArm(b, base=b)
        if rho is None
        else DiaArm(f"{b}_rho{rho:g}", run={"data": {"options": {"rho": float(rho)}}}, base=b, rho=float(rho))
        for rho in spec.experiment.rhos or [None]
        for b in bases
    ]
    return spec


_SG2_OPTIONS = {f.name for f in fields(StyleGAN2Options)}


class DiaHooks(Hooks):
    """Dia-GAN's steps in the harness: the vanilla / Dia-GAN method of each arm, the shared phase 1, the variants'
    evaluation (:mod:`ganlab.diagan.evaluation`) and the per-seed table."""

    def __init__(self, spec: DiaSpec) -> None:
        self.spec = spec

    def kept(self, h: Harness, arm: DiaArm, seed: int) -> Path:
        """Where the vanilla run of ``arm``'s majority ratio keeps its phase-1 checkpoint."""
        name = "vanilla" + arm.name[len(arm.base) :]
        return h.run_dir.path / "runs" / f"{name}_seed{seed}" / f"phase1_step{self.spec.phase1()}.pt"

    def configure(self, h: Harness, arm: DiaArm, seed: int, cfg: ExperimentConfig) -> Any:
        from ganlab.core.train.build import build_method

        e, opts = self.spec.experiment, dict(cfg.method.options)
        if arm.base == "vanilla":
            p1 = opts.get("phase1_steps")
            if e.record_vanilla or e.share_phase1:
                opts.update(phase1_steps=None, aux_discriminator=False)
                if e.vanilla_window == "phase1" and p1 is not None:
                    opts.update(record_until=p1)
                elif e.share_phase1 and p1 is not None:
                    # record from the Dia-GAN window's start to the end: the phase-1 checkpoint holds the Dia-GAN
                    # window, the end of the run the vanilla one
                    every = int(opts.get("record_every", DiaGANOptions.record_every))
                    start = max(int(p1) - int(opts.get("window", DiaGANOptions.window)) * every, 0)
                    opts.update(record_from=start, capacity=(cfg.train.steps - start) // every + 1)
                cfg.method = MethodConfig(name=cfg.method.name, options=opts)
            elif cfg.method.name == "diagan_stylegan2":  # vanilla StyleGAN2 keeps the recipe's options
                cfg.method = MethodConfig(name="stylegan2", options={k: opts[k] for k in opts if k in _SG2_OPTIONS})
            else:
                cfg.method = MethodConfig(name="vanilla", options={})
        return build_method(cfg.method)

    def trainer_options(self, h: Harness, arm: DiaArm, seed: int, cfg: ExperimentConfig) -> dict[str, Any]:
        out: dict[str, Any] = {} if arm.rho is None else {"dataset": None}  # a majority ratio: the arm's own data
        if arm.base == "diagan" and self.spec.shares_phase1():
            out["init_from"] = self.kept(h, arm, seed)
        return out

    def fit(self, h: Harness, arm: DiaArm, seed: int, trainer: Any) -> None:
        """The vanilla run keeps its phase-1 checkpoint for Dia-GAN's phase 2 (and stops there when no variant
        needs the rest: the same total steps keep the LR schedule)."""
        p1, kept = self.spec.phase1(), self.kept(h, arm, seed)
        if arm.base == "vanilla" and self.spec.shares_phase1() and 0 < p1 <= trainer.cfg.train.steps:
            if not kept.is_file():
                trainer.fit(stop_at=p1)
                shutil.copyfile(trainer._last_ckpt, kept)
            if "vanilla" not in self.spec.bases():
                return
        trainer.fit()

    def evaluate(self, h: Harness, arm: DiaArm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        run = evaluation.Trained(trainer)
        return [
            {"variant": v, **evaluation.evaluate(self.spec, h.run_cfg, v, run, seed, h.run_dir)}
            for v in self.spec.experiment.variants
            if ("vanilla" if v in ("vanilla", "drs") else "diagan") == arm.base
        ]

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The per-seed rows in the paper's order (ratio, seed, variant), and their mean ± std with several seeds."""
        order = {v: i for i, v in enumerate(self.spec.experiment.variants)}
        rows = sorted(
            per_seed,
            key=lambda r: (
                self.spec.experiment.rhos.index(r["rho"]) if "rho" in r else 0,
                self.spec.seeds.index(r["seed"]),
                order[r["variant"]],
            ),
        )
        keys = ("rho", "variant") if self.spec.experiment.rhos else ("variant",)
        return rows + aggregate(rows, keys) if len(self.spec.seeds) > 1 else rows


def aggregate(records: list[dict[str, Any]], keys: Sequence[str] = ("rho", "variant")) -> list[dict[str, Any]]:
    """Mean and std (ddof=1 when >= 2 seeds) over seeds of every numeric column, per (rho, variant)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    skip = {*keys, "seed", "step"}
    for key, rows in groups.items():
        agg: dict[str, Any] = dict(zip(keys, key))
        agg["seed"] = f"mean of {len(rows)}"
        cols = [c for c, v in rows[0].items() if c not in skip and not c.startswith("eval_") and _numeric(v)]
        for c in cols:
            vals = np.array([r[c] for r in rows if _numeric(r.get(c))], dtype=np.float64)
            agg[c] = float(np.nanmean(vals)) if len(vals) else float("nan")
            agg[f"{c}_std"] = float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0
        out.append(agg)
    return out


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    """Train every (majority ratio, seed, base run) of an experiment and evaluate its variants."""
    spec = load_repro_config(config, scale, overrides)
    check_data_source(spec.run_config(), scale)
    evaluation.REAL_FEATURES.clear()
    save_config(spec, run_dir.path / "repro_config.yaml")
    return Harness(spec, run_dir, DiaHooks(spec), group_by=("rho", "variant")).run()


_FIG1E = "partial recall major/minor, LDRV (Fig. 1e, Table 1)"

_TABLE = [
    ("figure2", "25 Gaussians: per-mode LDRM vs high-quality samples; modes covered"),
    ("figure1e_gaussian", f"single-mode Gaussian: {_FIG1E}"),
    ("figure1e_colored_mnist", f"Colored MNIST: {_FIG1E}"),
    ("figure1e_mnist_fmnist", f"MNIST-FMNIST: {_FIG1E}"),
    ("table2_sngan_cifar10", "SNGAN CIFAR-10, NS: vanilla/DRS/Dia-GAN FID, IS"),
    ("table2_ssgan_cifar10", "SSGAN CIFAR-10, NS: vanilla/DRS/Dia-GAN FID, IS"),
    ("table2_sngan_celeba", "SNGAN CelebA 64, NS: vanilla/DRS/Dia-GAN FID, P&R"),
    ("table2_ssgan_celeba", "SSGAN CelebA 64, NS: vanilla/DRS/Dia-GAN FID, P&R"),
    ("table3_stylegan2_ffhq", "StyleGAN2 FFHQ 256: vanilla vs Dia-StyleGAN2 FID, P&R"),
    ("table4_hinge_cifar10", "HingeGAN vs Dia-HingeGAN CIFAR-10 FID, IS"),
    ("table4_hinge_celeba", "HingeGAN vs Dia-HingeGAN CelebA FID"),
    ("table5_colored_mnist", "Colored MNIST rho=99/95/90: RE of green samples, green occurrence"),
    (
        "table5_colored_mnist_rho95",
        "Colored MNIST rho=95 with the official D: RE of green samples, green occurrence (issue 11 mini)",
    ),
    ("table5_mnist_fmnist", "MNIST-FMNIST rho=99/95/90: RE of FMNIST samples"),
    ("table6_celeba_attributes", "CelebA minor attributes: LDRV/score W/ vs W/O, occurrence, partial recall"),
]
EXPERIMENTS: dict[str, Experiment] = experiments("diagan", CONFIGS, run_protocol, _TABLE, protocol=describe)
