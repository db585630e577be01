"""The metric protocol of a setting: its data, the in-domain feature extractor trained here, the reference features,
and the evaluation of a method's samples — every number returned with the protocol it was measured under.

The evaluation follows the setting's core :class:`~ganlab.core.evaluation.protocol.EvalProtocol`
(:meth:`ganlab.benchmarks.suite.ProtocolSpec.eval_protocol`): its metrics, number of fakes, P/R/D/C reals and k, IS
splits and batch size; the network it names is checked to resize as the protocol says.

Shared files of a setting live in ``<suite run>/<setting>/_shared/`` and are made once, before any cell runs
(:func:`prepare`): the classifier checkpoint and the features of every training image.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.fileio import atomic_write_bytes, atomic_write_text

__all__ = ["NO_CACHE_ENV", "SettingContext", "describe_methods", "describe_setting", "evaluate_samples"]

EVALUATOR_FILES = ("classifier.pt", "classifier.json", "features.npy")
NO_CACHE_ENV = "GANLAB_BENCH_NO_CACHE"  # set to 1: every suite run trains its own evaluator


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class SettingContext:
    """One setting of a suite run: its dataset, extractor and reference features (made once, then read)."""

    def __init__(self, suite: Any, name: str, root: str | Path) -> None:
        self.suite, self.name = suite, name
        self.spec = suite.settings[name]
        self.dir = Path(root) / name
        self.shared = self.dir / "_shared"
        self._dataset = None
        self._extractor = None
        self._features: np.ndarray | None = None
        self.eval_protocol = self.spec.eval_protocol()  # core's EvalProtocol: what every number is measured under

    # ------------------------------------------------------------------------------------------------ data
    @property
    def data_cfg(self) -> dict[str, Any]:
        return dict(self.spec.run.get("data", {}))

    @property
    def dataset(self) -> Any:
        if self._dataset is None:
            from ganlab.core.data import get_dataset

            d = self.data_cfg
            self._dataset = get_dataset(
                d.get("name", "mnist5k"),
                root=d.get("root"),
                split=d.get("split", "train"),
                resolution=d.get("resolution"),
                **dict(d.get("options", {})),
            )
        return self._dataset

    # ------------------------------------------------------------------------------------------- extractor
    @property
    def classifier_path(self) -> Path:
        return self.shared / "classifier.pt"

    def evaluator_key(self) -> str | None:
        """A hash of what decides the in-domain classifier and its features (data, arch, epochs, holdout, seed); the
        name of its folder in the cache, so suites and re-runs on the same data train it once. None: not cached."""
        ext = self.spec.protocol.extractor
        if ext is None or ext.name is not None:
            return None
        d = self.data_cfg
        what = {"data": {k: d.get(k) for k in ("name", "split", "resolution", "options")}, "arch": ext.arch,
                "epochs": ext.epochs, "holdout": ext.holdout, "seed": ext.seed, "options": ext.options}  # fmt: skip
        return hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def _cached_evaluator(self) -> Path | None:
        key = self.evaluator_key()
        if key is None or os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
            return None
        from ganlab.core.fileio import cache_root

        return cache_root() / "benchmarks" / "evaluators" / key

    def prepare(self, progress: bool = False) -> None:
        """Train the in-domain classifier and extract the reference features, unless already done (here, or in the
        cache: ``$GANLAB_CACHE_DIR/benchmarks/evaluators/<key>/``, which a fresh training fills)."""
        ext = self.spec.protocol.extractor
        if ext is None or (self.shared / "features.npy").is_file():
            return
        cached = self._cached_evaluator()
        if cached is not None and all((cached / f).is_file() for f in EVALUATOR_FILES):
            for f in EVALUATOR_FILES:
                atomic_write_bytes(self.shared / f, (cached / f).read_bytes())
            return
        from ganlab.core.features.indomain import train_classifier_on_dataset

        if ext.name is None and not self.classifier_path.is_file():
            d = self.data_cfg
            _, meta = train_classifier_on_dataset(
                d.get("name", "mnist5k"),
                arch=ext.arch,
                split=d.get("split", "train"),
                test_split=None,
                holdout=ext.holdout,
                resolution=d.get("resolution"),
                dataset_options=dict(d.get("options", {})),
                out=self.classifier_path,
                progress=progress,
                epochs=ext.epochs,
                seed=ext.seed,
            )
            atomic_write_text(self.shared / "classifier.json", json.dumps(meta, indent=2, default=str))
        feats = self.embed(self.dataset)
        buf = io.BytesIO()
        np.save(buf, feats)
        atomic_write_bytes(self.shared / "features.npy", buf.getvalue())
        if cached is not None:
            with contextlib.suppress(OSError):  # a read-only cache only costs the next run a training
                for f in EVALUATOR_FILES:
                    atomic_write_bytes(cached / f, (self.shared / f).read_bytes())

    @property
    def extractor_name(self) -> str:
        ext = self.spec.protocol.extractor
        return ext.name if ext is not None and ext.name else f"classifier:{self.classifier_path}"

    def _get_extractor(self, **extra: Any) -> Any:
        from ganlab.core.features import get_extractor

        ext = self.spec.protocol.extractor
        return get_extractor(self.extractor_name, **{**(ext.options if ext is not None else {}), **extra})

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            ext = self._get_extractor()
            self.eval_protocol.check_extractor(getattr(ext, "resize", "none"))
            self._extractor = ext
        return self._extractor

    def logits(self, images: Any) -> np.ndarray:
        """Class log-probabilities (Inception) or logits (an in-domain classifier), for the Inception Score."""
        from ganlab.core.features import extract_features

        out = "logprobs" if self.extractor_name.split(":")[0] == "inception" else "logits"
        return extract_features(self._get_extractor(output=out), images, batch_size=self.eval_protocol.batch_size,
                                device=_device(), progress=False)  # fmt: skip

    def embed(self, images: Any) -> np.ndarray:
        from ganlab.core.features import extract_features

        bs = self.eval_protocol.batch_size
        return extract_features(self.extractor, images, batch_size=bs, device=_device(), progress=False)

    @property
    def features(self) -> np.ndarray:
        """Features of every training item (dataset order): the extractor's, or the raw vectors of 2-D toy data."""
        if self._features is None:
            if self.spec.protocol.extractor is None:
                ds = self.dataset
                self._features = ds.get_batch(np.arange(len(ds)))["image"].flatten(1).numpy().astype(np.float32)
            else:
                self._features = np.load(self.shared / "features.npy")
        return self._features

    def classifier_accuracy(self) -> float | None:
        path = self.shared / "classifier.json"
        return json.loads(path.read_text()).get("accuracy") if path.is_file() else None

    @property
    def n_fake(self) -> int:
        """The number of fakes each cell draws (the protocol's)."""
        return self.eval_protocol.fake_count(len(self.dataset))

    def protocol(self) -> dict[str, Any]:
        """The protocol of this setting's numbers in the suite's own words (saved beside every value, next to the
        core protocol's ``eval_*`` columns)."""
        p = self.spec.protocol
        out: dict[str, Any] = {"dataset": self.data_cfg.get("name"), "n_fake": p.n_fake}
        if p.extractor is not None and p.extractor.name:
            out["extractor"] = f"{p.extractor.name} (pretrained; {self.extractor.protocol().get('resize', '')})"
        elif p.extractor is not None:
            acc = self.classifier_accuracy()
            out["extractor"] = (
                f"in-domain {p.extractor.arch} trained here ({p.extractor.epochs} epochs, held-out accuracy "
                f"{acc:.3f}; stands in for Inception)"
                if acc is not None
                else f"in-domain {p.extractor.arch} trained here"
            )
        if p.extractor is not None:
            out["fid_reference"] = f"all {len(self.dataset)} training images"
            out["prdc_n_real"] = p.n_real or len(self.dataset)
            out["k"] = p.k
        if p.capacity:
            out["classifier_accuracy"] = (
                f"LeNet trained {p.capacity_epochs} epochs on {min(p.capacity_samples, p.n_fake)} labelled samples "
                "(a seeded subset), tested on 2,000 seeded training images (class-conditional methods only)"
            )
        return out


