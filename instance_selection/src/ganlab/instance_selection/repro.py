"""Reproductions of the Instance Selection paper (``ganlab instance-selection repro EXP --scale smoke|mini|paper``).

Every experiment is one YAML file under ``configs/`` with two sections: ``protocol`` (arms, seeds, evaluation) and
``run`` (a core training config shared by all arms). ``scales:`` holds the per-scale deltas, so smoke, mini and
paper run the same code. Three kinds:

- ``train`` (Tables 1-3, Figures 3 and 5, the mini experiment): each arm selects a subset (``none``, ``uniform`` or
  a scorer at a retention ratio, in an embedding), trains on it with the core trainer, and is evaluated against the
  FULL dataset (FID, P/R/D/C with K = 5), optionally at several truncation thresholds;
- ``density_vs_fid`` (Figure 2): per class, manifold density of real data against the FID of a class-conditional
  generator's samples of that class;
- ``manifold`` (Figure 12): one class's full data, kept data and samples of the GANs trained on each, in one 2-D map.

An embedding or extractor named ``classifier:auto`` is an in-domain classifier trained on the dataset first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ganlab.core.config import from_dict, load_config
from ganlab.core.errors import ConfigError
from ganlab.core.metrics.fid import fid_from_features
from ganlab.core.repro import Experiment
from ganlab.core.results import RunDir, atomic_write_text, records_to_csv
from ganlab.core.train.config import ExperimentConfig
from ganlab.instance_selection.api import UNIFORM, SelectionConfig, embed_dataset, select_instances
from ganlab.instance_selection.arms import arm_run_config, mean_std
from ganlab.instance_selection.evaluate import check_reference, fake_source, prdc_metrics, reference_dataset
from ganlab.instance_selection.figures import density_fid_scatter, metric_figure
from ganlab.instance_selection.methods import InstanceSelection
from ganlab.instance_selection.toy import run_toy2d

CONFIGS = Path(__file__).parent / "configs"
METRICS = ("is", "fid", "precision", "recall", "density", "coverage")
# extractors whose evaluation setting differs from the selection embedding's (torchvision Inception-v3)
_TV_INCEPTION = ("inception_torchvision", "random:inception")


@dataclass
class Arm:
    """One training set: ``none`` (the full data), ``uniform`` or a scorer, at ``retention_ratio`` percent."""

    name: str
    scorer: str = "none"
    retention_ratio: float = 100.0
    embedding: str | None = None  # default: protocol.selection.embedding
    embedding_options: dict[str, Any] | None = None
    per_class: bool | None = None
    run: dict[str, Any] = field(default_factory=dict)  # this arm's deltas to the shared run config (Table 2)

    def validate(self) -> None:
        if self.scorer == "none" and self.retention_ratio != 100.0:
            raise ConfigError(f"arm {self.name!r}: scorer none trains on the full data; set retention_ratio: 100")


@dataclass
class ClassifierSpec:
    """The in-domain classifier behind ``classifier:auto`` (trained on the full dataset, fixed seed)."""

    arch: str = "lenet"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0


@dataclass
class Protocol:
    kind: Literal["train", "density_vs_fid", "manifold", "toy2d"] = "train"
    arms: list[Arm] = field(default_factory=lambda: [Arm("none"), Arm("gaussian", "gaussian", 50.0)])
    seeds: list[int] = field(default_factory=lambda: [0])
    selection: dict[str, Any] = field(default_factory=dict)  # SelectionConfig defaults shared by the arms
    extractor: str = "inception_torchvision"  # evaluation features (the paper: PyTorch Inception-v3 pool)
    extractor_options: dict[str, Any] = field(default_factory=dict)
    # the evaluation Inception's transform_input: BigGAN-PyTorch's inception_utils builds it with False, while the
    # selection embedding (instance_selection.py) keeps torchvision's True for the pretrained weights
    eval_transform_input: bool = False
    is_splits: int = 10  # Inception Score: 10 splits of the n_fake samples, the evaluation network's logits
    # --test_every / --which_best: evaluate (FID, the protocol's extractor) every eval_every steps and report the
    # best-FID generator as well as the last one; 0: the last one only
    eval_every: int = 0
    eval_n_fake: int | None = None  # samples of the periodic FID (None: n_fake)
    n_fake: int = 50000  # FID: 50k samples against all training images
    n_prdc: int = 10000  # P/R/D/C: 10k real (shuffled full set) vs the first 10k fakes
    k: int = 5
    truncation: list[float] = field(default_factory=lambda: [1.0])  # Figure 5 sweeps 1.0 -> 0.1
    truncation_mode: Literal["scale", "resample"] = "scale"
    eval_batch_size: int = 100
    classifier: ClassifierSpec = field(default_factory=ClassifierSpec)
    correlations: bool = False  # Spearman correlation between the Gaussian, PPCA and KNN scores
    figure: str | None = None  # "retention" (Figure 3) or "truncation" (Figure 5)
    # density_vs_fid (Figure 2)
    generator: str | None = None  # a class-conditional G exported by ganlab (G_ema.pt); None: train a stand-in
    samples_per_class: int = 700
    max_classes: int | None = None
    scorers: list[str] = field(default_factory=lambda: ["gaussian", "ppca", "knn"])
    # manifold (Figure 12)
    manifold_class: int = 0
    projection: Literal["umap", "pca"] = "umap"
    manifold_samples: int = 500


@dataclass
class ISReproConfig:
    protocol: Protocol = field(default_factory=Protocol)
    run: dict[str, Any] = field(default_factory=dict)


def load(config: str | Path, scale: str, overrides: Sequence[str] = ()) -> tuple[ISReproConfig, ExperimentConfig]:
    """The experiment's protocol and its training config (validated: unknown keys fail here, before any work)."""
    cfg = load_config(ISReproConfig, config, overrides, scale)
    run_cfg = from_dict(ExperimentConfig, copy.deepcopy(cfg.run), where="run")
    names = [arm.name for arm in cfg.protocol.arms]
    if len(set(names)) != len(names):
        raise ConfigError(f"arm names must be unique, got {names}")
    for arm in cfg.protocol.arms:
        arm.validate()
        arm_run_config(run_cfg, arm)  # an arm's own deltas are checked before any work too
    return cfg, run_cfg


