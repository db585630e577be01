"""Evaluation of a generator or stored images against a dataset: FID, IS, KID, P/R/D/C, fitting capacity and
reconstruction error, each value returned with its protocol.

Every record holds the protocol (extractor, weights hash, resize, reference split, n_real, n_fake, k, seed, ...)
so that numbers computed differently are never mistaken for each other. The ``ganlab eval`` command
(:mod:`ganlab.core.metrics.cli`) and the trainer's periodic evaluation both call :func:`evaluate`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError
from ganlab.core.metrics.sources import ArrayImages, generator_image_fn, load_images
from ganlab.core.registry import closest

__all__ = ["FEATURE_METRICS", "METRICS", "evaluate"]

FEATURE_METRICS = ("fid", "kid", "prdc", "pr", "is")
METRICS = (*FEATURE_METRICS, "fitting_capacity", "re")


def _default_cache_dir() -> Path:
    from ganlab.core.fileio import cache_root

    return cache_root() / "features"


def evaluate(
    source: str | Path | torch.nn.Module | ArrayImages,
    dataset: str | Any,
    *,
    metrics: list[str] = ("fid",),
    split: str = "train",
    resolution: int | None = None,
    dataset_options: dict[str, Any] | None = None,
    extractor: str | Any = "inception",
    extractor_options: dict[str, Any] | None = None,
    n_fake: int = 10_000,
    n_real: int | None = None,
    k: int = 5,
    seed: int = 0,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    cache_dir: str | Path | None | bool = None,
    capacity_options: dict[str, Any] | None = None,
    re_options: dict[str, Any] | None = None,
    run_dir: Any = None,
    progress: bool = True,
    source_info: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate ``source`` (a generator module, stored images, or the path of an image folder / .npz / .npy) against
    ``dataset`` (a registered name, built with ``split``/``resolution``/``dataset_options``, or a dataset object).

    A checkpoint or run directory is read by :func:`ganlab.core.train.checkpoint.load_generator` first (the
    ``ganlab eval`` command does that).

    Returns one flat record per metric value, each with its protocol; when ``run_dir`` (a RunDir) is given the
    records are appended to its ``metrics.jsonl``. ``source_info`` (e.g. the checkpoint and step a generator came
    from) is added to every record.
    """
    from ganlab.core.data import get_dataset, subset
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.features.classifier import _default_device

    metrics = [m.strip().lower() for m in metrics if m.strip()]
    for m in metrics:
        if m not in METRICS:
            hint = closest(m, list(METRICS))
            raise ConfigError(
                f"unknown metric {m!r}; choose from {', '.join(METRICS)}"
                + (f" (did you mean {hint!r}?)" if hint else "")
            )
    device = torch.device(device) if device is not None else _default_device()
    # None: the default cache folder; False: no cache
    cache_dir = None if cache_dir is False else (Path(cache_dir) if cache_dir is not None else _default_cache_dir())

    # ---- the evaluated images (checked first: a missing source is reported before anything is loaded)
    info: dict[str, Any] = {}
    G = None
    fake_store: ArrayImages | None = None
    if isinstance(source, torch.nn.Module):
        G = source.to(device).eval()
        info["source"] = type(source).__name__
    elif isinstance(source, ArrayImages):
        fake_store = source
        info["source"] = source.fingerprint
    else:
        fake_store = load_images(source)
        info["source"] = str(source)
    info.update(source_info or {})
    if fake_store is not None and n_fake > len(fake_store):
        n_fake = len(fake_store)
    fake_fn = generator_image_fn(G, seed, device) if G is not None else None
    fake_src: Any = fake_fn if G is not None else fake_store

    # fail on missing weights before any expensive work
    feat_metrics = [m for m in metrics if m in FEATURE_METRICS]
    if not isinstance(extractor, str) and "is" in feat_metrics:  # its logits are rebuilt from the name
        raise ConfigError("the Inception Score needs the extractor by name, not a built extractor")
    if not feat_metrics:
        ext = None
    elif isinstance(extractor, str):
        ext = get_extractor(extractor, **(extractor_options or {}))
    else:  # a built extractor, e.g. behind a protocol resize (core.evaluation.protocol_extractor)
        ext = extractor

    # ---- the reference data
    if isinstance(dataset, str):
        ds = get_dataset(dataset, split=split, resolution=resolution, **(dataset_options or {}))
    else:
        ds, dataset = dataset, getattr(dataset, "name", type(dataset).__name__)
    n_ref = len(ds) if n_real is None else min(int(n_real), len(ds))
    ref = ds if n_ref == len(ds) else subset(ds, np.sort(np.random.default_rng(seed).permutation(len(ds))[:n_ref]))
    base = {
        "dataset": dataset,
        "ref_split": split,
        "resolution": resolution,
        "dataset_fingerprint": ds.fingerprint,
        "seed": seed,
        **info,
    }
    records: list[dict[str, Any]] = []

    def emit(metric: str, value: float, **protocol: Any) -> None:
        rec = {"metric": metric, "value": float(value), **base, **protocol}
        records.append(rec)
        if run_dir is not None:
            run_dir.log_metrics(rec)

    # ---- feature metrics
    if ext is not None:
        t0 = time.time()
        common = dict(batch_size=batch_size, device=device, progress=progress)
        real = extract_features(ext, ref, cache_dir=cache_dir, **common)
        fake = extract_features(ext, fake_src, n=n_fake, cache_dir=cache_dir if G is None else None, **common)
        proto = {
            **ext.protocol(),
            "n_real": len(real),
            "n_fake": len(fake),
            "batch_size": batch_size,
            "quantize_fakes": G is not None,
            "tf32": False,
        }
        from ganlab.core.metrics import fid as fid_mod

        if "fid" in feat_metrics:
            emit("fid", fid_mod.fid_from_features(real, fake), **proto, wall_s=time.time() - t0)
        if "kid" in feat_metrics:
            from ganlab.core.metrics.kid import kid

            mean, std = kid(real, fake, seed=seed)
            emit("kid", mean, **proto, kid_std=std)
        if "prdc" in feat_metrics:
            from ganlab.core.metrics.prdc import prdc

            for name, value in prdc(real, fake, k=k).items():
                emit(name, value, **proto, k=k, family="prdc")
        if "pr" in feat_metrics:
            from ganlab.core.metrics.prdc import precision_recall

            for name, value in precision_recall(real, fake, k=k).items():
                emit(name, value, **proto, k=k, family="pr")
        if "is" in feat_metrics:
            from ganlab.core.metrics.inception_score import inception_score

            out = "logprobs" if extractor == "inception" else "logits"
            lext = get_extractor(extractor, **{**(extractor_options or {}), "output": out})
            logits = extract_features(
                lext, fake_src if G is None else generator_image_fn(G, seed, device), n=n_fake, **common
            )
            mean, std = inception_score(logits, splits=10)
            emit("is", mean, **{**proto, **lext.protocol(), "n_real": 0}, is_std=std, splits=10)

    # ---- classifier-based metrics (need all reference images in memory: small datasets such as MNIST)
    if "fitting_capacity" in metrics or "re" in metrics:
        batch = ref.get_batch(np.arange(len(ref)))
        real_images, real_labels = batch["image"], batch["label"].numpy()
    if "fitting_capacity" in metrics:
        from ganlab.core.metrics.capacity import conditional_sampler, fitting_capacity

        opts = dict(capacity_options or {})
        if G is not None:
            if not getattr(G, "num_classes", 0):
                raise ConfigError("fitting capacity needs a class-conditional generator (num_classes > 0)")
            gen: Any = conditional_sampler(G, seed=seed, device=device)
        else:
            if fake_store.labels is None:
                raise ConfigError("fitting capacity of stored images needs their labels (an npz with 'labels')")
            gen = (fake_store.get_batch(np.arange(n_fake))["image"], fake_store.labels[:n_fake])
        t0 = time.time()
        res = fitting_capacity(
            gen, real_images, real_labels, num_classes=ds.num_classes or None, device=device, progress=progress, **opts
        )
        p = res["protocol"]
        emit(
            "fitting_capacity",
            res["fitting_capacity"],
            best_accuracy=res["best_accuracy"],
            classifier=p["arch"],
            epochs=p["epochs"],
            samples_per_epoch=p["samples_per_epoch"] if G is not None else n_fake,
            n_real=len(real_images),
            n_fake=(p["samples_per_epoch"] or 0) * p["epochs"] if G is not None else n_fake,
            capacity_seed=p["seed"],
            wall_s=time.time() - t0,
        )
    if "re" in metrics:
        from ganlab.core.metrics.reconstruction import reconstruction_error

        opts = {"n_fake": 50_000, **(re_options or {})}
        if G is not None:
            gen_re: Any = generator_image_fn(G, seed + 1, device)
        else:
            gen_re = fake_store.get_batch(np.arange(min(opts["n_fake"], len(fake_store))))["image"]
        t0 = time.time()
        res = reconstruction_error(
            gen_re, real_images, groups=ref.groups, seed=seed, device=device, progress=progress, **opts
        )
        extra = {k_: v for k_, v in res.items() if k_.startswith("re_group")}
        emit(
            "re",
            res["re_mean"],
            n_real=res["n_real"],
            n_fake=res["n_fake"],
            cae="CAE32",
            norm=32,
            epochs=opts.get("epochs", 50),
            cae_loss=res["cae_loss"],
            wall_s=time.time() - t0,
            **extra,
        )
        for name, value in extra.items():
            emit(name, value, n_real=int((ref.groups == int(name[8:])).sum()), n_fake=res["n_fake"], cae="CAE32")
    return records
