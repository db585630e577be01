"""``ganlab gold ...`` commands: ``train``, ``rejection``, ``active``, ``scores`` (reproductions: ``ganlab repro run
gold/EXP``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.config import SCALES


def _train(args: argparse.Namespace) -> int:
    from ganlab.gold.api import train

    trainer = train(
        args.config,
        args.overrides,
        scale=args.scale,
        resume=args.resume,
        allow_config_change=args.allow_config_change,
        run_dir=args.run_dir,
    )
    print(json.dumps({"step": trainer.step, "run_dir": str(trainer.run_dir.path)}, indent=2))
    return 0


def _rejection(args: argparse.Namespace) -> int:
    from ganlab.core.results import atomic_write_text
    from ganlab.gold.api import load_run
    from ganlab.gold.rejection import RejectionBudgetError, check_percentile, gold_rejection_sample, save_bank

    check_percentile(args.p)  # before loading anything
    G, D, _ = load_run(args.run, device=args.device)
    out = Path(args.out or Path(args.run) / "rejection")
    tag = "random" if args.no_reject else f"gold_p{args.p:g}"
    try:
        res = gold_rejection_sample(
            G,
            D,
            args.num,
            p=args.p,
            n_stats=args.n_stats,
            batch_size=args.batch_size,
            seed=args.seed,
            max_batches_per_class=args.max_batches,
            reject=not args.no_reject,
            stats_mode=args.stats_mode,
            progress=True,
        )
    except RejectionBudgetError as exc:
        if exc.partial is not None and len(exc.partial.labels):
            out.mkdir(parents=True, exist_ok=True)
            save_bank(exc.partial, out / f"{tag}_partial.npz", out / f"{tag}_partial.png")
            exc.args = (f"{exc.args[0]} (written to {out / (tag + '_partial.npz')})",)
        raise
    out.mkdir(parents=True, exist_ok=True)
    save_bank(res, out / f"{tag}.npz", out / f"{tag}.png")
    summary = res.summary()
    atomic_write_text(out / f"{tag}.json", json.dumps(summary, indent=2))
    print(json.dumps({**summary, "bank": str(out / f"{tag}.npz")}, indent=2))
    return 0


def _active(args: argparse.Namespace) -> int:
    from ganlab.gold.active import run_active_learning
    from ganlab.gold.api import config_path
    from ganlab.gold.repro import load_repro_config

    cfg = load_repro_config(config_path(args.config), args.scale, args.overrides)
    active = cfg.experiment.active
    if args.query:
        active.query = args.query
    cfg.run.seed = args.seed if args.seed is not None else cfg.run.seed
    out = Path(args.out or Path(cfg.run.out_dir) / f"active_{active.query}_seed{cfg.run.seed}")
    records = run_active_learning(cfg.run, active, out, progress=True)
    print(json.dumps([{k: r[k] for k in ("round", "n_labelled", "cap_test", "cap_val")} for r in records], indent=2))
    return 0


def _scores(args: argparse.Namespace) -> int:
    import numpy as np

    from ganlab.core.data import get_dataset
    from ganlab.core.results import atomic_write_bytes, records_to_csv
    from ganlab.gold.api import load_run
    from ganlab.gold.scoring import score_real

    G, D, cfg = load_run(args.run, device=args.device)
    d = cfg.data
    ds = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    s = score_real(D, ds, device=args.device)
    out = Path(args.run) / "scores"
    out.mkdir(exist_ok=True)
    import io

    buf = io.BytesIO()
    np.savez(buf, **s)
    atomic_write_bytes(out / "scores.npz", buf.getvalue())
    rows = [{"index": i, "label": int(ds.labels[i]), **{k: float(v[i]) for k, v in s.items()}} for i in range(len(ds))]
    atomic_write_bytes(out / "scores.csv", records_to_csv(rows).encode())
    print(json.dumps({k: {"mean": float(v.mean()), "std": float(v.std())} for k, v in s.items()}, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_config_out_dir, add_num, add_out, add_overrides_argument, add_run
    from ganlab.core.repro import add_repro_command

    parser = subparsers.add_parser(
        "gold", help="Mining GOLD Samples for Conditional GANs (Mo, Kim, Kim, Cho, Shin; NeurIPS 2019)"
    )
    sub = parser.add_subparsers(dest="gold_command", metavar="ACTION")

    t = sub.add_parser("train", help="train an ACGAN with GOLD re-weighting (method.options.reweight=false: baseline)")
    t.add_argument("config", help="YAML config (core schema, or a reproduction config / shipped name)")
    t.add_argument("--scale", choices=SCALES, default=None)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--allow-config-change", action="store_true")
    t.add_argument("--run-dir", default=None, help="the run folder (default: <out_dir>/<config name>)")
    add_config_out_dir(t)
    add_overrides_argument(t)
    t.set_defaults(func=_train)

    r = sub.add_parser("rejection", help="a class-balanced bank of GOLD-accepted samples (eq. 6) from a run")
    add_run(r, "a run directory (its latest checkpoint's G and D)")
    add_num(r, "samples in the bank (a multiple of the class count)", default=50000)
    r.add_argument("--p", type=float, default=0.1, help="percentile fraction of gamma (0.1 1-channel, 0.5 3-channel)")
    r.add_argument("--n-stats", type=int, default=50000, help="samples for M and the sigma ratio")
    r.add_argument("--batch-size", type=int, default=100)
    r.add_argument("--max-batches", type=int, default=10000, help="proposal budget per class, in batches")
    r.add_argument(
        "--stats-mode",
        choices=["official", "paper"],
        default="official",
        help="M and sigma_C: official drs.py (M = exp(max logit), RMS) or the paper (M = max exp(d_bal), std)",
    )
    r.add_argument("--no-reject", action="store_true", help="the baseline bank: keep every proposal")
    r.add_argument("--seed", type=int, default=0)
    add_out(r, "dir", "output folder (default RUN/rejection)")
    r.add_argument("--device", default="cpu")
    r.set_defaults(func=_rejection)

    a = sub.add_parser("active", help="active learning rounds: train, query by GOLD (or at random), grow the labels")
    a.add_argument("config", help="a reproduction config with experiment.active and run (or a shipped name)")
    a.add_argument("--scale", choices=SCALES, default=None)
    a.add_argument("--query", choices=["gold", "gold_balanced", "random"], default=None)
    a.add_argument("--seed", type=int, default=None)
    add_out(a, "dir", "output folder (default <run.out_dir>/active_<query>_seed<seed>)")
    add_overrides_argument(a)
    a.set_defaults(func=_active)

    s = sub.add_parser("scores", help="GOLD of every training item under a run's D (RUN/scores/scores.npz, .csv)")
    add_run(s, "a run directory")
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=_scores)

    add_repro_command(sub, "gold")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
