"""IC-GAN's evaluation inside the reproductions (the core harness's ``Hooks.evaluate``): the reference data and
evaluation network shared by all arms, the samples of one trained arm, and every metric of it with the protocol
saved in each record.

The protocol fields (``experiment.*``, each recorded in every result; :func:`eval_protocol` states them as core's
:class:`~ganlab.core.evaluation.EvalProtocol`, whose ``eval_*`` columns every record carries too):

- ``extractor`` + ``transform_input`` (torchvision Inception only: False as BigGAN-PyTorch's PyTorch-FID network)
  + ``resize`` (``extractor``: the network's own; ``tf_bilinear``: the TF graph's bilinear resize of the paper's
  TF FID / IS, :mod:`ganlab.core.features.resize`);
- ``n_fake``: a number, or ``reference``: as many samples as each reference split has images;
- ``reference_draw``: which reference features P/R/D/C use when ``n_prdc`` is smaller (seeded ``random``);
- ``instance_draw``: conditionings drawn ``uniform`` over the stored instances or ``class_balanced``;
- ``label_draw``: a class-conditional baseline's labels ``uniform`` or by the ``train_distribution``;
- ``instance_set``: ``reference``: each extra reference split is sampled from its own images' features;
- ``checkpoint``: ``last`` G_ema or the ``best`` by training FID (core's
  :func:`~ganlab.core.train.evaluation_schedule.attach_scored_best`, driven by :func:`training_fid`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ganlab.core.config import from_dict
from ganlab.core.train.config import ExperimentConfig
from ganlab.icgan import evaluate as ev
from ganlab.icgan.evaluate import apply_instance_draw  # noqa: F401  (the protocol's draws)
from ganlab.icgan.instances import TrainingInstances
from ganlab.icgan.repro_protocol import (  # noqa: F401  (the protocol's network and fields, read here)
    Trained,
    eval_extractor,
    eval_protocol,
    extractor_options,
    protocol_fields,
    trained,
)


class Context:
    """The reference data, the evaluation extractor and the real features, shared by all arms of an experiment."""

    def __init__(self, cfg: Any, run_dir: Any) -> None:
        from ganlab.core.data import get_dataset

        self.cfg, self.run_dir = cfg, run_dir
        p = cfg.experiment
        d = from_dict(ExperimentConfig, copy.deepcopy(cfg.run), where="run").data
        self.train_data = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
        self.split = split = p.reference_split or d.split
        self.reference = (
            self.train_data
            if split == d.split
            else get_dataset(d.name, root=d.root, split=split, resolution=d.resolution, **d.options)
        )
        from ganlab.core.processes import process_state

        self.device = process_state().device
        self.cache = run_dir.path / "cache"
        self._ext = None
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
            self._ext = eval_extractor(p, name)
        return self._ext

    def logit_extractor(self) -> Any:
        """The evaluation network's logits (log-probabilities for clean-fid's Inception), for the Inception Score."""
        p = self.cfg.experiment
        if p.extractor == "classifier:auto":
            from ganlab.core.features.resize import resized_extractor

            return resized_extractor(logits_of(self), p.resize, p.resize_size)
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


def sample_fn(run: Trained, stored: Any, seed: int, labels: np.ndarray | None = None, label_p: Any = None):
    """Image batches of a trained arm: IC-GAN from stored instances; a baseline from its own labels."""
    from ganlab.icgan.generate import sample_fn as samples

    return samples(run.G, stored if run.is_icgan else None, seed, run.trainer.device, labels, label_p)


def baseline_label_probs(ctx: Context, run: Trained) -> np.ndarray | None:
    """A class-conditional baseline's label probabilities (None: uniform); None for IC-GAN and unconditional G."""
    from ganlab.icgan.generate import _class_input

    p = ctx.cfg.experiment
    if run.is_icgan or not _class_input(run.G):
        return None
    train_labels = np.asarray(run.trainer.dataset.labels) if p.label_draw != "uniform" else None
    return ev.label_probs(p.label_draw, int(run.G.num_classes), train_labels)


def training_fid(ctx: Context) -> Any:
    """``trainer -> FID`` of ``best_n_fake`` samples against the training split, conditionings drawn uniformly over
    all training instances (the official training-time FID that picks ``checkpoint: best``)."""
    p = ctx.cfg.experiment

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

    return score


def _n_fake(p: Any, n_real: int) -> int:
    return int(n_real) if p.n_fake == "reference" else int(p.n_fake)


def evaluate_run(ctx: Context, run: Trained, stored: Any, sample_seed: int, arm: str = "") -> dict[str, Any]:
    p = ctx.cfg.experiment
    rec: dict[str, Any] = protocol_fields(p)
    if run.best is not None:
        rec.update(run.best)
    label_p = baseline_label_probs(ctx, run)

    def fakes(n: int, source: Any = stored, ext: Any = None) -> np.ndarray:
        fn = sample_fn(run, source, sample_seed, label_p=label_p)
        return ev.fake_features(ext or ctx.extractor, fn, n, device=ctx.device, batch_size=p.eval_batch_size)

    feat_m = [m for m in p.metrics if m in ev.FEATURE_METRICS]
    n_fake = _n_fake(p, len(ctx.real())) if (feat_m or "is" in p.metrics) else 0
    if feat_m:
        real, fake = ctx.real(), fakes(n_fake)
        pr_m = [m for m in feat_m if m != "fid"]
        rec.update(ev.feature_metrics(real, fake, [m for m in feat_m if m == "fid"]))
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
            own_split = p.instance_set == "reference" and run.is_icgan  # this split's own images condition G
            if p.n_fake == "reference" or own_split:
                own = ctx.dataset_instances(run, ref_ds, (arm, tag)) if own_split else stored
                if own_split:
                    rec[f"stored_{tag}"] = len(own)
                ref_fake = fakes(_n_fake(p, len(ref_real)), own)
            rec[f"fid_{tag}"] = ev.feature_metrics(ref_real, ref_fake, ["fid"])["fid"]
            rec[f"n_real_{tag}"] = int(len(ref_real))
            rec[f"n_fake_{tag}"] = int(len(ref_fake))
    if "is" in p.metrics:
        from ganlab.core.metrics.inception_score import inception_score

        fn = sample_fn(run, stored, sample_seed, label_p=label_p)
        logits = ev.fake_features(ctx.logit_extractor(), fn, n_fake, device=ctx.device)
        rec["is"], rec["is_std"] = inception_score(logits, splits=min(10, n_fake))
        rec.setdefault("n_fake", int(n_fake))
    if "lpips" in p.metrics and p.lpips_pairs and run.is_icgan:
        rec["lpips"] = ev.lpips_diversity(run.G, stored, p.lpips_pairs, seed=sample_seed, device=ctx.device)
    ds = run.trainer.dataset
    if p.stratified and ds.num_classes:
        rec.update(
            ev.stratified_fid(
                ctx.extractor,
                ctx.reference,
                ds.labels,
                ds.num_classes,
                lambda labels: sample_fn(run, stored, sample_seed, labels=labels),
                n_real=p.n_real,
                device=ctx.device,
            )
        )
    return rec


def logits_of(ctx: Context) -> Any:
    from ganlab.core.features.extractors import ClassifierExtractor

    ext = ctx.extractor
    ext = getattr(ext, "inner", ext)  # behind a protocol resize
    return ClassifierExtractor(ext.net, ext.name, ext.weights_sha256, output="logits")