def _group_recall(ctx: SettingContext, fake_feats: np.ndarray, k: int) -> float:
    from ganlab.core.metrics.prdc import precision_recall

    minor = np.flatnonzero(ctx.dataset.groups == 1)
    return float(precision_recall(ctx.features[minor], fake_feats, k=k)["recall"])


def describe_methods(suite: Any, setting: str) -> str:
    """Where a method's protocol differs from its setting's (its sampler draws labels otherwise, e.g. GOLD
    rejection's class-sequential bank): the methods, then the sentences of core's ``describe()`` that differ, e.g.
    ``For gold_rejection, diagan+gold_rejection: Class-conditional generators get labels in equal blocks per class,
    in class order; ...``; empty when every method is evaluated as the setting says."""
    base = suite.settings[setting].eval_protocol()
    said = set(_sentences(base.describe()))
    groups: dict[str, list[str]] = {}
    for method in suite.methods:
        if setting not in suite.settings_of(method):
            continue
        differ = " ".join(x for x in _sentences(suite.eval_protocol(setting, method).describe()) if x not in said)
        if differ:
            groups.setdefault(differ, []).append(method)
    return " ".join(f"For {', '.join(methods)}: {differ}" for differ, methods in groups.items())


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=\.) ", text.strip())


def describe_setting(spec: Any, recorded: dict[str, Any] | None = None, methods: str = "") -> str:
    """The protocol of a setting in words: core's ``describe()`` of its :class:`EvalProtocol`, the ``methods`` whose
    protocol differs (:func:`describe_methods`), then what only the suite states or measures (the dataset, the
    evaluator's training and accuracy from a cell's ``recorded`` protocol, the minority, mode and
    classifier-on-synthetic columns)."""
    p = spec.protocol
    words = [spec.eval_protocol().describe(), *([methods] if methods else [])]
    words.append(f"Dataset: {spec.run.get('data', {}).get('name', 'mnist5k')}.")
    recorded = recorded or {}
    if recorded.get("extractor"):
        words.append(f"Network: {recorded['extractor']}.")
    if p.minority:
        words.append(
            f"minority_share: the share of minor-colour samples; minority_recall: the recall (k = {p.k}) of the "
            "minor-colour training images."
        )
    if p.modes:
        words.append(
            f"modes_covered, high_quality: mode statistics of the {p.n_fake} samples (a mode is covered by 20 "
            "samples per 10,000 within 4 sigma of its centre)."
        )
    if recorded.get("classifier_accuracy"):
        words.append(f"classifier_accuracy: {recorded['classifier_accuracy']}.")
    return " ".join(words)


