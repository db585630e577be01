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

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Arm:
    """One trained variant: its method (``icgan`` or ``vanilla`` for the BigGAN baselines) and config delta."""

    name: str = "icgan"
    run: dict[str, Any] = field(default_factory=dict)


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
    n_fake: int = 50000
    n_real: int | None = None
    n_prdc: int | None = None  # P/R/D/C on the first n_prdc real and fake features (the paper: 10k vs 10k)
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


@dataclass
class ReproConfig:
    experiment: Protocol = field(default_factory=Protocol)
    run: dict[str, Any] = field(default_factory=dict)


def load(config: str | Path, scale: str | None = None, overrides: Sequence[str] = ()) -> ReproConfig:
    """The experiment config, every arm's training config validated (unknown keys fail before any work)."""
    cfg = load_config(ReproConfig, config, list(overrides), scale)
    for arm in cfg.experiment.arms:
        arm_config(cfg, arm, 0, Path("."))
    return cfg


def arm_config(cfg: ReproConfig, arm: Arm, seed: int, out: Path, k: int | None = None) -> ExperimentConfig:
    raw = deep_merge(copy.deepcopy(cfg.run), arm.run)
    ecfg = from_dict(ExperimentConfig, raw, where=f"run (arm {arm.name})")
    ecfg.seed = int(seed)
    ecfg.name = f"{arm.name}_seed{seed}" + (f"_k{k}" if k is not None else "")
    ecfg.out_dir = str(out)
    if ecfg.method.name == "icgan":
        opts = dict(ecfg.method.options)
        opts.setdefault("cache_dir", str(out.parent / "cache"))
        if k is not None:
            opts["k"] = int(k)
        ecfg.method.options = opts
    return ecfg


# -------------------------------------------------------------------------------------------------- training
@dataclass
class Trained:
    trainer: Any

    @property
    def G(self) -> torch.nn.Module:
        return self.trainer.G_ema.eval()

    @property
    def method(self) -> Any:
        return self.trainer.method

    @property
    def is_icgan(self) -> bool:
        return getattr(self.trainer.method, "name", "") == "icgan"


def train(ecfg: ExperimentConfig) -> Trained:
    import ganlab.icgan.methods  # noqa: F401  (presets, method)
    from ganlab.core.train.trainer import Trainer

    trainer = Trainer(ecfg)
    trainer.fit()
    return Trained(trainer)


# ----------------------------------------------------------------------------------------------- evaluation
class _Context:
    """The reference data, the evaluation extractor and the real features, shared by all arms of an experiment."""

    def __init__(self, cfg: ReproConfig, run_dir: RunDir) -> None:
        from ganlab.core.data import get_dataset

        self.cfg, self.run_dir = cfg, run_dir
        p = cfg.experiment
        base = from_dict(ExperimentConfig, copy.deepcopy(cfg.run), where="run")
        d = base.data
        self.train_data = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
        split = p.reference_split or d.split
        self.split = split
        self.reference = (
            self.train_data
            if split == d.split
            else get_dataset(d.name, root=d.root, split=split, resolution=d.resolution, **d.options)
        )
        self.device = _device()
        self.cache = run_dir.path / "cache"
        self._ext = None
        self._real: dict[Any, np.ndarray] = {}

    @property
    def extractor(self) -> Any:
        if self._ext is None:
            from ganlab.icgan.features import resolve_extractor

            p = self.cfg.experiment
            name = p.extractor
            if name == "classifier:auto":
                from ganlab.icgan.features_auto import auto_classifier

                spec = p.eval_classifier
                path = auto_classifier(
                    self.train_data, self.cache, self.device, arch=spec.arch, epochs=spec.epochs, seed=spec.seed
                )
                name = f"classifier:{path}"
            self._ext = resolve_extractor(name, p.extractor_options)
        return self._ext

    def extra_reference(self, spec: dict[str, Any]) -> Any:
        from ganlab.core.data import get_dataset

        d = from_dict(ExperimentConfig, copy.deepcopy(self.cfg.run), where="run").data
        opts = {**d.options, **dict(spec.get("options") or {})}
        return get_dataset(d.name, root=d.root, split=spec.get("split", d.split), resolution=d.resolution, **opts)

    def real(self, reference: Any = None, key: Any = "all") -> np.ndarray:
        reference = reference if reference is not None else self.reference
        if key not in self._real:
            p = self.cfg.experiment
            self._real[key] = ev.real_features(
                self.extractor, reference, p.n_real, device=self.device, batch_size=p.eval_batch_size
            )
        return self._real[key]


