"""``ganlab eval``: evaluate a generator checkpoint, an image folder or an npz against a dataset.

    ganlab eval runs/demo --dataset mnist5k --resolution 32 --metrics fid,prdc,kid --extractor inception
    ganlab eval samples.npz --dataset cifar10 --split test --metrics fid,is --n-fake 10000
    ganlab eval runs/gold/G_ema.pt --dataset mnist --split test --resolution 32 --metrics fitting_capacity

Every value is appended to ``<out>/metrics.jsonl`` with its protocol (extractor, weights hash, resize, reference
split, n_real, n_fake, k, seed, ...) so that numbers computed differently are never mistaken for each other;
``results.json/csv`` and ``summary.md`` hold the same records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import CheckpointError, ConfigError, DatasetError
from ganlab.core.registry import closest

FEATURE_METRICS = ("fid", "kid", "prdc", "pr", "is")
METRICS = (*FEATURE_METRICS, "fitting_capacity", "re")


# ------------------------------------------------------------------------------------------------- sources
class ArrayImages:
    """uint8 or float images held in memory (an npz), served in [-1, 1] batch by batch."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None, identity: str) -> None:
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4:
            raise DatasetError(f"expected images (N, H, W, C) or (N, C, H, W), got shape {images.shape}")
        if images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
            images = images.transpose(0, 3, 1, 2)
        self.images = np.ascontiguousarray(images)
        self.labels = labels
        self.fingerprint = identity

    def __len__(self) -> int:
        return len(self.images)

    def get_batch(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        x = torch.from_numpy(self.images[np.asarray(indices)])
        x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
        out = {"image": x}
        if self.labels is not None:
            out["label"] = torch.from_numpy(np.asarray(self.labels)[np.asarray(indices)].astype(np.int64))
        return out


def _file_digest(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]


def load_npz(path: str | Path) -> ArrayImages:
    """Images from an npz (keys ``images``/``x``/``arr_0``; labels ``labels``/``y`` optional)."""
    path = Path(path)
    with np.load(path) as z:
        key = next((k for k in ("images", "x", "arr_0") if k in z), None)
        if key is None:
            raise DatasetError(f"{path} holds {list(z.keys())}; expected an 'images' (or 'x') array")
        labels = next((z[k] for k in ("labels", "y") if k in z), None)
        return ArrayImages(z[key], labels, f"npz:{_file_digest(path)}")


def load_folder(path: str | Path) -> ArrayImages:
    """All images of a folder (sorted by name), decoded to uint8; sizes must agree."""
    from PIL import Image

    exts = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".ppm", ".pgm", ".tif", ".tiff")
    files = sorted(p for p in Path(path).iterdir() if p.suffix.lower() in exts)
    if not files:
        raise DatasetError(f"no image files ({', '.join(exts)}) in {path}")
    arrays = []
    for f in files:
        with Image.open(f) as img:
            arrays.append(np.asarray(img.convert("L" if img.mode in ("L", "I", "I;16", "1") else "RGB")))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DatasetError(f"images in {path} have different sizes {sorted(shapes)[:3]}; resize them first")
    digest = hashlib.sha1("|".join(f"{f.name}:{f.stat().st_size}" for f in files).encode()).hexdigest()[:16]
    return ArrayImages(np.stack(arrays), None, f"folder:{digest}")


