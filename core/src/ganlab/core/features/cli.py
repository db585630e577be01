"""``ganlab features``: list extractors, extract features to a file, train in-domain classifiers.

ganlab features list
ganlab features extract --dataset mnist5k --resolution 32 --extractor classifier:runs/lenet.pt --out-file f.npy
ganlab features train-classifier --dataset mnist5k --resolution 32 --arch lenet --out-file runs/lenet_mnist5k.pt
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path


def _dataset(name: str, split: str, resolution: int | None, options: list[str]):
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.core.data import get_dataset

    return get_dataset(name, split=split, resolution=resolution, **_parse_kv(options))


def _cmd_list(args: argparse.Namespace) -> int:
    from ganlab.core.features.extractors import RANDOM_ARCHS, list_extractors

    for name in list_extractors():
        if name == "classifier":
            print("classifier:<path>   (a checkpoint from `ganlab features train-classifier`)")
        elif name == "random":
            print(f"random:<arch>       (arch: {', '.join(RANDOM_ARCHS)}; random init, for tests)")
        else:
            print(name)
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.results import atomic_write_bytes, atomic_write_text

    ds = _dataset(args.dataset, args.split, args.resolution, args.dataset_option)
    opts = _parse_kv(args.extractor_option)
    if args.allow_download:
        opts["download"] = True
    ext = get_extractor(args.extractor, **opts)
    feats = extract_features(
        ext, ds, n=args.num, batch_size=args.batch_size, device=args.device, cache_dir=args.cache_dir, progress=True
    )
    import numpy as np

    out = Path(args.out)
    buf = io.BytesIO()
    np.save(buf, feats)
    atomic_write_bytes(out, buf.getvalue())
    meta = {
        "dataset": args.dataset,
        "split": args.split,
        "fingerprint": ds.fingerprint,
        "n": len(feats),
        "batch_size": args.batch_size,
        **ext.protocol(),
    }
    atomic_write_text(out.with_suffix(".json"), json.dumps(meta, indent=2))
    print(json.dumps({"out": str(out), "shape": list(feats.shape)}))
    return 0


def _cmd_train_classifier(args: argparse.Namespace) -> int:
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.core.features.indomain import train_classifier_on_dataset

    overrides = _parse_kv(args.option)
    for key in ("epochs", "batch_size", "lr", "seed", "samples_per_epoch"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    _, meta = train_classifier_on_dataset(
        args.dataset,
        arch=args.arch,
        split=args.split,
        test_split=args.test_split,
        holdout=args.holdout,
        resolution=args.resolution,
        dataset_options=_parse_kv(args.dataset_option),
        protocol=args.protocol,
        out=args.out,
        device=args.device,
        progress=not args.quiet,
        **overrides,
    )
    print(json.dumps({"out": args.out, "accuracy": meta["accuracy"], "test": meta["test"]}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ganlab features {list, extract, train-classifier}``."""
    from ganlab.core.cli import add_num, add_out

    p = subparsers.add_parser("features", help="feature extractors: list, extract, train in-domain classifiers")
    sub = p.add_subparsers(dest="features_command", metavar="SUBCOMMAND", required=True)

    ls = sub.add_parser("list", help="the registered feature extractors")
    ls.set_defaults(func=_cmd_list)

    ex = sub.add_parser("extract", help="features of a dataset to an .npy file (+ .json protocol)")
    ex.add_argument("--dataset", required=True)
    ex.add_argument("--split", default="train")
    ex.add_argument("--resolution", type=int, default=None)
    ex.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    ex.add_argument("--extractor", default="inception")
    ex.add_argument("--extractor-option", action="append", default=[], metavar="KEY=VALUE")
    ex.add_argument("--allow-download", action="store_true")
    add_num(ex, "the first N images (default: all)")
    ex.add_argument("--batch-size", type=int, default=64)
    ex.add_argument("--device", default=None)
    ex.add_argument("--cache-dir", default=None)
    add_out(ex, "file", "output .npy (+ .json protocol beside it)", required=True)
    ex.set_defaults(func=_cmd_extract)

    tc = sub.add_parser(
        "train-classifier", help="train LeNet / ResNet-20 on a labelled dataset (for classifier:<path>)"
    )
    tc.add_argument("--dataset", required=True)
    tc.add_argument("--split", default="train")
    tc.add_argument("--test-split", default="test", help="test split; if missing, a held-out fraction is used")
    tc.add_argument("--holdout", type=float, default=0.1, help="held-out fraction when there is no test split")
    tc.add_argument("--resolution", type=int, default=None, help="e.g. 32 for LeNet on MNIST")
    tc.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    tc.add_argument("--arch", default="lenet", help="lenet, resnet20, resnet20_w64")
    tc.add_argument("--protocol", default="gold", help="optimiser/schedule preset: gold or multigan")
    tc.add_argument("--epochs", type=int, default=None)
    tc.add_argument("--batch-size", type=int, default=None)
    tc.add_argument("--lr", type=float, default=None)
    tc.add_argument("--seed", type=int, default=None)
    tc.add_argument("--samples-per-epoch", type=int, default=None, help="default: one pass over the data")
    tc.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="other protocol fields")
    tc.add_argument("--device", default=None)
    add_out(tc, "file", "checkpoint path (use it as classifier:<path>)", required=True)
    tc.add_argument("--quiet", action="store_true")
    tc.set_defaults(func=_cmd_train_classifier)
