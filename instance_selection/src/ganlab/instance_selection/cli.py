"""``ganlab instance-selection ...``: ``select`` (index file, kept counts, Figure 1 sheet), ``show`` (reproductions:
``ganlab repro run instance-selection/EXP``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlab.core.errors import ConfigError


def _options(pairs: list[str] | None, what: str) -> dict[str, Any]:
    from ganlab.core.config import parse_override

    out: dict[str, Any] = {}
    for text in pairs or []:
        keys, value = parse_override(text)
        if len(keys) != 1:
            raise ConfigError(f"{what} {text!r}: write KEY=VALUE with a plain key")
        out[keys[0]] = value
    return out


def _select(args: argparse.Namespace) -> int:
    from ganlab.core.data import get_dataset
    from ganlab.core.results import atomic_write_text, records_to_csv, records_to_markdown
    from ganlab.instance_selection.api import SelectionConfig, select_instances
    from ganlab.instance_selection.figures import likelihood_sheet

    cfg = SelectionConfig(
        embedding=args.embedding,
        embedding_options=_options(args.embedding_option, "--embedding-option"),
        scorer=args.scorer,
        retention_ratio=args.retention_ratio,
        per_class=not args.global_threshold,
        reg_covar=args.reg_covar,
        ppca_variance=args.ppca_variance,
        ppca_rule=args.ppca_rule,
        k=args.k,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    cfg.validate()
    dataset = get_dataset(
        args.dataset,
        root=args.data_root,
        split=args.split,
        resolution=args.resolution,
        **_options(args.data_option, "--data-option"),
    )
    rr = f"{args.retention_ratio:g}"
    out = Path(
        args.out or f"runs/instance_selection/{args.dataset}_{args.embedding.replace(':', '-')}_{args.scorer}_rr{rr}"
    )
    index_file = out / "indices.npz"  # every file below is written atomically (parents created then)
    sel = select_instances(
        dataset, cfg, index_file=index_file, device=args.device, cache_dir=args.cache_dir, progress=True
    )
    records = [
        {"class": c, "kept": k, "total": t, "kept_pct": round(100.0 * k / max(t, 1), 2)}
        for c, (k, t) in sorted(sel.kept_per_class.items())
    ]
    atomic_write_text(out / "kept_per_class.csv", records_to_csv(records))
    mode = "global" if args.global_threshold else "per class"
    title = f"instance selection: {args.scorer} on {args.embedding}, retention {rr}% ({mode})"
    atomic_write_text(out / "summary.md", records_to_markdown(records, title))
    print(f"kept {len(sel)} of {sel.dataset_size} instances ({100 * sel.retention:.2f}%) -> {index_file}")
    if len(records) <= 20:
        for r in records:
            print(f"  class {r['class']}: {r['kept']}/{r['total']}")
    else:
        pct = [r["kept_pct"] for r in records]
        print(f"  {len(records)} classes, kept per class {min(pct)}% .. {max(pct)}% (kept_per_class.csv)")
    if not args.no_sheet and sel.scores is not None and args.scorer != "uniform":
        sheet = likelihood_sheet(dataset, sel.scores, out / "likelihood_sheet.png", args.sheet_classes, args.sheet_n)
        print(f"most / least likely images: {sheet}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ganlab.instance_selection.selection import Selection

    sel = Selection.load(args.index_file)
    print(f"{args.index_file}: {len(sel)} of {sel.dataset_size} kept ({100 * sel.retention:.2f}%)")
    print(f"  dataset fingerprint {sel.dataset_fingerprint}, settings fingerprint {sel.settings_fingerprint}")
    for key, value in sel.settings.items():
        print(f"  {key}: {value}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_out

    parser = subparsers.add_parser(
        "instance-selection", help="Instance Selection for GANs (DeVries, Drozdzal, Taylor; NeurIPS 2020)"
    )
    sub = parser.add_subparsers(dest="is_command", metavar="ACTION")

    p = sub.add_parser("select", help="embed, score and select a dataset; write the index file and Figure 1's sheet")
    p.add_argument("dataset", help="registered dataset name (ganlab data list)")
    p.add_argument("--data-root", default=None)
    p.add_argument("--split", default="train")
    p.add_argument("--resolution", type=int, default=None, help="resize first: the paper embeds the resized image")
    p.add_argument("--data-option", action="append", metavar="KEY=VALUE", help="dataset option (repeatable)")
    p.add_argument("--embedding", default="inception_torchvision", help="feature extractor F (ganlab.core.features)")
    p.add_argument("--embedding-option", action="append", metavar="KEY=VALUE", help="e.g. weights_path=/w/inc.pth")
    p.add_argument("--scorer", default="gaussian", help="gaussian (eq. 1), ppca (eq. 2), knn (eq. 3) or uniform")
    p.add_argument("--retention-ratio", type=float, default=50.0, help="percent kept, in (0, 100]")
    p.add_argument(
        "--global-threshold",
        action="store_true",
        help="one model and one threshold for the whole dataset (eq. 4 as written) instead of per class",
    )
    p.add_argument("--k", type=int, default=5, help="K of the knn scorer (self excluded)")
    p.add_argument("--reg-covar", type=float, default=1e-5, help="added to the Gaussian covariance diagonal")
    p.add_argument("--ppca-variance", type=float, default=0.95)
    p.add_argument(
        "--ppca-rule",
        choices=("paper", "official"),
        default="paper",
        help="paper: fewest components reaching the variance; official: one fewer (the official code's count)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the uniform baseline")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--device", default=None)
    p.add_argument("--cache-dir", default=None, help="feature cache folder")
    add_out(p, "dir", "output folder (default runs/instance_selection/<settings>)")
    p.add_argument("--sheet-classes", type=int, nargs="*", default=None, help="classes on the sheet (default: 3)")
    p.add_argument("--sheet-n", type=int, default=8, help="images per row of the sheet")
    p.add_argument("--no-sheet", action="store_true")
    p.set_defaults(func=_select)

    s = sub.add_parser("show", help="print what an index file holds")
    s.add_argument("index_file")
    s.set_defaults(func=_show)

    from ganlab.core.repro import add_repro_command

    add_repro_command(sub, "instance-selection")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
