"""``ganlab eval``: evaluate a generator checkpoint, an image folder or an npz against a dataset.

    ganlab eval --run-dir runs/demo --dataset mnist5k --resolution 32 --metrics fid,prdc,kid --extractor inception
    ganlab eval samples.npz --dataset cifar10 --split test --metrics fid,is --n-fake 10000
    ganlab eval runs/gold/G_ema.pt --dataset mnist --split test --resolution 32 --metrics fitting_capacity

This module only parses arguments and resolves the source; :func:`ganlab.core.metrics.evaluate.evaluate` does the
work. Every value is appended to ``<out>/metrics.jsonl`` with its protocol; ``results.json/csv`` and ``summary.md``
hold the same records.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ganlab.core.errors import DatasetError


def _source(path: str, device: Any) -> tuple[Any, dict[str, Any]]:
    """An image folder / npz / npy as it is; a run directory, G_ema.pt or checkpoint as its generator."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p} does not exist; pass a checkpoint, a run directory, an image folder or an npz")
    is_run = p.is_dir() and ((p / "G_ema.pt").exists() or (p / "checkpoints").exists())
    if p.suffix in (".npz", ".npy") or (p.is_dir() and not is_run):
        return str(p), {}
    import torch

    from ganlab.core.train.checkpoint import load_generator

    G, info = load_generator(p, device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return G, {k: v for k, v in info.items() if k in ("checkpoint", "step")}


def _cmd_eval(args: argparse.Namespace) -> int:
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.core.metrics.evaluate import evaluate
    from ganlab.core.results import RunDir

    src = Path(args.source)
    source, info = _source(args.source, args.device)
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
        source,
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
        source_info=info,
    )
    if records:
        run_dir.write_results(records, title=f"ganlab eval {args.source} on {args.dataset}/{args.split}")
    for rec in records:
        print(json.dumps({k: rec[k] for k in ("metric", "value") if k in rec}))
    print(f"results: {run_dir.path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ganlab eval``."""
    from ganlab.core.cli import add_out, add_run

    p = subparsers.add_parser("eval", help="evaluate a checkpoint, an image folder or an npz against a dataset")
    add_run(p, "G_ema.pt / trainer checkpoint / run directory, an image folder, .npz or .npy", dest="source")
    p.add_argument("--dataset", required=True, help="reference dataset name (see `ganlab data list`)")
    p.add_argument("--split", default="train", help="reference split (default: train)")
    p.add_argument("--resolution", type=int, default=None, help="reference resolution in pixels")
    p.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE", help="e.g. rho=0.99")
    p.add_argument("--metrics", default="fid", help="comma-separated: fid,kid,prdc,pr,is,fitting_capacity,re (fid)")
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
    add_out(p, "dir", "output folder (default: <run>/eval or runs/eval/<name>)", dest="out_dir")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_eval)
