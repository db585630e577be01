"""Evaluating IC-GAN samples with the protocol saved next to every number (IC-GAN §3.1).

FID and Inception Score of ``n_fake`` samples (conditionings from stored instances) against a reference split
(the paper: 50k samples vs the 50k ImageNet *validation* images; training-split FID is the official training
monitor), Precision / Recall / Density / Coverage (k = 5; the paper's P/R use 10k vs 10k), LPIPS diversity (mean
distance between two samples of the same instance with different z), and FID stratified by class groups
(ImageNet-LT: many > 100, 20 <= medium <= 100, few < 20 training images per class). Every record carries the
extractor, its weights hash and resize, the reference (dataset, split, fingerprint, N real) and N fake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError

FEATURE_METRICS = ("fid", "precision", "recall", "density", "coverage")
METRICS = (*FEATURE_METRICS, "is", "lpips")
LT_GROUPS = {"many": (101, None), "medium": (20, 100), "few": (0, 19)}
# protocol choices (experiment fields of the same names; every result record carries them)
REFERENCE_DRAWS = ("first", "random", "all")  # which reference features P/R/D/C use when n_prdc < N real
INSTANCE_DRAWS = ("uniform", "class_balanced")  # how conditionings are drawn from the stored instances
LABEL_DRAWS = ("uniform", "train_distribution")  # how a class-conditional BigGAN baseline draws its labels
CHECKPOINTS = ("last", "best")  # the evaluated generator: the last G_ema, or the one with the best training FID
INSTANCE_SETS = ("train", "reference")  # conditionings: stored training instances, or each reference split's own


def check_metrics(metrics: Sequence[str]) -> list[str]:
    out = [m.lower() for m in metrics]
    bad = [m for m in out if m not in METRICS]
    if bad:
        raise ConfigError(f"unknown metric {bad[0]!r}; IC-GAN evaluation offers {', '.join(METRICS)}")
    return out


def reference_indices(n_total: int, n_real: int | None, seed: int = 0) -> np.ndarray:
    """A seeded random subset of ``n_real`` reference positions (all when ``n_real`` is None or too large)."""
    if n_real is None or n_real >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).permutation(n_total)[:n_real])


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise ConfigError(f"experiment.{what} must be one of {', '.join(choices)}, got {value!r}")
    return value


def draw_reference(n_total: int, n: int | None, how: str = "random", seed: int = 0) -> np.ndarray:
    """Positions of the ``n`` reference features that P/R/D/C use: ``random`` (a seeded permutation's first ``n``,
    as the official PRDC reference is drawn from a shuffled set), ``first`` (the first ``n``: a class-sorted split
    then covers only its first classes) or ``all``."""
    check_choice(how, REFERENCE_DRAWS, "reference_draw")
    if how == "all" or n is None or n >= n_total:
        return np.arange(n_total)
    if how == "first":
        return np.arange(int(n))
    return np.random.default_rng(seed).permutation(n_total)[: int(n)]


def class_balanced_probs(labels: np.ndarray) -> np.ndarray:
    """Draw probabilities of items such that a draw is a uniform class, then a uniform item of that class."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels)
    p = 1.0 / (np.count_nonzero(counts) * counts[labels].astype(np.float64))
    return p / p.sum()


def label_probs(how: str, num_classes: int, train_labels: np.ndarray | None = None) -> np.ndarray | None:
    """Class probabilities of a baseline's labels: None for ``uniform``, the training frequencies otherwise."""
    check_choice(how, LABEL_DRAWS, "label_draw")
    if how == "uniform":
        return None
    if train_labels is None:
        raise ConfigError("label_draw: train_distribution needs the training labels")
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    return counts / counts.sum()


def real_features(
    extractor: Any, reference: Any, n_real: int | None, *, seed: int = 0, device: Any = "cpu", batch_size: int = 256
) -> np.ndarray:
    from ganlab.core.data import subset
    from ganlab.core.features import extract_features

    idx = reference_indices(len(reference), n_real, seed)
    src = reference if len(idx) == len(reference) else subset(reference, idx)
    return extract_features(extractor, src, batch_size=batch_size, device=device, progress=False)


