"""Reproductions of the IC-GAN paper (``ganlab icgan repro EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/`` with an ``experiment`` section (the protocol: arms, seeds,
metrics, stored instances, sweeps) and a ``run`` section (a core training config; each arm deep-merges its own
``run`` delta over it). Kinds:

- ``compare``: train every arm for every seed, sample each with conditionings from stored instances (k-means by
  default), evaluate (Tables 1-4; optional FID per ImageNet-LT class group);
- ``figure4``: train one IC-GAN per neighbourhood size k and seed, evaluate FID / P / R for several numbers of
  stored instances selected by k-means and at random;
- ``figure1``: train an IC-GAN (or cc-IC-GAN), write instance sheets, class-swap sheets, and transfer sheets on
  another dataset's images, with the in-domain classifier's agreement between instance and sample.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ganlab.core.config import deep_merge, from_dict, load_config
from ganlab.core.errors import ConfigError
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir, atomic_write_bytes
from ganlab.core.train.config import ExperimentConfig
from ganlab.icgan import evaluate as ev
from ganlab.icgan.repro_eval import (
    Context,
    Trained,
    TrainingInstances,
    _logits_of,
    apply_instance_draw,
    baseline_label_probs,
    evaluate_run,
    sample_fn,
)

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Arm:
    """One trained variant: its method (``icgan`` or ``vanilla`` for the BigGAN baselines) and config delta."""

    name: str = "icgan"
    run: dict[str, Any] = field(default_factory=dict)
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
        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")
        ev.check_metrics(self.metrics)
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ConfigError(f"arm names must be unique, got {names}")
        from ganlab.core.features.resize import RESIZES

        ev.check_choice(self.reference_draw, ev.REFERENCE_DRAWS, "reference_draw")
        ev.check_choice(self.resize, RESIZES, "resize")
        ev.check_choice(self.instance_draw, ev.INSTANCE_DRAWS, "instance_draw")
        ev.check_choice(self.label_draw, ev.LABEL_DRAWS, "label_draw")
        ev.check_choice(self.instance_set, ev.INSTANCE_SETS, "instance_set")
        ev.check_choice(self.checkpoint, ev.CHECKPOINTS, "checkpoint")
        if isinstance(self.n_fake, str) and self.n_fake != "reference":
            raise ConfigError(f"experiment.n_fake must be a number or 'reference', got {self.n_fake!r}")
        if self.checkpoint == "best" and (self.best_every < 1 or self.best_n_fake < 2):
            raise ConfigError("checkpoint: best needs best_every >= 1 and best_n_fake >= 2")


@dataclass
class ReproConfig:
    experiment: Protocol = field(default_factory=Protocol)
    run: dict[str, Any] = field(default_factory=dict)


def load(config: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    """The experiment config, every arm's training config validated (unknown keys fail before any work)."""
    cfg = load_config(ReproConfig, config, list(overrides), scale)
    cfg.experiment.validate()
    for arm in cfg.experiment.arms:
        arm_config(cfg, arm, 0, Path("."))
    return cfg


def arm_config(cfg: ReproConfig, arm: Arm, seed: int, out: Path, k: int | None = None) -> ExperimentConfig:
    raw = deep_merge(copy.deepcopy(cfg.run), arm.run)
    if arm.transfer and "data" in arm.run:  # a transfer arm's own dataset, none of the experiment's data options
        raw["data"] = copy.deepcopy(arm.run["data"])
    ecfg = from_dict(ExperimentConfig, raw, where=f"run (arm {arm.name})")
    ecfg.seed = int(seed)
    ecfg.name = f"{arm.name}_seed{seed}" + (f"_k{k}" if k is not None else "")
    ecfg.out_dir = str(out)
    if ecfg.method.name in ("icgan", "icgan_stylegan2"):
        opts = dict(ecfg.method.options)
        opts.setdefault("cache_dir", str(out.parent / "cache"))
        if k is not None:
            opts["k"] = int(k)
        ecfg.method.options = opts
    return ecfg


# -------------------------------------------------------------------------------------------------- training
def train(ecfg: ExperimentConfig, best: tuple[int, Any] | None = None) -> Trained:
    """Train one arm; ``best`` = (every, score_fn): keep the G_ema with the lowest training FID (checkpoint: best)."""
    import ganlab.icgan.methods  # noqa: F401  (presets, method)
    from ganlab.core.train.trainer import Trainer

    trainer = Trainer(ecfg)
    sel = None
    if best is not None:
        from ganlab.icgan.best import attach_best

        sel = attach_best(trainer, best[0], best[1])
    trainer.fit()
    if sel is None:
        return Trained(trainer)
    from ganlab.icgan.best import best_generator

    G, info = best_generator(sel, trainer.device)
    return Trained(trainer, G, info)


