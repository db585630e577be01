"""Reproductions of the IC-GAN paper (``ganlab repro run icgan/EXP --scale smoke|mini|paper``), run by core's
:mod:`ganlab.core.repro_harness` (arms x seeds, resumable per (arm, seed), a failing pair isolated).

Every experiment is one YAML file under ``configs/`` with an ``experiment`` section (the protocol: arms, seeds,
metrics, stored instances, sweeps; :func:`~ganlab.icgan.repro_eval.eval_protocol` states it as core's
``EvalProtocol``, ``ganlab repro show icgan/EXP`` says it in words) and a ``run`` section (a core training config;
each arm deep-merges its own ``run`` delta over it). :class:`ICHooks` adds what is IC-GAN's own: the instance
features and neighbourhoods of each arm (cached per experiment), the transfer arm (trained on its own data, sampled
from the experiment dataset's instances), the training-FID score of ``checkpoint: best``, the stored instances, the
evaluation (:mod:`ganlab.icgan.repro_eval`) and the sheets (:mod:`ganlab.icgan.repro_sheets`). Kinds:

- ``compare``: every arm and seed, sampled with conditionings from stored instances (k-means by default) at each
  noise seed (Tables 1-4; optional FID per ImageNet-LT class group, each split's own N fake = N reference);
- ``figure4``: one IC-GAN per neighbourhood size k (an arm each) and seed, FID / P / R for several numbers of
  stored instances selected by k-means and at random;
- ``figure1``: instance sheets, class-swap sheets, and transfer sheets on another dataset's images, with the
  in-domain classifier's agreement between instance and sample.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.config import deep_merge, from_dict, load_config, save_config
from ganlab.core.repro import Experiment, experiments
from ganlab.core.repro_harness import Harness, Hooks, ReproSpec, aggregate
from ganlab.core.results import RunDir
from ganlab.core.train.config import ExperimentConfig
from ganlab.icgan.repro_eval import Context, apply_instance_draw, evaluate_run
from ganlab.icgan.repro_protocol import Arm, ClassifierSpec, Protocol, ReproConfig, Trained, eval_protocol, trained

__all__ = ["EXPERIMENTS", "Arm", "ClassifierSpec", "ICHooks", "Protocol", "ReproConfig", "arm_config", "load", "train"]

CONFIGS = Path(__file__).parent / "configs"
GROUPS = {"compare": ("arm",), "figure4": ("k", "selection", "stored"), "figure1": ("arm",)}


def load(config: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    """The experiment config, every arm's training config validated (unknown keys fail before any work)."""
    cfg = load_config(ReproConfig, config, list(overrides), scale)
    cfg.experiment.validate()
    for arm in cfg.experiment.arms:
        arm_config(cfg, arm, 0, Path("."))
    eval_protocol(cfg)
    return cfg


def arm_config(cfg: ReproConfig, arm: Arm, seed: int, out: Path, k: int | None = None) -> ExperimentConfig:
    """An arm's training config on its own (as the harness builds it, with IC-GAN's cache folder and ``k``)."""
    raw = deep_merge(copy.deepcopy(cfg.run), arm.run)
    if arm.transfer and "data" in arm.run:  # a transfer arm's own dataset, none of the experiment's data options
        raw["data"] = copy.deepcopy(arm.run["data"])
    ecfg = from_dict(ExperimentConfig, raw, where=f"run (arm {arm.name})")
    ecfg.seed, ecfg.out_dir = int(seed), str(out)
    ecfg.name = f"{arm.name}_seed{seed}" + (f"_k{k}" if k is not None else "")
    if ecfg.method.name in ("icgan", "icgan_stylegan2"):
        opts = dict(ecfg.method.options)
        opts.setdefault("cache_dir", str(out.parent / "cache"))
        if k is not None:
            opts["k"] = int(k)
        ecfg.method.options = opts
    return ecfg


