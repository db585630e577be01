"""Evaluation inside the reproductions: the reference data and evaluation network shared by all arms, the samples
of one trained arm, and every metric of it with the protocol saved in each record.

The protocol fields (``experiment.*``, each recorded in every result):

- ``extractor`` + ``transform_input`` (torchvision Inception only: False as BigGAN-PyTorch's PyTorch-FID network)
  + ``resize`` (``extractor``: the network's own; ``tf_bilinear``: the TF graph's bilinear resize of the paper's
  TF FID / IS, :mod:`ganlab.core.features.resize`);
- ``n_fake``: a number, or ``reference``: as many samples as each reference split has images;
- ``reference_draw``: which reference features P/R/D/C use when ``n_prdc`` is smaller (seeded ``random``);
- ``instance_draw``: conditionings drawn ``uniform`` over the stored instances or ``class_balanced``;
- ``label_draw``: a class-conditional baseline's labels ``uniform`` or by the ``train_distribution``;
- ``instance_set``: ``reference``: each extra reference split is sampled from its own images' features;
- ``checkpoint``: ``last`` G_ema or the ``best`` by training FID (:mod:`ganlab.icgan.best`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganlab.core.config import from_dict
from ganlab.core.train.config import ExperimentConfig
from ganlab.icgan import evaluate as ev

TORCHVISION_INCEPTIONS = ("inception_torchvision", "random:inception")


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


class Context:
    """The reference data, the evaluation extractor and the real features, shared by all arms of an experiment."""

    def __init__(self, cfg: Any, run_dir: Any) -> None:
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
        self._name: str | None = None
        self._real: dict[Any, np.ndarray] = {}
        self._instances: dict[Any, Any] = {}

    @property
    def extractor(self) -> Any:
        if self._ext is None:
            p = self.cfg.experiment
            name = p.extractor
            if name == "classifier:auto":
                from ganlab.icgan.features_auto import auto_classifier

                spec = p.eval_classifier
                path = auto_classifier(
                    self.train_data, self.cache, self.device, arch=spec.arch, epochs=spec.epochs, seed=spec.seed
                )
                name = f"classifier:{path}"
            self._name = name
            self._ext = eval_extractor(p, name)
        return self._ext

    def logit_extractor(self) -> Any:
        """The evaluation network's logits (log-probabilities for clean-fid's Inception), for the Inception Score."""
        p = self.cfg.experiment
        if p.extractor == "classifier:auto":
            from ganlab.core.features.resize import resized_extractor

            return resized_extractor(_logits_of(self), p.resize, p.resize_size)
        return eval_extractor(p, output="logprobs" if p.extractor == "inception" else "logits")

    def extra_reference(self, spec: dict[str, Any]) -> Any:
        from ganlab.core.data import get_dataset, subset

        d = from_dict(ExperimentConfig, copy.deepcopy(self.cfg.run), where="run").data
        opts = {**d.options, **dict(spec.get("options") or {})}
        ds = get_dataset(d.name, root=d.root, split=spec.get("split", d.split), resolution=d.resolution, **opts)
        if spec.get("n_real") is not None:  # a cap on this split's reference images (seeded)
            ds = subset(ds, ev.reference_indices(len(ds), int(spec["n_real"])))
        return ds

    def real(self, reference: Any = None, key: Any = "all") -> np.ndarray:
        reference = reference if reference is not None else self.reference
        if key not in self._real:
            p = self.cfg.experiment
            self._real[key] = ev.real_features(
                self.extractor, reference, p.n_real, device=self.device, batch_size=p.eval_batch_size
            )
        return self._real[key]

    def dataset_instances(self, run: Trained, dataset: Any, key: Any, n: int | None = None, selection: str = "all"):
        """Stored instances made of ``dataset``'s images embedded with the arm's own feature extractor (an
        evaluation split's own instances; the other dataset's instances of a transfer arm)."""
        from ganlab.core.features import extract_features
        from ganlab.icgan.features import InstanceFeatures, extractor_of
        from ganlab.icgan.instances import select_instances

        if key not in self._instances:
            ext = extractor_of(run.method.features)
            raw = extract_features(ext, dataset, batch_size=self.cfg.experiment.eval_batch_size, device=self.device)
            feats = InstanceFeatures.from_arrays(raw, meta={"extractor": getattr(ext, "name", None)})
            m = len(feats) if n is None else min(int(n), len(feats))
            self._instances[key] = select_instances(feats, m, method=selection if m < len(feats) else "all")
        return self._instances[key]


def _device() -> torch.device:
    from accelerate import PartialState

    return PartialState().device


class TrainingInstances:
    """Every training instance as a sampling source, read on demand (the official training-time FID draws
    conditionings uniformly over all N instances; N x 2048 features of ImageNet are never copied into memory).
    A class-conditional G gets the label of a random neighbour, as in training."""

    def __init__(self, method: Any, labels: np.ndarray | None = None) -> None:
        self.features, self.nb = method.features, method.neighbourhoods
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def dim(self) -> int:
        return self.features.dim

    def draw(self, n: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        pos = generator.integers(0, len(self), size=n)
        if self.labels is None:
            return pos, None
        nb = self.nb.indices[pos, generator.integers(0, self.nb.k, size=n)]
        return pos, self.labels[nb]

    def conditioning(self, pos: np.ndarray, device: Any = "cpu") -> torch.Tensor:
        return self.features.get(np.asarray(pos)).to(device)


def apply_instance_draw(stored: Any, how: str, train_labels: np.ndarray | None) -> Any:
    """``stored`` drawn ``uniform`` (as is) or ``class_balanced``: a uniform class, then one of its instances."""
    ev.check_choice(how, ev.INSTANCE_DRAWS, "instance_draw")
    if how == "uniform" or stored is None:
        return stored
    if stored.indices is None or train_labels is None:
        from ganlab.core.errors import ConfigError

        raise ConfigError("instance_draw: class_balanced needs labelled training instances")
    out = copy.copy(stored)
    out.probs = ev.class_balanced_probs(np.asarray(train_labels)[stored.indices])
    return out


def sample_fn(run: Trained, stored: Any, seed: int, labels: np.ndarray | None = None, label_p: Any = None):
    """Image batches of a trained arm: IC-GAN from stored instances; a BigGAN baseline from its own labels
    (given ``labels`` in turn, else drawn uniformly or with probabilities ``label_p``)."""
    G, device = run.G, run.trainer.device
    if run.is_icgan:
        from ganlab.icgan.generate import Sampler

        return Sampler(G, stored, seed=seed, device=device, labels=labels)
    gen = torch.Generator().manual_seed(int(seed))
    drawn = [0]
    probs = None if label_p is None else torch.as_tensor(np.asarray(label_p), dtype=torch.float64)

    @torch.no_grad()
    def fn(k: int) -> torch.Tensor:
        z = torch.randn(k, G.z_dim, generator=gen).to(device)
        y = None
        if G.num_classes:
            if labels is not None:
                y = torch.from_numpy(labels[(drawn[0] + np.arange(k)) % len(labels)]).to(device)
            elif probs is not None:
                y = torch.multinomial(probs, k, replacement=True, generator=gen).to(device)
            else:
                y = torch.randint(0, G.num_classes, (k,), generator=gen).to(device)
        drawn[0] += k
        return G(z, y=y).float().clamp(-1, 1)

    return fn


def baseline_label_probs(ctx: Context, run: Trained) -> np.ndarray | None:
    """A class-conditional baseline's label probabilities (None: uniform); None for IC-GAN and unconditional G."""
    from ganlab.icgan.generate import _class_input

    p = ctx.cfg.experiment
    if run.is_icgan or not _class_input(run.G):
        return None
    train_labels = np.asarray(run.trainer.dataset.labels) if p.label_draw != "uniform" else None
    return ev.label_probs(p.label_draw, int(run.G.num_classes), train_labels)