def _device() -> torch.device:
    from accelerate import PartialState

    return PartialState().device


def stored_instances(run: Trained, n: int, selection: str, seed: int = 1234) -> Any:
    from ganlab.icgan.instances import select_instances

    m = run.method
    labels = np.asarray(run.trainer.dataset.labels) if m.class_conditional else None
    n = min(int(n), len(m.features))
    return select_instances(m.features, n, method=selection, seed=seed, neighbourhoods=m.neighbourhoods, labels=labels)


def sample_fn(run: Trained, stored: Any, seed: int, labels: np.ndarray | None = None):
    """Image batches of a trained arm: IC-GAN from stored instances; a BigGAN baseline from its own labels."""
    G, device = run.G, run.trainer.device
    if run.is_icgan:
        from ganlab.icgan.generate import Sampler

        return Sampler(G, stored, seed=seed, device=device, labels=labels)
    gen = torch.Generator().manual_seed(int(seed))
    drawn = [0]

    @torch.no_grad()
    def fn(k: int) -> torch.Tensor:
        z = torch.randn(k, G.z_dim, generator=gen).to(device)
        y = None
        if G.num_classes:
            if labels is not None:
                y = torch.from_numpy(labels[(drawn[0] + np.arange(k)) % len(labels)]).to(device)
            else:
                y = torch.randint(0, G.num_classes, (k,), generator=gen).to(device)
        drawn[0] += k
        return G(z, y=y).float().clamp(-1, 1)

    return fn


def evaluate_run(ctx: _Context, run: Trained, stored: Any, sample_seed: int) -> dict[str, Any]:
    p = ctx.cfg.experiment
    rec: dict[str, Any] = {}
    metrics = p.metrics
    feat_m = [m for m in metrics if m in ev.FEATURE_METRICS]
    if feat_m:
        real = ctx.real()
        fake = ev.fake_features(
            ctx.extractor,
            sample_fn(run, stored, sample_seed),
            p.n_fake,
            device=ctx.device,
            batch_size=p.eval_batch_size,
        )
        fid_m = [m for m in feat_m if m == "fid"]
        pr_m = [m for m in feat_m if m != "fid"]
        rec.update(ev.feature_metrics(real, fake, fid_m))
        if pr_m:
            n_pr = p.n_prdc or max(len(real), len(fake))
            rec.update(ev.feature_metrics(real[:n_pr], fake[:n_pr], pr_m))
            rec["n_prdc"] = int(min(n_pr, len(real), len(fake)))
        rec.update(ev.protocol(ctx.extractor, ctx.reference, len(real), p.n_fake, ctx.split))
        for spec in p.extra_references:
            tag = spec.get("tag") or spec.get("split")
            ref_real = ctx.real(ctx.extra_reference(spec), key=tag)
            rec[f"fid_{tag}"] = ev.feature_metrics(ref_real, fake, ["fid"])["fid"]
            rec[f"n_real_{tag}"] = int(len(ref_real))
    if "is" in metrics:
        from ganlab.core.metrics.inception_score import inception_score
        from ganlab.icgan.features import resolve_extractor

        opts = {**p.extractor_options, "output": "logprobs" if p.extractor == "inception" else "logits"}
        name = p.extractor if p.extractor != "classifier:auto" else ctx.extractor.name
        logit_ext = resolve_extractor(name, opts) if p.extractor != "classifier:auto" else _logits_of(ctx)
        logits = ev.fake_features(logit_ext, sample_fn(run, stored, sample_seed), p.n_fake, device=ctx.device)
        rec["is"], rec["is_std"] = inception_score(logits, splits=min(10, p.n_fake))
    if "lpips" in metrics and p.lpips_pairs and run.is_icgan:
        rec["lpips"] = ev.lpips_diversity(run.G, stored, p.lpips_pairs, seed=sample_seed, device=ctx.device)
    if p.stratified and run.trainer.dataset.num_classes:
        rec.update(_stratified(ctx, run, stored, sample_seed))
    return rec


def _logits_of(ctx: _Context) -> Any:
    from ganlab.core.features.extractors import ClassifierExtractor

    ext = ctx.extractor
    return ClassifierExtractor(ext.net, ext.name, ext.weights_sha256, output="logits")