def fake_features(
    extractor: Any, sample_fn: Callable[[int], torch.Tensor], n: int, *, device: Any = "cpu", batch_size: int = 256
) -> np.ndarray:
    from ganlab.core.features import extract_features

    return extract_features(extractor, sample_fn, n=n, batch_size=batch_size, device=device, progress=False)


def feature_metrics(real: np.ndarray, fake: np.ndarray, metrics: Sequence[str], k: int = 5) -> dict[str, float]:
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.core.metrics.prdc import prdc

    out: dict[str, float] = {}
    if "fid" in metrics:
        out["fid"] = float(fid_from_features(real, fake))
    if any(m in metrics for m in ("precision", "recall", "density", "coverage")):
        vals = prdc(real, fake, k=k)
        out.update({m: float(vals[m]) for m in ("precision", "recall", "density", "coverage") if m in metrics})
    return out


@torch.no_grad()
def lpips_diversity(
    G: torch.nn.Module, stored: Any, n_pairs: int, *, seed: int = 0, device: Any = "cpu", model: Any = None
) -> float:
    """Mean LPIPS between two samples of the same conditioning (and label) with two different z (IC-GAN Table 2)."""
    from ganlab.core.metrics.perceptual import lpips_distance
    from ganlab.icgan.generate import _class_input

    rng = np.random.default_rng(seed)
    pos, labels = stored.draw(n_pairs, rng)
    gen = torch.Generator().manual_seed(int(seed))
    h = stored.conditioning(pos, device)
    y = torch.from_numpy(labels).to(device) if (_class_input(G) and labels is not None) else None
    a = G(torch.randn(n_pairs, G.z_dim, generator=gen).to(device), y=y, feat=h).clamp(-1, 1)
    b = G(torch.randn(n_pairs, G.z_dim, generator=gen).to(device), y=y, feat=h).clamp(-1, 1)
    if a.shape[1] == 1:
        a, b = a.expand(-1, 3, -1, -1), b.expand(-1, 3, -1, -1)
    return float(np.mean(lpips_distance(a, b, device=device, model=model)))


def protocol(extractor: Any, reference: Any, n_real: int, n_fake: int, split: str | None = None) -> dict[str, Any]:
    """The facts that make a number comparable: network, resize, reference split, N real / N fake."""
    return {
        **{k: v for k, v in extractor.protocol().items() if k != "dim"},
        "reference": getattr(reference, "name", "?"),
        "reference_split": split,
        "reference_fingerprint": getattr(reference, "fingerprint", None),
        "n_real": int(n_real),
        "n_fake": int(n_fake),
    }