def load_generator(path: str | Path, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """G (eval mode) from an export file (``G_ema.pt``), a trainer checkpoint, or a run directory."""
    path = Path(path)
    if path.is_dir():
        export = path / "G_ema.pt"
        if export.is_file():
            path = export
        else:
            from ganlab.core.train.cli import latest_checkpoint

            path = latest_checkpoint(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise CheckpointError(f"cannot read {path} ({type(exc).__name__}: {exc})") from None
    if isinstance(state, torch.nn.Module):
        return state.to(device).eval(), {"checkpoint": str(path)}
    if isinstance(state, dict) and "G" in state and "config" in state:
        from ganlab.core.config import from_dict
        from ganlab.core.nn import build_backbone
        from ganlab.core.train.config import ExperimentConfig

        cfg = from_dict(ExperimentConfig, state["config"])
        G, _ = build_backbone(cfg.model.backbone, **cfg.model.options)
        G.load_state_dict(state["G"])
        return G.to(device).eval(), {"checkpoint": str(path), "step": state.get("step"), "config": cfg}
    if isinstance(state, dict) and "models" in state:
        from ganlab.core.train.cli import load_models

        G, _, cfg, st = load_models(path, device=device, critic="__none__")
        return G, {"checkpoint": str(path), "step": st.get("step"), "config": cfg}
    raise CheckpointError(f"{path} is neither a generator export (G_ema.pt), a trainer checkpoint nor a module")


def generator_image_fn(G: torch.nn.Module, seed: int, device: torch.device) -> Callable[[int], torch.Tensor]:
    """``fn(k) -> k images`` with z ~ N(0, I) and uniform labels for a conditional G (streamed, never stored)."""
    gen = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(G, "num_classes", 0) or 0)

    @torch.no_grad()
    def fn(k: int) -> torch.Tensor:
        z = torch.randn(k, G.z_dim, generator=gen).to(device)
        y = torch.randint(0, num_classes, (k,), generator=gen).to(device) if num_classes else None
        return G(z, y=y).float()

    return fn


# -------------------------------------------------------------------------------------------------- evaluate
def _default_cache_dir() -> Path:
    return Path(os.environ.get("GANLAB_CACHE_DIR", Path.home() / ".cache" / "ganlab")).expanduser() / "features"


def evaluate(
    source: str | Path | torch.nn.Module | Any,
    dataset: str,
    *,
    metrics: list[str] = ("fid",),
    split: str = "train",
    resolution: int | None = None,
    dataset_options: dict[str, Any] | None = None,
    extractor: str = "inception",
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
) -> list[dict[str, Any]]:
    """Evaluate ``source`` (checkpoint path / run dir / generator module / folder / npz / ArrayImages) on ``dataset``.

    Returns one flat record per metric value, each with its protocol; when ``run_dir`` (a RunDir) is given the
    records are appended to its ``metrics.jsonl``.
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

    # fail on missing weights before any expensive work
    feat_metrics = [m for m in metrics if m in FEATURE_METRICS]
    ext = get_extractor(extractor, **(extractor_options or {})) if feat_metrics else None

    # ---- the evaluated images: a generator (streamed) or stored images
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
        p = Path(source)
        if not p.exists():
            raise DatasetError(f"{p} does not exist; pass a checkpoint, a run directory, an image folder or an npz")
        info["source"] = str(p)
        if p.suffix == ".npz":
            fake_store = load_npz(p)
        elif p.suffix == ".npy":
            fake_store = ArrayImages(np.load(p), None, f"npy:{_file_digest(p)}")
        elif p.is_dir() and not (p / "G_ema.pt").exists() and not (p / "checkpoints").exists():
            fake_store = load_folder(p)
        else:
            G, ginfo = load_generator(p, device)
            info.update({k_: v for k_, v in ginfo.items() if k_ in ("checkpoint", "step")})
    if fake_store is not None and n_fake > len(fake_store):
        n_fake = len(fake_store)
    fake_fn = generator_image_fn(G, seed, device) if G is not None else None
    fake_src: Any = fake_fn if G is not None else fake_store
    fake_key = info.get("checkpoint", info["source"])
    if G is not None and isinstance(source, (str, Path)):
        fake_key = f"{fake_key}:{_file_digest(Path(info['checkpoint']))}"

    # ---- the reference data
    ds = get_dataset(dataset, split=split, resolution=resolution, **(dataset_options or {}))
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


# ------------------------------------------------------------------------------------------------------- CLI
def _parse_kv(items: list[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"expected KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key] = yaml.safe_load(value)
    return out


def _cmd_eval(args: argparse.Namespace) -> int:
    from ganlab.core.results import RunDir

    src = Path(args.source)
    if args.out_dir:
        out = Path(args.out_dir)
    elif src.is_dir() and ((src / "checkpoints").exists() or (src / "G_ema.pt").exists()):
        out = src / "eval"
    else:
        out = Path("runs") / "eval" / src.stem
    run_dir = RunDir(out)
    if args.weights_dir:
        os.environ["GANLAB_WEIGHTS_DIR"] = args.weights_dir
    ext_opts = _parse_kv(args.extractor_option)
    if args.allow_download:
        ext_opts["download"] = True
    cap_opts = _parse_kv(args.capacity_option)
    if args.capacity_epochs is not None:
        cap_opts["epochs"] = args.capacity_epochs
    re_opts = _parse_kv(args.re_option)
    records = evaluate(
        args.source,
        args.dataset,
        metrics=args.metrics.split(","),
        split=args.split,
        resolution=args.resolution,
        dataset_options=_parse_kv(args.dataset_option),
        extractor=args.extractor,
        extractor_options=ext_opts,
        n_fake=args.n_fake,
        n_real=args.n_real,
        k=args.k,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        cache_dir=False if args.no_cache else args.cache_dir,
        capacity_options=cap_opts,
        re_options=re_opts,
        run_dir=run_dir,
        progress=not args.quiet,
    )
    if records:
        run_dir.write_results(records, title=f"ganlab eval {args.source} on {args.dataset}/{args.split}")
    for rec in records:
        print(json.dumps({k: rec[k] for k in ("metric", "value") if k in rec}))
    print(f"results: {run_dir.path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ganlab eval``."""
    p = subparsers.add_parser("eval", help="evaluate a checkpoint, an image folder or an npz against a dataset")
    p.add_argument("source", help="G_ema.pt / trainer checkpoint / run directory, an image folder, .npz or .npy")
    p.add_argument("--dataset", required=True, help="reference dataset name (see `ganlab data list`)")
    p.add_argument("--split", default="train", help="reference split (default: train)")
    p.add_argument("--resolution", type=int, default=None, help="reference resolution in pixels")
    p.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE", help="e.g. rho=0.99")
    p.add_argument("--metrics", default="fid", help=f"comma-separated: {','.join(METRICS)} (default: fid)")
    p.add_argument("--extractor", default="inception", help="feature extractor (default: inception)")
    p.add_argument("--extractor-option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--weights-dir", default=None, help="folder with pretrained weights (else $GANLAB_WEIGHTS_DIR)")
    p.add_argument("--allow-download", action="store_true", help="download missing weights")
    p.add_argument("--n-fake", type=int, default=10_000, help="generated images for feature metrics (10000)")
    p.add_argument("--n-real", type=int, default=None, help="reference images (default: the whole split)")
    p.add_argument("--k", type=int, default=5, help="neighbourhood size for P/R/D/C (5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64, help="extraction batch size (fixed; recorded)")
    p.add_argument("--device", default=None, help="torch device (default: Accelerate's)")
    p.add_argument("--cache-dir", default=None, help="feature cache (default: $GANLAB_CACHE_DIR or ~/.cache/ganlab)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write cached reference features")
    p.add_argument("--capacity-epochs", type=int, default=None, help="fitting capacity epochs (GOLD: 40)")
    p.add_argument(
        "--capacity-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fitting-capacity protocol field, e.g. protocol=multigan, samples_per_epoch=10000",
    )
    p.add_argument(
        "--re-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="reconstruction-error option, e.g. n_fake=50000, epochs=50",
    )
    p.add_argument("--out-dir", default=None, help="output folder (default: <run>/eval or runs/eval/<name>)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_eval)