def _stratified(ctx: _Context, run: Trained, stored: Any, seed: int) -> dict[str, float]:
    """FID per class group (many / medium / few training images): the reference split's images of the group's
    classes against as many samples, their labels matching the reference's."""
    from ganlab.core.data import subset

    out: dict[str, float] = {}
    ds = run.trainer.dataset
    groups = ev.class_groups(ds.labels, ds.num_classes)
    ref_labels = np.asarray(ctx.reference.labels)
    for name, classes in groups.items():
        idx = np.flatnonzero(np.isin(ref_labels, classes))
        if len(idx) < 2:
            continue
        p = ctx.cfg.experiment
        if p.n_real is not None and len(idx) > p.n_real:  # at most n_real reference images per group
            idx = np.sort(np.random.default_rng(0).choice(idx, size=p.n_real, replace=False))
        ref = subset(ctx.reference, idx)
        real = ev.real_features(ctx.extractor, ref, None, device=ctx.device)
        fn = sample_fn(run, stored, seed, labels=ref_labels[idx])
        fake = ev.fake_features(ctx.extractor, fn, len(idx), device=ctx.device)
        out[f"fid_{name}"] = ev.feature_metrics(real, fake, ["fid"])["fid"]
        out[f"n_{name}"] = int(len(idx))
    return out


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
            if c in keys or c == "seed" or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            vals = np.array([r[c] for r in rows if isinstance(r.get(c), (int, float))], dtype=np.float64)
            agg[c] = float(np.mean(vals))
            agg[f"{c}_std"] = float(np.std(vals, ddof=1))
        out.append(agg)
    return out


def run_compare(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    ctx = _Context(cfg, run_dir)
    records = []
    for seed in p.seeds:
        for arm in p.arms:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs"))
            stored = stored_instances(run, p.stored, p.selection) if run.is_icgan else None
            for s in p.sample_seeds:
                rec = {"arm": arm.name, "seed": seed, "sample_seed": s, "step": run.trainer.step}
                if stored is not None:
                    rec.update(stored=len(stored), selection=p.selection)
                rec.update(evaluate_run(ctx, run, stored, s))
                records.append(rec)
                run_dir.log_metrics({"event": "result", **rec})
            _grid(run, stored, run_dir, f"{arm.name}_seed{seed}")
    return records + _aggregate(records, ("arm",))


def run_figure4(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    p = cfg.experiment
    ctx = _Context(cfg, run_dir)
    arm = p.arms[0]
    records = []
    for k in p.ks:
        for seed in p.seeds:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs", k=k))
            for sel in p.selections:
                for n in p.stored_sweep:
                    stored = stored_instances(run, n, sel)
                    rec = {"k": k, "selection": sel, "stored": len(stored), "seed": seed}
                    rec.update(evaluate_run(ctx, run, stored, p.sample_seeds[0]))
                    records.append(rec)
                    run_dir.log_metrics({"event": "result", **rec})
    return records + _aggregate(records, ("k", "selection", "stored"))


def run_figure1(cfg: ReproConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    from ganlab.icgan.generate import class_swap_sheet, images_png, instance_sheet

    p = cfg.experiment
    ctx = _Context(cfg, run_dir)
    records = []
    for seed in p.seeds:
        for arm in p.arms:
            run = train(arm_config(cfg, arm, seed, run_dir.path / "runs"))
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
    ctx: _Context, run: Trained, images_ds: Any, idx: np.ndarray, tag: str, features: torch.Tensor | None = None
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


def _transfer(ctx: _Context, run: Trained, run_dir: RunDir, tag: str, seed: int) -> dict[str, Any]:
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
        _exp("table2_coco128", "COCO-Stuff 128: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS (StyleGAN2 pending)"),
        _exp("table2_coco256", "COCO-Stuff 256: uncond. BigGAN vs IC-GAN, train/eval FID, LPIPS (StyleGAN2 pending)"),
        _exp_pending(
            "table2_coco128_stylegan2", "COCO-Stuff 128: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)", "table2_coco128"
        ),
        _exp_pending(
            "table2_coco256_stylegan2", "COCO-Stuff 256: uncond. StyleGAN2 vs IC-GAN (StyleGAN2)", "table2_coco256"
        ),
        _exp("figure4", "stored instances (k-means vs random) x neighbourhood size k: FID, precision, recall"),
        _exp("figure1", "instance sheets, class swaps (cc-IC-GAN) and transfer to another dataset's images"),
    ]
}
