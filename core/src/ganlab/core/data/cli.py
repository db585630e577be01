"""``ganlab data list | show NAME | prepare SRC OUT | stand-in NAME --root DIR``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ganlab.core.errors import DatasetError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group to the ``ganlab`` parser."""
    from ganlab.core.cli import add_num, add_out

    parser = subparsers.add_parser("data", help="list, inspect and prepare datasets")
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: parser.print_help())

    p_list = sub.add_parser("list", help="every registered dataset, where it is, and its options")
    p_list.add_argument("--root", default=None, help="data folder to look in (default: $GANLAB_DATA or ./data)")
    p_list.set_defaults(func=cmd_list)

    p_show = sub.add_parser("show", help="write a PNG grid of a dataset and print its size and classes")
    p_show.add_argument("name", help="dataset name (see `ganlab data list`)")
    p_show.add_argument("--root", default=None, help="data folder (downloadable datasets)")
    p_show.add_argument("--split", default="train")
    p_show.add_argument("--resolution", type=int, default=None)
    add_out(p_show, "file", "PNG path (default: <name>.png)")
    add_num(p_show, "images in the grid (points for 2-D toys: all)", default=64)
    p_show.add_argument("--seed", type=int, default=0, help="which random items to show")
    p_show.add_argument("--download", action="store_true", help="download torchvision datasets into --root")
    p_show.add_argument(
        "-o",
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a dataset option (repeatable), e.g. -o rho=0.95",
    )
    p_show.set_defaults(func=cmd_show)

    p_prep = sub.add_parser(
        "prepare", help="convert an image folder to a resized uint8 HDF5 file (centre crop, resize, streamed)"
    )
    p_prep.add_argument(
        "source",
        help="image folder (class sub-folders give labels), base folder of --split-file, or LSUN root (--lsun)",
    )
    p_prep.add_argument("output", help="HDF5 file to write")
    p_prep.add_argument("--resolution", type=int, required=True)
    p_prep.add_argument("--split-file", default=None, help="txt of 'relative/path label' lines (ImageNet-LT)")
    p_prep.add_argument("--unlabelled", action="store_true", help="ignore class folders (label 0)")
    p_prep.add_argument("--chunk-size", type=int, default=500)
    p_prep.add_argument("--workers", type=int, default=0, help="DataLoader workers decoding images")
    p_prep.add_argument(
        "--lsun",
        default=None,
        metavar="CATEGORIES",
        help="SOURCE holds LSUN's <category>_<split>_lmdb databases: these categories ('all' or a,b,...), labelled",
    )
    p_prep.add_argument("--split", default="val", help="LSUN split with --lsun (train or val; default val)")
    p_prep.set_defaults(func=cmd_prepare)

    p_stand = sub.add_parser(
        "stand-in",
        help="write a small random dataset laid out exactly as the real one on disk (dress rehearsals)",
        description="Write a stand-in of dataset NAME under --root: the real file names, folders and formats, "
        "random content. The ordinary reader reads it; CIFAR, SVHN, STL-10 and CelebA also need their checksums "
        "skipped (GANLAB_SKIP_CHECKSUMS=1). Refuses a non-empty folder that is not a stand-in.",
    )
    p_stand.add_argument("name", help="dataset name (mnist, cifar10, imagenet, lsun, ffhq, ...)")
    p_stand.add_argument("--root", required=True, help="folder to write into (empty, new, or an earlier stand-in)")
    add_num(p_stand, "training images (per category for lsun; default: the dataset's, 16-200)")
    p_stand.add_argument("--seed", type=int, default=0)
    p_stand.add_argument(
        "-o",
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a writer option (repeatable), e.g. -o categories=bedroom,kitchen (lsun), -o val_labels=devkit (imagenet)",
    )
    p_stand.set_defaults(func=cmd_standin)


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["rho=0.95", "source=mnist5k"]`` -> ``{"rho": 0.95, "source": "mnist5k"}`` (values read as YAML)."""
    from ganlab.core.cli import parse_key_values

    return parse_key_values(items, what="dataset option")


def cmd_list(args: argparse.Namespace) -> int:
    from .catalog import dataset_options, dataset_summary, list_datasets
    from .presence import EMBEDDED, dataset_present

    for name in list_datasets():
        present = dataset_present(name, root=args.root)
        where = "embedded" if name in EMBEDDED else {True: "on disk", False: "not on disk", None: "unknown"}[present]
        opts = ", ".join(f"{k}={v!r}" for k, v in dataset_options(name).items())
        print(f"{name:16s} [{where}] {dataset_summary(name)}")
        if opts:
            print(f"{'':16s}   options: {opts}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    import numpy as np

    from .catalog import dataset_options, get_dataset

    options = parse_options(args.options)
    if args.download:
        if "download" not in dataset_options(args.name):
            raise DatasetError(f"dataset {args.name!r} cannot be downloaded (it is embedded or a folder format)")
        options["download"] = True
    ds = get_dataset(args.name, root=args.root, split=args.split, resolution=args.resolution, **options)
    out = Path(args.out or f"{args.name}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(ds.shape) == 1:
        _scatter(ds, out)
    else:
        import torchvision.utils as vutils

        rng = np.random.default_rng(args.seed)
        n = min(args.num, len(ds))
        idx = np.sort(rng.choice(len(ds), size=n, replace=False))
        images = ds.get_batch(idx)["image"]
        vutils.save_image((images + 1.0) / 2.0, out, nrow=int(np.ceil(np.sqrt(n))), padding=2)
    info = ds.describe()
    if ds.class_names:
        info["class_names"] = ds.class_names if len(ds.class_names) <= 20 else ds.class_names[:20] + ["..."]
    print(json.dumps(info, indent=2))
    print(f"wrote {out}")
    return 0


def _scatter(ds, out: Path) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = ds.get_batch(np.arange(len(ds)))["image"].numpy()
    colour = ds.groups if ds.groups is not None else ds.labels
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(points[:, 0], points[:, 1], s=2, c=colour, cmap="tab20" if colour.max(initial=0) < 20 else "viridis")
    ax.set_aspect("equal")
    ax.set_title(f"{ds.name} ({len(ds)} points)")
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)


def cmd_prepare(args: argparse.Namespace) -> int:
    from .hdf5 import prepare_hdf5

    if args.lsun is not None:
        from .lsun import prepare_lsun_hdf5

        info = prepare_lsun_hdf5(
            args.source,
            args.output,
            args.resolution,
            categories=args.lsun,
            split=args.split,
            chunk_size=args.chunk_size,
            num_workers=args.workers,
        )
        print(json.dumps(info, indent=2))
        return 0
    info = prepare_hdf5(
        args.source,
        args.output,
        args.resolution,
        split_file=args.split_file,
        labelled=not args.unlabelled,
        chunk_size=args.chunk_size,
        num_workers=args.workers,
    )
    print(json.dumps(info, indent=2))
    return 0


def cmd_standin(args: argparse.Namespace) -> int:
    from .standin import write_standin

    info = write_standin(args.name, args.root, num=args.num, seed=args.seed, **parse_options(args.options))
    print(json.dumps(info, indent=2))
    return 0