# ----------------------------------------------------------------------------------------------------- helpers
def _device() -> torch.device:
    from accelerate import PartialState

    return PartialState().device


class _Context:
    """Per-experiment caches: the dataset, the in-domain classifier, embeddings and the real eval features."""

    def __init__(self, proto: Protocol, run_cfg: ExperimentConfig, run_dir: RunDir) -> None:
        self.proto, self.run_cfg, self.run_dir = proto, run_cfg, run_dir
        self.device = _device()
        self.dataset = reference_dataset(run_cfg.data)  # the FULL dataset; selection only changes the sampler
        check_reference(self.dataset)
        self._classifier: str | None = None
        self._features: dict[str, np.ndarray] = {}
        self._extractor = None
        self.cache_dir = run_dir.path / "feature_cache"

    def resolve(self, name: str) -> str:
        if name != "classifier:auto":
            return name
        if self._classifier is None:
            self._classifier = str(self._train_classifier())
        return f"classifier:{self._classifier}"

    def _train_classifier(self) -> Path:
        from ganlab.core.features import save_classifier, train_classifier

        path = self.run_dir.path / "classifier.pt"
        if path.is_file():
            return path
        spec = self.proto.classifier
        ds = self.dataset
        n = len(ds)
        rng = np.random.default_rng(spec.seed)
        order = rng.permutation(n)
        n_test = max(1, n // 10)
        images = ds.get_batch(np.arange(n))["image"]
        labels = torch.as_tensor(ds.labels, dtype=torch.long)
        test, train = order[:n_test], order[n_test:]
        model, info = train_classifier(
            (images[train], labels[train]),
            num_classes=max(ds.num_classes, 1),
            in_channels=images.shape[1],
            test=(images[test], labels[test]),
            protocol="gold",
            arch=spec.arch,
            epochs=spec.epochs,
            samples_per_epoch=None,
            batch_size=spec.batch_size,
            lr=spec.lr,
            seed=spec.seed,
            device=self.device,
        )
        save_classifier(model, path, arch=spec.arch, meta={"test_accuracy": info.get("accuracy")})
        self.run_dir.log_metrics({"event": "classifier", "arch": spec.arch, "test_accuracy": info.get("accuracy")})
        return path

    def embedding(self, name: str, options: dict[str, Any] | None = None) -> np.ndarray:
        key = json.dumps([name, options or {}], sort_keys=True)
        if key not in self._features:
            self._features[key] = embed_dataset(
                self.dataset,
                self.resolve(name),
                batch_size=self.proto.eval_batch_size,
                device=self.device,
                cache_dir=self.cache_dir,
                progress=False,
                **(options or {}),
            )
        return self._features[key]

    @property
    def eval_options(self) -> dict[str, Any]:
        """The evaluation extractor's options: the protocol's, plus the evaluation ``transform_input``."""
        return eval_extractor_options(self.proto)

    @property
    def extractor(self):
        if self._extractor is None:
            from ganlab.core.features import get_extractor

            self._extractor = get_extractor(self.resolve(self.proto.extractor), **self.eval_options)
        return self._extractor

    @property
    def eval_protocol(self) -> dict[str, Any]:
        """What every reported number was computed with (evaluation network settings and sample counts)."""
        p, ext = self.proto, self.extractor
        return {
            "extractor": ext.name,
            "resize": ext.resize,
            "transform_input": self.eval_options.get("transform_input"),
            "n_fake": p.n_fake,
            "n_prdc": p.n_prdc,
            "is_splits": p.is_splits,
        }

    @property
    def logit_extractor(self):
        from ganlab.core.features import get_extractor

        return get_extractor(self.resolve(self.proto.extractor), **{**self.eval_options, "output": "logits"})

    @property
    def real_features(self) -> np.ndarray:
        return self.embedding(self.proto.extractor, self.eval_options)

    def selection(self, arm: Arm):
        if arm.scorer == "none":
            return None
        base = {**self.proto.selection}
        if arm.embedding is not None:
            base["embedding"] = arm.embedding
            base["embedding_options"] = arm.embedding_options or {}
        if arm.per_class is not None:
            base["per_class"] = arm.per_class
        base.update(scorer=arm.scorer, retention_ratio=arm.retention_ratio)
        cfg = from_dict(SelectionConfig, base, where=f"arm {arm.name}")
        feats = None
        if arm.scorer != UNIFORM:
            feats = self.embedding(cfg.embedding, cfg.embedding_options)
            cfg.embedding = self.resolve(cfg.embedding)
        return select_instances(self.dataset, cfg, features=feats, device=self.device)

    def train(self, arm: Arm, seed: int, selection: Any) -> Any:
        from ganlab.core.train import Trainer

        cfg = arm_run_config(self.run_cfg, arm)
        cfg.seed = seed
        cfg.name = f"{arm.name}_seed{seed}"
        cfg.train.progress = False
        method = None
        if selection is not None:
            index_file = selection.save(self.run_dir.path / "indices" / f"{arm.name}.npz")
            method = InstanceSelection(selection=selection)
            cfg.method.name = "instance_selection"  # recorded so that the saved config re-runs the same subset
            cfg.method.options = {"index_file": str(index_file)}
        if self.proto.eval_every:  # the official --test_every N --which_best FID, through the core trainer
            cfg.eval.metrics, cfg.eval.every, cfg.eval.select_best = ["fid"], self.proto.eval_every, "fid"
            cfg.eval.extractor = self.resolve(self.proto.extractor)
            cfg.eval.n_fake = self.proto.eval_n_fake or self.proto.n_fake
            cfg.eval.n_real = None  # all training images, as the final FID
            cfg.eval.options = {
                "extractor_options": self.eval_options,
                "batch_size": self.proto.eval_batch_size,
                "cache_dir": str(self.cache_dir),
            }
        run_dir = RunDir(self.run_dir.path / "runs" / cfg.name)
        trainer = Trainer(cfg, method, run_dir=run_dir, dataset=self.dataset)
        trainer.fit()
        trainer.export_generator()
        return trainer

    def generators(self, trainer: Any) -> dict[str, torch.nn.Module]:
        """The generators to report: ``last`` (G_ema at the end) and, with ``eval_every``, ``best`` (lowest FID)."""
        out = {"last": trainer.G_ema}
        best = trainer.best.path if trainer.best is not None and trainer.best.best_step is not None else None
        if best is not None:
            from ganlab.core.train.checkpoint import load_generator

            out["best"] = load_generator(best, trainer.device)[0]
        return out

    def evaluate(self, trainer: Any, seed: int, psi: float | None, G: torch.nn.Module | None = None) -> dict:
        p = self.proto
        G = trainer.G_ema if G is None else G
        G.eval()
        fn = fake_source(
            G,
            num_classes=trainer.num_classes,
            z_dim=trainer.z_dim,
            device=trainer.device,
            psi=psi,
            truncation_mode=p.truncation_mode,
            seed=10_000 + seed,
        )
        from ganlab.core.features import extract_features

        fake = extract_features(
            self.extractor, fn, n=p.n_fake, batch_size=p.eval_batch_size, device=self.device, progress=False
        )
        real = self.real_features
        out = {"fid": float(fid_from_features(real, fake))}  # all training images as the reference (Brock et al.)
        perm = np.random.default_rng(seed).permutation(len(real))  # P/R/D/C: a shuffled full set
        n = min(p.n_prdc, len(real), len(fake))
        out.update(prdc_metrics(real[perm[:n]], fake[:n], k=p.k))
        from ganlab.core.metrics.inception_score import inception_score

        fn = fake_source(  # the same fakes again (same seed), through the same network's logits
            G,
            num_classes=trainer.num_classes,
            z_dim=trainer.z_dim,
            device=trainer.device,
            psi=psi,
            truncation_mode=p.truncation_mode,
            seed=10_000 + seed,
        )
        logits = extract_features(
            self.logit_extractor, fn, n=p.n_fake, batch_size=p.eval_batch_size, device=self.device, progress=False
        )
        out["is"], out["is_std"] = inception_score(logits, splits=p.is_splits)
        return out


def eval_extractor_options(proto: Protocol) -> dict[str, Any]:
    """Options of the evaluation extractor: ``eval_transform_input`` reaches torchvision's Inception only."""
    opts = dict(proto.extractor_options)
    if proto.extractor in _TV_INCEPTION:
        opts.setdefault("transform_input", proto.eval_transform_input)
    return opts


# ------------------------------------------------------------------------------------------------------- kinds
def run_train(proto: Protocol, run_cfg: ExperimentConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    ctx = _Context(proto, run_cfg, run_dir)
    per_seed: list[dict[str, Any]] = []
    selections = {arm.name: ctx.selection(arm) for arm in proto.arms}
    for seed in proto.seeds:  # seed-major: an interrupted run still has every arm for the first seeds
        for arm in proto.arms:
            sel = selections[arm.name]
            trainer = ctx.train(arm, seed, sel)
            for which, G in ctx.generators(trainer).items():
                step = trainer.step if which == "last" else trainer.best.best_step
                for psi in proto.truncation:
                    metrics = ctx.evaluate(trainer, seed, psi, G)
                    rec = {
                        "arm": arm.name,
                        "scorer": arm.scorer,
                        "retention_ratio": arm.retention_ratio,
                        "kept": len(sel) if sel is not None else len(ctx.dataset),
                        "seed": seed,
                        "checkpoint": which,
                        "step": step,
                        "truncation": psi,
                        **metrics,
                        **ctx.eval_protocol,
                    }
                    per_seed.append(rec)
                    run_dir.log_metrics({"event": "arm_result", **rec})
    atomic_write_text(run_dir.path / "per_seed.csv", records_to_csv(per_seed))
    records = summarize(per_seed)
    if proto.correlations:
        records.extend(scorer_correlations(ctx))
    if proto.figure:
        metric_figure(proto.figure, records, METRICS, run_dir.path)
    return records


def summarize(per_seed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds of every (arm, truncation); works on a partial run's records too."""
    records = []
    truncations = list(dict.fromkeys(r["truncation"] for r in per_seed))
    checkpoints = list(dict.fromkeys(r.get("checkpoint", "last") for r in per_seed))
    for arm in dict.fromkeys(r["arm"] for r in per_seed):
        for which in checkpoints:
            for psi in truncations:
                rows = [
                    r
                    for r in per_seed
                    if r["arm"] == arm and r["truncation"] == psi and r.get("checkpoint", "last") == which
                ]
                if not rows:
                    continue
                head = {k: rows[0][k] for k in ("arm", "scorer", "retention_ratio", "kept")}
                if len(checkpoints) > 1:
                    head["checkpoint"] = which
                if len(truncations) > 1:
                    head["truncation"] = psi
                metrics = [m for m in METRICS if all(m in r for r in rows)]
                records.append({**head, "seeds": len(rows), **mean_std(rows, metrics)})
    return records


def summarize_run(run_dir: str | Path) -> list[dict[str, Any]]:
    """:func:`summarize` of the ``arm_result`` events logged so far in a run directory's ``metrics.jsonl``."""
    rows = [r for r in RunDir(run_dir, create=False).read_metrics() if r.get("event") == "arm_result"]
    return summarize([{k: v for k, v in r.items() if k != "event"} for r in rows])


def scorer_correlations(ctx: _Context) -> list[dict[str, Any]]:
    """Spearman rank correlation between the per-instance Gaussian, PPCA and KNN scores (per class, pooled)."""
    from scipy.stats import spearmanr

    from ganlab.instance_selection.api import dataset_labels
    from ganlab.instance_selection.scoring import class_groups, score_instances

    base = from_dict(SelectionConfig, {**ctx.proto.selection}, where="protocol.selection")
    feats = ctx.embedding(base.embedding, base.embedding_options)
    labels = dataset_labels(ctx.dataset, base.per_class)
    scores = {}
    for name in ("gaussian", "ppca", "knn"):
        cfg = from_dict(SelectionConfig, {**ctx.proto.selection, "scorer": name}, where="protocol.selection")
        scores[name] = score_instances(feats, labels, cfg.scorer_config(), device=ctx.device)
    out = []
    names = list(scores)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            # within-class ranks are what per-class selection uses: average the per-class coefficients
            per_class = [spearmanr(scores[a][idx], scores[b][idx])[0] for _, idx in class_groups(labels, len(feats))]
            out.append({"arm": f"spearman {a} vs {b}", "spearman_within_class": float(np.mean(per_class))})
    return out


def load_generator(path: str | Path, device: Any = "cpu") -> tuple[torch.nn.Module, ExperimentConfig]:
    """A generator exported by ``Trainer.export_generator`` (config + G_ema weights)."""
    from ganlab.core.errors import CheckpointError
    from ganlab.core.nn import build_backbone

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"generator file {path} not found; train one with `ganlab train` (it writes G_ema.pt) and pass its path"
        )
    payload = torch.load(str(path), map_location="cpu", weights_only=False)
    cfg = from_dict(ExperimentConfig, payload["config"], where=str(path))
    G, _ = build_backbone(cfg.model.backbone, **cfg.model.options)
    G.load_state_dict(payload["G"])
    return G.to(device).eval(), cfg


def run_density_vs_fid(proto: Protocol, run_cfg: ExperimentConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    """Figure 2: per class, density of the real class manifold (x) against the class FID of a conditional G (y)."""
    from scipy.stats import pearsonr, spearmanr

    from ganlab.core.features import extract_features
    from ganlab.instance_selection.scoring import score_instances

    ctx = _Context(proto, run_cfg, run_dir)
    ds = ctx.dataset
    if not ds.num_classes:
        raise ConfigError("Figure 2 needs a labelled dataset and a class-conditional generator")
    if proto.generator is not None:
        G, _ = load_generator(proto.generator, ctx.device)
        z_dim, num_classes = G.z_dim, G.num_classes
    else:  # stand-in: a class-conditional GAN trained here on the configured data
        trainer = ctx.train(Arm("standin_generator"), proto.seeds[0], None)
        G, z_dim, num_classes = trainer.G_ema.eval(), trainer.z_dim, trainer.num_classes
    if num_classes != ds.num_classes:
        raise ConfigError(f"the generator has {num_classes} classes but the dataset has {ds.num_classes}")
    sel_cfg = from_dict(SelectionConfig, {**proto.selection}, where="protocol.selection")
    emb = ctx.embedding(sel_cfg.embedding, sel_cfg.embedding_options)
    real_eval = ctx.real_features
    rng = np.random.default_rng(proto.seeds[0])
    classes = np.unique(ds.labels)
    if proto.max_classes is not None:
        classes = classes[: proto.max_classes]
    records = []
    for c in classes:
        idx = np.flatnonzero(ds.labels == c)
        idx = np.sort(rng.choice(idx, size=min(proto.samples_per_class, len(idx)), replace=False))
        rec: dict[str, Any] = {"class": int(c), "n_real": len(idx)}
        for name in proto.scorers:
            cfg = from_dict(SelectionConfig, {**proto.selection, "scorer": name}, where="protocol.selection")
            s = score_instances(emb[idx], None, cfg.scorer_config(), device=ctx.device)
            rec[f"density_{name}"] = float(-s.mean())  # lower = denser, as Figure 2's x axis
        fn = fake_source(G, num_classes=num_classes, z_dim=z_dim, device=ctx.device, seed=int(c), labels=int(c))
        fake = extract_features(ctx.extractor, fn, n=len(idx), batch_size=proto.eval_batch_size, progress=False)
        rec["fid"] = float(fid_from_features(real_eval[idx], fake))
        records.append(rec)
    per_class = list(records)
    fids = [r["fid"] for r in per_class]
    for name in proto.scorers:
        xs = [r[f"density_{name}"] for r in per_class]
        records.append(
            {
                "class": f"correlation ({name})",
                "pearson": float(pearsonr(xs, fids)[0]) if len(xs) > 2 else float("nan"),
                "spearman": float(spearmanr(xs, fids)[0]) if len(xs) > 2 else float("nan"),
            }
        )
    density_fid_scatter(records, proto.scorers, run_dir.path / "figure2_density_vs_fid.png")
    return records


def run_manifold(proto: Protocol, run_cfg: ExperimentConfig, run_dir: RunDir) -> list[dict[str, Any]]:
    """Figure 12: one class's full data, kept data and class-conditional samples of both GANs in one 2-D map."""
    from ganlab.core.features import extract_features
    from ganlab.instance_selection.figures import manifold_figure

    ctx = _Context(proto, run_cfg, run_dir)
    ds = ctx.dataset
    c = proto.manifold_class
    if ds.num_classes and c not in set(np.unique(ds.labels).tolist()):
        raise ConfigError(f"manifold_class {c} is not a class of the dataset")
    members = np.flatnonzero(ds.labels == c) if ds.num_classes else np.arange(len(ds))
    real = ctx.real_features
    panels: dict[str, np.ndarray] = {"(a) full data": real[members]}
    sels = {arm.name: ctx.selection(arm) for arm in proto.arms}
    for arm in proto.arms:
        if sels[arm.name] is not None:
            kept = np.intersect1d(sels[arm.name].indices, members)
            panels[f"(b) kept by {arm.name}"] = real[kept]
    records = []
    for arm in proto.arms:
        trainer = ctx.train(arm, proto.seeds[0], sels[arm.name])
        fn = fake_source(
            trainer.G_ema.eval(),
            num_classes=trainer.num_classes,
            z_dim=trainer.z_dim,
            device=ctx.device,
            seed=c,
            labels=c if trainer.num_classes else None,
        )
        fake = extract_features(
            ctx.extractor, fn, n=proto.manifold_samples, batch_size=proto.eval_batch_size, progress=False
        )
        panels[f"samples, GAN on {arm.name}"] = fake
        n = min(len(members), len(fake))
        rec = {"arm": arm.name, "class": c, "n_class": len(members)}
        rec.update(prdc_metrics(real[members][:n], fake[:n], k=proto.k))
        records.append(rec)
    manifold_figure(panels, real[members], run_dir.path / "figure12_manifold.png", proto.projection)
    return records


KINDS = {"train": run_train, "density_vs_fid": run_density_vs_fid, "manifold": run_manifold, "toy2d": run_toy2d}


def run(config: Path, scale: str, overrides: Sequence[str], run_dir: RunDir) -> list[dict[str, Any]]:
    cfg, run_cfg = load(config, scale, overrides)
    run_dir.save_config(cfg)
    return KINDS[cfg.protocol.kind](cfg.protocol, run_cfg, run_dir)


def _exp(name: str, description: str, scales: tuple[str, ...] = ("smoke", "mini", "paper")) -> Experiment:
    return Experiment(
        name=name,
        paper="instance_selection",
        description=description,
        config=CONFIGS / f"{name}.yaml",
        run=run,
        scales=scales,
    )


EXPERIMENTS: dict[str, Experiment] = {
    "table1": _exp("table1", "Table 1: embeddings x scoring functions at 50% retention (SAGAN 64x64)"),
    "table3": _exp("table3", "Table 3 + Figure 3: retention ratio sweep 100..10% (SAGAN 64x64, 500k iterations)"),
    "table2": _exp("table2", "Table 2: BigGAN 128x128 ch64, full data vs 50% instance selection", ("smoke", "paper")),
    "figure2": _exp("figure2", "Figure 2: per-class manifold density vs per-class FID of a conditional generator"),
    "figure5": _exp("figure5", "Figure 5: truncation sweep 1.0 -> 0.1 with and without instance selection"),
    "figure12": _exp("figure12", "Figure 12: one class's data manifold, kept data and GAN samples in one 2-D map"),
    "mini": _exp("mini", "MNIST (5k): full vs uniform 50% vs Gaussian/PPCA/KNN 50%, in-domain features, 3 seeds"),
    "mini_toy2d": _exp(
        "mini_toy2d",
        "2-D ring of 8 modes + low-density halo: full vs uniform 50% vs Gaussian 50%, 3 seeds",
        ("smoke", "mini"),
    ),
}