def class_groups(train_labels: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    """ImageNet-LT's class groups by training images per class: many (> 100), medium (20-100), few (< 20)."""
    counts = np.bincount(np.asarray(train_labels), minlength=num_classes)
    out = {}
    for name, (lo, hi) in LT_GROUPS.items():
        mask = counts >= lo if hi is None else (counts >= lo) & (counts <= hi)
        out[name] = np.flatnonzero(mask & (counts > 0))
    return out


def evaluate_generator(
    G: torch.nn.Module,
    stored: Any,
    reference: Any,
    *,
    metrics: Sequence[str] = ("fid",),
    extractor: Any = "inception",
    n_fake: int = 50000,
    n_real: int | None = None,
    n_prdc: int | None = None,
    reference_draw: str = "random",
    lpips_pairs: int = 0,
    seed: int = 0,
    split: str | None = None,
    device: Any = "cpu",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Metrics of an IC-GAN's samples (conditionings drawn from ``stored``) against ``reference``, with the
    protocol. ``extractor``: a core extractor or its name; IS uses its logits (log-probabilities for Inception).
    P/R/D/C compare ``n_prdc`` reference features (drawn as ``reference_draw`` says) with the first ``n_prdc``
    samples."""
    from ganlab.core.metrics.inception_score import inception_score
    from ganlab.icgan.features import resolve_extractor
    from ganlab.icgan.generate import Sampler

    metrics = check_metrics(metrics)
    name = extractor if isinstance(extractor, str) else None
    ext = resolve_extractor(extractor) if isinstance(extractor, str) else extractor
    out: dict[str, Any] = {}
    feat_m = [m for m in metrics if m in FEATURE_METRICS]
    if feat_m:
        real = real_features(ext, reference, n_real, device=device, batch_size=batch_size)
        fake = fake_features(
            ext, Sampler(G, stored, seed=seed, device=device), n_fake, device=device, batch_size=batch_size
        )
        if "fid" in feat_m:
            out.update(feature_metrics(real, fake, ["fid"]))
        pr = [m for m in feat_m if m != "fid"]
        if pr:
            n_pr = min(n_prdc or max(len(real), len(fake)), len(real), len(fake))
            idx = draw_reference(len(real), n_pr, reference_draw)
            out.update(feature_metrics(real[idx], fake[:n_pr], pr))
            out["n_prdc"] = int(n_pr)
            out["reference_draw"] = reference_draw
        out.update(protocol(ext, reference, len(real), n_fake, split))
    if "is" in metrics:
        if name is None:
            raise ConfigError("Inception Score needs the extractor by name (its logits are rebuilt from it)")
        logit_ext = resolve_extractor(name, {"output": "logprobs" if name == "inception" else "logits"})
        logits = fake_features(logit_ext, Sampler(G, stored, seed=seed, device=device), n_fake, device=device)
        out["is"], out["is_std"] = inception_score(logits, splits=min(10, n_fake))
    if "lpips" in metrics and lpips_pairs:
        out["lpips"] = lpips_diversity(G, stored, lpips_pairs, seed=seed, device=device)
        out["lpips_pairs"] = int(lpips_pairs)
    return out


def stratified_fid(
    extractor: Any,
    reference: Any,
    train_labels: np.ndarray,
    num_classes: int,
    sampler_for: Callable[[np.ndarray], Callable[[int], torch.Tensor]],
    n_real: int | None = None,
    device: Any = "cpu",
) -> dict[str, float]:
    """FID per class group (many / medium / few training images): the reference split's images of the group's
    classes (at most ``n_real``, seeded) against as many samples of ``sampler_for(their labels)``."""
    from ganlab.core.data import subset

    out: dict[str, float] = {}
    ref_labels = np.asarray(reference.labels)
    for name, classes in class_groups(train_labels, num_classes).items():
        idx = np.flatnonzero(np.isin(ref_labels, classes))
        if len(idx) < 2:
            continue
        if n_real is not None and len(idx) > n_real:  # at most n_real reference images per group
            idx = np.sort(np.random.default_rng(0).choice(idx, size=n_real, replace=False))
        real = real_features(extractor, subset(reference, idx), None, device=device)
        fake = fake_features(extractor, sampler_for(ref_labels[idx]), len(idx), device=device)
        out[f"fid_{name}"] = feature_metrics(real, fake, ["fid"])["fid"]
        out[f"n_{name}"] = int(len(idx))
    return out


def apply_instance_draw(stored: Any, how: str, train_labels: np.ndarray | None) -> Any:
    """``stored`` drawn ``uniform`` (as is) or ``class_balanced``: a uniform class, then one of its instances."""
    import copy

    check_choice(how, INSTANCE_DRAWS, "instance_draw")
    if how == "uniform" or stored is None:
        return stored
    if stored.indices is None or train_labels is None:
        raise ConfigError("instance_draw: class_balanced needs labelled training instances")
    out = copy.copy(stored)
    out.probs = class_balanced_probs(np.asarray(train_labels)[stored.indices])
    return out