def train_fid_monitor(ctx: Context) -> tuple[int, Any] | None:
    """(every, score_fn) of ``checkpoint: best``: the FID of ``best_n_fake`` samples against the training split,
    conditionings drawn uniformly over all training instances (the official training-time FID)."""
    p = ctx.cfg.experiment
    if p.checkpoint != "best":
        return None

    def score(trainer: Any) -> float:
        run = Trained(trainer)
        stored = None
        if run.is_icgan:
            cc = run.method.class_conditional
            stored = TrainingInstances(run.method, np.asarray(trainer.dataset.labels) if cc else None)
        real = ctx.real(ctx.train_data, key="train_monitor")
        fn = sample_fn(run, stored, 0, label_p=baseline_label_probs(ctx, run))
        fake = ev.fake_features(ctx.extractor, fn, p.best_n_fake, device=ctx.device, batch_size=p.eval_batch_size)
        return ev.feature_metrics(real, fake, ["fid"])["fid"]

    return p.best_every, score


def stored_instances(run: Trained, n: int, selection: str, seed: int = 1234) -> Any:
    from ganlab.icgan.instances import select_instances

    m = run.method
    labels = np.asarray(run.trainer.dataset.labels) if m.class_conditional else None
    n = min(int(n), len(m.features))
    return select_instances(m.features, n, method=selection, seed=seed, neighbourhoods=m.neighbourhoods, labels=labels)


def arm_instances(ctx: Context, run: Trained, arm: Arm) -> Any:
    """The stored instances an arm samples from (None for a baseline): its training set's, or (a transfer arm) the
    experiment dataset's images embedded with the arm's feature extractor; drawn as ``instance_draw`` says."""
    p = ctx.cfg.experiment
    if not run.is_icgan:
        return None
    if arm.transfer:
        return ctx.dataset_instances(run, ctx.train_data, (arm.name, "transfer"), p.stored, p.selection)
    stored = stored_instances(run, p.stored, p.selection)
    labels = getattr(run.trainer.dataset, "labels", None) if p.instance_draw != "uniform" else None
    return apply_instance_draw(stored, p.instance_draw, labels)


# -------------------------------------------------------------------------------------------------- runners
def _aggregate(records: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    out = []
    for key, rows in groups.items():
        if len(rows) < 2:
            continue
        agg: dict[str, Any] = dict(zip(keys, key))
        agg["seed"] = f"mean ± std of {len(rows)}"
        for c, v in rows[0].items():
            if c in keys or c == "seed":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                if all(r.get(c) == v for r in rows):  # the protocol (extractor, draws, checkpoint...) carries over
                    agg[c] = v
                continue
            vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float))], dtype=np.float64)
            agg[c] = float(np.mean(vals))
            agg[f"{c}_std"] = float(np.std(vals, ddof=1))
        out.append(agg)
    return out


