"""``ganlab diagan ...`` commands: ``train``, ``scores`` (reproductions: ``ganlab repro run diagan/EXP``)."""

from __future__ import annotations

import argparse
import json

from ganlab.core.config import SCALES


def _train(args: argparse.Namespace) -> int:
    import ganlab.diagan.method  # noqa: F401  (registers the method)
    from ganlab.core.errors import ConfigError
    from ganlab.core.train.config import load_experiment
    from ganlab.core.train.trainer import Trainer

    base = {"method": {"name": "diagan"}}
    if args.config and "=" in args.config and not args.config.endswith((".yaml", ".yml")):
        args.overrides, args.config = [args.config, *args.overrides], None  # no config file, only overrides
    cfg = load_experiment(args.config, args.overrides, args.scale, base=base)
    if cfg.method.name != "diagan":
        raise ConfigError(f"ganlab diagan train trains the diagan method, but the config says {cfg.method.name!r}")
    trainer = Trainer(
        cfg,
        run_dir=args.run_dir,
        resume=args.resume,
        init_from=args.init_from,
        allow_config_change=args.allow_config_change,
    )
    summary = trainer.fit()
    print(json.dumps({**summary, "run_dir": str(trainer.run_dir.path)}, indent=2))
    return 0


def _scores(args: argparse.Namespace) -> int:
    from ganlab.diagan.scores import score_report

    summary = score_report(args.run, k=args.k, n=args.num, n_hist=args.n_hist)
    print(json.dumps(summary, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_config_out_dir, add_num, add_run
    from ganlab.core.repro import add_repro_command

    parser = subparsers.add_parser("diagan", help="Self-Diagnosing GAN (Lee, Kim, Hong, Chung; NeurIPS 2021)")
    sub = parser.add_subparsers(dest="diagan_command", metavar="ACTION")

    t = sub.add_parser("train", help="train with LDR diagnosis, weighted sampling and the auxiliary D")
    t.add_argument("config", nargs="?", help="YAML training config or shipped name (method.options: DiaGANOptions)")
    t.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. method.options.k=5.0")
    t.add_argument("--scale", choices=SCALES, default=None, help="apply the config's scales: section")
    t.add_argument("--run-dir", default=None, help="the run folder (default: <out_dir>/<config name>)")
    add_config_out_dir(t)
    t.add_argument("--resume", action="store_true", help="resume from the run directory's latest checkpoint")
    t.add_argument("--init-from", default=None, help="start from a phase-1 checkpoint (phase 2 only)")
    t.add_argument("--allow-config-change", action="store_true")
    t.set_defaults(func=_train)

    s = sub.add_parser("scores", help="score table, lowest/highest-score sheets and histograms (Figure 3)")
    add_run(s, "a run directory")
    s.add_argument("--k", type=float, default=None, help="recompute the score with this k (default: the run's)")
    add_num(s, "images per sheet", default=64)
    s.add_argument("--n-hist", type=int, default=100, help="images per histogram group")
    s.set_defaults(func=_scores)

    add_repro_command(sub, "diagan")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