def _n_fake(p: Any, n_real: int) -> int:
    return int(n_real) if p.n_fake == "reference" else int(p.n_fake)


def evaluate_run(ctx: Context, run: Trained, stored: Any, sample_seed: int, arm: str = "") -> dict[str, Any]:
    p = ctx.cfg.experiment
    rec: dict[str, Any] = protocol_fields(p)
    if run.best is not None:
        rec.update(run.best)
    label_p = baseline_label_probs(ctx, run)
    metrics = p.metrics
    feat_m = [m for m in metrics if m in ev.FEATURE_METRICS]
    n_fake = _n_fake(p, len(ctx.real())) if (feat_m or "is" in metrics) else 0
    if feat_m:
        real = ctx.real()
        fake = ev.fake_features(
            ctx.extractor,
            sample_fn(run, stored, sample_seed, label_p=label_p),
            n_fake,
            device=ctx.device,
            batch_size=p.eval_batch_size,
        )
        fid_m = [m for m in feat_m if m == "fid"]
        pr_m = [m for m in feat_m if m != "fid"]
        rec.update(ev.feature_metrics(real, fake, fid_m))
        if pr_m:
            n_pr = min(p.n_prdc or max(len(real), len(fake)), len(real), len(fake))
            idx = ev.draw_reference(len(real), n_pr, p.reference_draw, seed=p.reference_seed)
            rec.update(ev.feature_metrics(real[idx], fake[:n_pr], pr_m))
            rec["n_prdc"] = int(n_pr)
        rec.update(ev.protocol(ctx.extractor, ctx.reference, len(real), len(fake), ctx.split))
        for spec in p.extra_references:
            tag = spec.get("tag") or spec.get("split")
            ref_ds = ctx.extra_reference(spec)
            ref_real = ctx.real(ref_ds, key=tag)
            ref_fake = fake
            if p.n_fake == "reference" or (p.instance_set == "reference" and run.is_icgan):
                own = stored
                if p.instance_set == "reference" and run.is_icgan:  # this split's own images condition G
                    own = ctx.dataset_instances(run, ref_ds, (arm, tag))
                    rec[f"stored_{tag}"] = len(own)
                ref_fake = ev.fake_features(
                    ctx.extractor,
                    sample_fn(run, own, sample_seed, label_p=label_p),
                    _n_fake(p, len(ref_real)),
                    device=ctx.device,
                    batch_size=p.eval_batch_size,
                )
            rec[f"fid_{tag}"] = ev.feature_metrics(ref_real, ref_fake, ["fid"])["fid"]
            rec[f"n_real_{tag}"] = int(len(ref_real))
            rec[f"n_fake_{tag}"] = int(len(ref_fake))
    if "is" in metrics:
        from ganlab.core.metrics.inception_score import inception_score

        fn = sample_fn(run, stored, sample_seed, label_p=label_p)
        logits = ev.fake_features(ctx.logit_extractor(), fn, n_fake, device=ctx.device)
        rec["is"], rec["is_std"] = inception_score(logits, splits=min(10, n_fake))
        rec.setdefault("n_fake", int(n_fake))
    if "lpips" in metrics and p.lpips_pairs and run.is_icgan:
        rec["lpips"] = ev.lpips_diversity(run.G, stored, p.lpips_pairs, seed=sample_seed, device=ctx.device)
    if p.stratified and run.trainer.dataset.num_classes:
        rec.update(_stratified(ctx, run, stored, sample_seed))
    return rec


def _logits_of(ctx: Context) -> Any:
    from ganlab.core.features.extractors import ClassifierExtractor

    ext = ctx.extractor
    ext = getattr(ext, "inner", ext)  # behind a protocol resize
    return ClassifierExtractor(ext.net, ext.name, ext.weights_sha256, output="logits")


def _stratified(ctx: Context, run: Trained, stored: Any, seed: int) -> dict[str, float]:
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