def run_compare(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    ctx = Context(cfg, run_dir)
    records = []
    for seed in p.seeds:
        for arm in p.arms:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs"), best=train_fid_monitor(ctx))
            stored = arm_instances(ctx, run, arm)
            for s in p.sample_seeds:
                rec = {"arm": arm.name, "seed": seed, "sample_seed": s, "step": run.trainer.step}
                if stored is not None:
                    rec.update(stored=len(stored), selection=p.selection, transfer=arm.transfer)
                rec.update(evaluate_run(ctx, run, stored, s, arm=f"{arm.name}_seed{seed}"))
                records.append(rec)
                run_dir.log_metrics({"event": "result", **rec})
            _grid(run, stored, run_dir, f"{arm.name}_seed{seed}")
    return records + _aggregate(records, ("arm",))


def run_figure4(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    ctx = Context(cfg, run_dir)
    arm = p.arms[0]
    records = []
    for k in p.ks:
        for seed in p.seeds:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs", k=k), best=train_fid_monitor(ctx))
            for sel in p.selections:
                for n in p.stored_sweep:
                    stored = apply_instance_draw(
                        stored_instances(run, n, sel),
                        p.instance_draw,
                        getattr(run.trainer.dataset, "labels", None) if p.instance_draw != "uniform" else None,
                    )
                    rec = {"k": k, "selection": sel, "stored": len(stored), "seed": seed}
                    rec.update(evaluate_run(ctx, run, stored, p.sample_seeds[0]))
                    records.append(rec)
                    run_dir.log_metrics({"event": "result", **rec})
    return records + _aggregate(records, ("k", "selection", "stored"))


def run_figure1(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.icgan.generate import class_swap_sheet, images_png, instance_sheet

    p = cfg.experiment
    ctx = Context(cfg, run_dir)
    records = []
    for seed in p.seeds:
        for arm in p.arms:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs"), best=train_fid_monitor(ctx))
            m, ds = run.method, run.trainer.dataset
            stored = stored_instances(run, p.sheet_rows, "kmeans")
            labels = torch.from_numpy(stored.neighbour_labels[:, 0]) if stored.neighbour_labels is not None else None
            images = ds.get_batch(stored.indices)["image"]
            sheet = instance_sheet(
                run.G,
                torch.from_numpy(stored.features),
                images,
                p.per_instance,
                labels=labels,
                seed=seed,
                device=run.trainer.device,
            )
            tag = f"{arm.name}_seed{seed}"
            atomic_write_bytes(run_dir.samples / f"{tag}_instances.png", images_png(sheet, 1 + p.per_instance))
            rec: dict[str, Any] = {"arm": arm.name, "seed": seed, "sheet": f"samples/{tag}_instances.png"}
            if m.class_conditional and p.swap_classes:
                swap = class_swap_sheet(
                    run.G, torch.from_numpy(stored.features), p.swap_classes, seed=seed, device=run.trainer.device
                )
                atomic_write_bytes(run_dir.samples / f"{tag}_class_swap.png", images_png(swap, len(p.swap_classes)))
                rec["class_swap_sheet"] = f"samples/{tag}_class_swap.png"
                # instance swap: one class for every row, the instances change
                fixed = torch.full((len(stored),), int(p.swap_classes[0]))
                inst = instance_sheet(
                    run.G,
                    torch.from_numpy(stored.features),
                    images,
                    p.per_instance,
                    labels=fixed,
                    seed=seed,
                    device=run.trainer.device,
                )
                atomic_write_bytes(run_dir.samples / f"{tag}_instance_swap.png", images_png(inst, 1 + p.per_instance))
                rec["instance_swap_sheet"] = f"samples/{tag}_instance_swap.png"
            idx = np.sort(np.random.default_rng(seed).permutation(len(ds))[: p.transfer_n])
            rec.update(_agreement(ctx, run, ds, idx, "train"))
            if p.transfer:
                rec.update(_transfer(ctx, run, run_dir, tag, seed))
            records.append(rec)
            run_dir.log_metrics({"event": "result", **rec})
    return records


def _agreement(
    ctx: Context, run: Trained, images_ds: Any, idx: np.ndarray, tag: str, features: torch.Tensor | None = None
) -> dict[str, float]:
    """How often the in-domain classifier gives a sample the class it gives its conditioning image."""
    from ganlab.icgan.generate import conditioned_samples

    if not getattr(images_ds, "num_classes", 0):
        return {}
    ext = _logits_of(ctx).to(ctx.device)
    images = images_ds.get_batch(idx)["image"]
    if features is None:
        features = run.method.features.get(idx)
    labels = torch.from_numpy(np.asarray(images_ds.labels)[idx]) if run.method.class_conditional else None
    samples = conditioned_samples(run.G, features, 1, labels=labels, seed=0, device=ctx.device)
    with torch.no_grad():
        pred_inst = ext(images.to(ctx.device)).argmax(1).cpu()
        pred_fake = ext(samples.to(ctx.device)).argmax(1).cpu()
        truth = torch.as_tensor(np.asarray(images_ds.labels)[idx])
    return {
        f"{tag}_sample_class_agreement": float((pred_inst == pred_fake).float().mean()),
        f"{tag}_instance_classifier_acc": float((pred_inst == truth).float().mean()),
        f"{tag}_sample_matches_instance_label": float((pred_fake == truth).float().mean()),
    }


def _transfer(ctx: Context, run: Trained, run_dir: RunDir, tag: str, seed: int) -> dict[str, Any]:
    """Condition on another dataset's images (embedded with the run's extractor): sheet and class agreement."""
    from ganlab.core.data import get_dataset
    from ganlab.icgan.generate import images_png, instance_sheet
    from ganlab.icgan.transfer import transfer_instances

    p = ctx.cfg.experiment
    t = dict(p.transfer or {})
    ds = get_dataset(
        t.pop("name"), root=t.pop("root", None), resolution=t.pop("resolution", None), **t.pop("options", {})
    )
    from ganlab.icgan.features import extractor_of

    m = run.method
    ext = extractor_of(m.features)
    n = min(p.transfer_n, len(ds))
    idx = np.random.default_rng(seed).permutation(len(ds))[:n]
    images = ds.get_batch(idx)["image"]
    stored = transfer_instances(images, ext, source=ds.name, device=ctx.device)
    rows = min(p.sheet_rows, n)
    labels = torch.as_tensor(np.asarray(ds.labels)[idx[:rows]]) if m.class_conditional else None
    sheet = instance_sheet(
        run.G,
        torch.from_numpy(stored.features[:rows]),
        images[:rows],
        p.per_instance,
        labels=labels,
        seed=seed,
        device=ctx.device,
    )
    atomic_write_bytes(run_dir.samples / f"{tag}_transfer_{ds.name}.png", images_png(sheet, 1 + p.per_instance))
    out: dict[str, Any] = {"transfer_dataset": ds.name, "transfer_sheet": f"samples/{tag}_transfer_{ds.name}.png"}
    out.update(_agreement(ctx, run, ds, idx, "transfer", torch.from_numpy(stored.features)))
    return out


def _grid(run: Trained, stored: Any, run_dir: RunDir, tag: str) -> None:
    from ganlab.core.images import images_to_png

    images = sample_fn(run, stored, 0)(64).cpu()
    atomic_write_bytes(run_dir.samples / f"{tag}.png", images_to_png(images))


RUNNERS = {"compare": run_compare, "figure4": run_figure4, "figure1": run_figure1}


def run_protocol(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.core.config import save_config

    cfg = load(config, scale, overrides)
    save_config(cfg, run_dir.path / "repro_config.yaml")
    return RUNNERS[cfg.experiment.kind](cfg, run_dir)


def _exp(name: str, description: str, status: dict[str, str] | None = None) -> Experiment:
    return Experiment(
        name=name,
        paper="icgan",
        description=description,
        config=CONFIGS / f"{name}.yaml",
        run=run_protocol,
        status=status or {},
    )


_STYLEGAN2 = "pending: the StyleGAN2 backbone comes with core's StyleGAN2 (its own issue)"


def _exp_pending(name: str, description: str, config: str) -> Experiment:
    return Experiment(
        name=name,
        paper="icgan",
        description=description,
        config=CONFIGS / f"{config}.yaml",
        run=run_protocol,
        status={s: _STYLEGAN2 for s in ("smoke", "mini", "paper")},
    )


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        _exp("table1_imagenet64", "ImageNet 64 unlabelled: uncond. BigGAN vs IC-GAN (+ DA): FID, IS, P/R/D/C"),
        _exp("table1_imagenet128", "ImageNet 128 unlabelled: IC-GAN (+ DA)"),
        _exp("table1_imagenet256", "ImageNet 256 unlabelled: IC-GAN ch64 (+ DA), ch96 + DA (d)"),
        _exp("table3_imagenet64", "ImageNet 64 class-conditional: BigGAN (+ DA) vs cc-IC-GAN (+ DA)"),
        _exp("table3_imagenet128", "ImageNet 128 class-conditional: BigGAN (+ DA) vs cc-IC-GAN (+ DA)"),
        _exp("table3_imagenet256", "ImageNet 256 class-conditional: BigGAN / cc-IC-GAN, ch 64 and 96"),
        _exp("table4_imagenet_lt64", "ImageNet-LT 64: BigGAN vs cc-IC-GAN, train/val FID, many/med/few FID"),
        _exp("table2_coco128", "COCO-Stuff 128: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS"),
        _exp("table2_coco256", "COCO-Stuff 256: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS"),
        _exp("table2_coco128_stylegan2", "COCO-Stuff 128: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)"),
        _exp("table2_coco256_stylegan2", "COCO-Stuff 256: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)"),
        _exp("figure4", "stored instances (k-means vs random) x neighbourhood size k: FID, precision, recall"),
        _exp("figure1", "instance sheets, class swaps (cc-IC-GAN) and transfer to another dataset's images"),
    ]
}