def evaluate_samples(ctx: SettingContext, samples: dict[str, torch.Tensor], seed: int) -> dict[str, float]:
    """Every metric of the setting's protocol on ``samples`` (``image`` (N, ...) in [-1, 1], optional ``label``):
    the core protocol's feature metrics (P/R/D/C reals drawn at random with the cell's ``seed``), then the suite's
    own columns."""
    p, e = ctx.spec.protocol, ctx.eval_protocol
    images = samples["image"].float().cpu()
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    if e.metrics:
        from ganlab.core.metrics.fid import fid_from_features

        fake = ctx.embed(images)
        real = ctx.features  # the reference: every image of the training split
        if "fid" in e.metrics:
            out["fid"] = float(fid_from_features(real, fake))
        if "prdc" in e.metrics:
            from ganlab.core.metrics.prdc import prdc

            n_real = e.prdc.n_real
            if n_real is not None and n_real < len(real):
                real = real[np.sort(np.random.default_rng(seed).choice(len(real), n_real, replace=False))]
            out.update({k: float(v) for k, v in prdc(real, fake, k=e.prdc.k).items()})
        if "is" in e.metrics:
            from ganlab.core.metrics.inception_score import inception_score

            out["is"], out["is_std"] = (float(v) for v in inception_score(ctx.logits(images), splits=e.is_splits))
        if p.minority:
            from ganlab.diagan.analysis import minor_occurrence

            out["minority_share"] = minor_occurrence(images)
            out["minority_recall"] = _group_recall(ctx, fake, e.prdc.k)
    if p.modes:
        from ganlab.core.metrics.modes import mode_statistics

        ds = ctx.dataset
        min_count = max(1, round(20 * len(images) / 10_000))  # Dia-GAN/PacGAN: 20 good samples of 10k cover a mode
        stats = mode_statistics(images.numpy(), ds.centers, ds.sigma, threshold=4.0, min_count=min_count)
        out["modes_covered"] = float(stats["modes_covered"])
        out["high_quality"] = float(stats["high_quality_fraction"])
    if p.capacity and "label" in samples:
        from ganlab.core.metrics.capacity import fitting_capacity

        ds = ctx.dataset
        rng = np.random.default_rng(seed)
        test = np.sort(rng.choice(len(ds), min(len(ds), 2000), replace=False))
        real = ds.get_batch(test)
        # a seeded subset, not the first ones: a sampler may return its samples grouped by class (GOLD rejection)
        take = np.sort(rng.permutation(len(images))[: p.capacity_samples])
        res = fitting_capacity(
            (images[take], samples["label"].cpu().numpy()[take]),
            real["image"],
            real["label"].numpy(),
            num_classes=ds.num_classes,
            device="cpu",
            progress=False,
            epochs=p.capacity_epochs,
            samples_per_epoch=None,  # one pass over the cell's samples per epoch (GOLD's default draws 10k afresh)
        )
        out["classifier_accuracy"] = float(res["fitting_capacity"])
    out["eval_s"] = time.perf_counter() - t0
    return out