def train(ecfg: ExperimentConfig, best: tuple[int, Any] | None = None) -> Trained:
    """Train one arm alone; ``best`` = (every, score_fn): keep the G_ema with the lowest score (checkpoint: best)."""
    import ganlab.icgan.methods  # noqa: F401  (presets, method)
    from ganlab.core.train.evaluation_schedule import attach_scored_best
    from ganlab.core.train.trainer import Trainer

    trainer = Trainer(ecfg)
    if best is not None:
        attach_scored_best(trainer, best[0], best[1])
    trainer.fit()
    return trained(trainer)


def arm_instances(ctx: Context, run: Trained, arm: Arm, n: int | None = None, selection: str | None = None) -> Any:
    """The stored instances an arm samples from (None for a baseline): ``n`` of its training set's chosen by
    ``selection``, or (a transfer arm) the experiment dataset's images embedded with the arm's feature extractor;
    drawn as ``instance_draw`` says."""
    from ganlab.icgan.instances import select_instances

    p = ctx.cfg.experiment
    n, selection = p.stored if n is None else n, selection or p.selection
    if not run.is_icgan:
        return None
    if arm.transfer:
        return ctx.dataset_instances(run, ctx.train_data, (arm.name, "transfer"), n, selection)
    m = run.method
    labels = np.asarray(run.trainer.dataset.labels) if m.class_conditional else None
    stored = select_instances(
        m.features,
        min(int(n), len(m.features)),
        method=selection,
        seed=1234,
        neighbourhoods=m.neighbourhoods,
        labels=labels,
    )
    draw_labels = getattr(run.trainer.dataset, "labels", None) if p.instance_draw != "uniform" else None
    return apply_instance_draw(stored, p.instance_draw, draw_labels)


class ICHooks(Hooks):
    """IC-GAN's steps in the core harness (see the module docstring)."""

    scores_checkpoints = True  # the training FID needs conditionings the trainer's own evaluation cannot draw

    def __init__(self, cfg: ReproConfig, run_dir: RunDir) -> None:
        self.cfg, self.ctx = cfg, Context(cfg, run_dir)

    def dataset(self, h: Harness) -> Any:
        return self.ctx.train_data

    def configure(self, h: Harness, arm: Arm, seed: int, cfg: ExperimentConfig) -> Any:
        import ganlab.icgan.methods  # noqa: F401  (presets, method)

        if arm.transfer and "data" in arm.run:  # a transfer arm's own dataset, none of the experiment's data options
            cfg.data = from_dict(type(cfg.data), copy.deepcopy(arm.run["data"]), where=f"arm {arm.name}: run.data")
        # instance features and neighbourhoods, cached for every arm and seed
        if cfg.method.name in ("icgan", "icgan_stylegan2"):
            cfg.method.options = {"cache_dir": str(h.run_dir.path / "cache"), **cfg.method.options}
        return None

    def trainer_options(self, h: Harness, arm: Arm, seed: int, cfg: ExperimentConfig) -> dict[str, Any]:
        return {"dataset": None} if arm.transfer else {}  # a transfer arm builds its own training data

    def checkpoint_score(self, h: Harness, arm: Arm, seed: int, trainer: Any) -> Any:
        from ganlab.icgan.repro_eval import training_fid

        return training_fid(self.ctx)

    def evaluate(self, h: Harness, arm: Arm, seed: int, G: Any, trainer: Any) -> list[dict[str, Any]]:
        from ganlab.icgan.repro_sheets import figure1_record, sample_grid

        p, ctx, run = self.cfg.experiment, self.ctx, trained(trainer, G)
        if p.kind == "figure1":
            return [figure1_record(ctx, run, h.run_dir, arm.name, seed)]
        if p.kind == "figure4":
            return [
                {"selection": sel, "stored": len(stored), **evaluate_run(ctx, run, stored, p.sample_seeds[0])}
                for sel in p.selections
                for stored in (arm_instances(ctx, run, arm, n, sel) for n in p.stored_sweep)
            ]
        stored = arm_instances(ctx, run, arm)
        out = []
        for s in p.sample_seeds:
            rec: dict[str, Any] = {"sample_seed": s}
            if stored is not None:
                rec.update(stored=len(stored), selection=p.selection, transfer=arm.transfer)
            out.append({**rec, **evaluate_run(ctx, run, stored, s, arm=f"{arm.name}_seed{seed}")})
        sample_grid(run, stored, h.run_dir, f"{arm.name}_seed{seed}")
        return out

    def finish(self, h: Harness, per_seed: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The per-seed records, then mean ± std (ddof 1) of each group with two or more of them."""
        keys = GROUPS[self.cfg.experiment.kind]
        skip = ("sample_seed", "best_step", "last_eval_step", "n_prdc", "stored")
        metrics = [c for c in h.metric_columns(per_seed) if c not in skip and not c.startswith(("n_", "stored_"))]
        head = list(
            dict.fromkeys([*keys, "checkpoint", *(k for r in per_seed[:1] for k in r if k.startswith("eval_"))])
        )
        agg = [r for r in aggregate(per_seed, keys, metrics, columns=head) if r["seeds"] >= 2]
        return per_seed + agg


def spec_of(cfg: ReproConfig) -> ReproSpec:
    """The harness's spec: figure4 trains one arm per neighbourhood size k (column ``k``)."""
    p = cfg.experiment
    arms = p.arms
    if p.kind == "figure4":
        arm = p.arms[0]
        arms = [
            Arm(
                f"{arm.name}_k{k}", deep_merge(copy.deepcopy(arm.run), {"method": {"options": {"k": int(k)}}}), {"k": k}
            )
            for k in p.ks
        ]
    return ReproSpec(protocol=eval_protocol(cfg), arms=arms, seeds=list(p.seeds), run=copy.deepcopy(cfg.run))


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    cfg = load(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    spec = spec_of(cfg)
    return Harness(spec, run_dir, ICHooks(cfg, run_dir), group_by=GROUPS[cfg.experiment.kind]).run()


_TABLE = [
    ("table1_imagenet64", "ImageNet 64 unlabelled: uncond. BigGAN vs IC-GAN (+ DA): FID, IS, P/R/D/C"),
    ("table1_imagenet128", "ImageNet 128 unlabelled: IC-GAN (+ DA)"),
    ("table1_imagenet256", "ImageNet 256 unlabelled: IC-GAN ch64 (+ DA), ch96 + DA (d)"),
    ("table3_imagenet64", "ImageNet 64 class-conditional: BigGAN (+ DA) vs cc-IC-GAN (+ DA)"),
    ("table3_imagenet128", "ImageNet 128 class-conditional: BigGAN (+ DA) vs cc-IC-GAN (+ DA)"),
    ("table3_imagenet256", "ImageNet 256 class-conditional: BigGAN / cc-IC-GAN, ch 64 and 96"),
    ("table4_imagenet_lt64", "ImageNet-LT 64: BigGAN vs cc-IC-GAN, train/val FID, many/med/few FID"),
    ("table2_coco128", "COCO-Stuff 128: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS"),
    ("table2_coco256", "COCO-Stuff 256: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS"),
    ("table2_coco128_stylegan2", "COCO-Stuff 128: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)"),
    ("table2_coco256_stylegan2", "COCO-Stuff 256: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)"),
    ("figure4", "stored instances (k-means vs random) x neighbourhood size k: FID, precision, recall"),
    ("figure1", "instance sheets, class swaps (cc-IC-GAN) and transfer to another dataset's images"),
]
EXPERIMENTS: dict[str, Experiment] = experiments(
    "icgan", CONFIGS, run_protocol, _TABLE, protocol=lambda path: lambda scale: eval_protocol(load(path, scale))
)
