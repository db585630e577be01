"""``ganlab bench list | run SUITE | status SUITE | report RUN_DIR``.

ganlab bench list
ganlab bench run quick --out-dir runs/demo                   # the main job (nox -s demo)
ganlab bench run cpu --methods vanilla,diagan --seeds 3 train.steps=2000
ganlab bench status quick --out-dir runs/demo
ganlab bench report runs/demo                                # rebuild tables and plots from finished cells
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _root(args: argparse.Namespace, suite_name: str) -> Path:
    return Path(args.out_dir) if args.out_dir else Path("runs") / "bench" / suite_name


def _load(args: argparse.Namespace):
    from ganlab.benchmarks.suite import load_suite

    methods = [m.strip() for m in args.methods.split(",")] if getattr(args, "methods", None) else None
    return load_suite(args.suite, list(getattr(args, "overrides", []) or []), methods, getattr(args, "seeds", None))


def _cmd_list(args: argparse.Namespace) -> int:
    from ganlab.benchmarks.compose import resolve
    from ganlab.benchmarks.suite import list_suites, load_suite

    for name in list_suites():
        suite = load_suite(name)
        print(f"{name}: {len(suite.settings)} settings x {len(suite.methods)} methods x {len(suite.seeds)} seeds")
        print(f"  {suite.description.strip().splitlines()[0] if suite.description.strip() else ''}")
        print(f"  settings: {', '.join(suite.settings)}")
        for m, spec in suite.methods.items():
            missing = next((w for p in resolve(spec.parts).parts if (w := p.missing())), None)
            where = ", ".join(suite.settings_of(m))
            print(f"    {m:24s} [{where}]" + (f"  {missing}" if missing else ""))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from ganlab.benchmarks.runner import run_suite

    suite = _load(args)
    slurm = {"partition": args.partition} if args.partition else None
    summary = run_suite(suite, _root(args, suite.name), executor=args.executor, progress=not args.quiet, slurm=slurm,
                        workers=args.workers, keep_checkpoints=args.keep_checkpoints)  # fmt: skip
    print(summary.read_text())
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from ganlab.benchmarks.runner import status
    from ganlab.benchmarks.suite import load_suite

    suite = _load(args)
    root = _root(args, suite.name)
    if not args.methods and (root / "suite.yaml").is_file():
        # the cells of the run itself (the methods it was started with), not every method of the shipped suite
        suite = load_suite(root / "suite.yaml", list(args.overrides or []), None, args.seeds)
        print(f"{root}: the methods of this run: {', '.join(suite.methods)} (--methods chooses others)")
    rows = status(suite, root)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        note = f"  {r['message']}" if r["message"] else ""
        print(f"{r['status']:8s} {r['setting']}/{r['method']}/seed{r['seed']}{note}")
    print(", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from ganlab.benchmarks.report import report
    from ganlab.benchmarks.suite import load_suite
    from ganlab.core.errors import ConfigError

    root = Path(args.run_dir)
    if not (root / "suite.yaml").is_file():
        raise ConfigError(f"{root} is not a suite run (no suite.yaml); pass the --out-dir of `ganlab bench run`")
    print(report(root, load_suite(root / "suite.yaml"), plots=not args.no_plots).read_text())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_overrides_argument, add_run

    parser = subparsers.add_parser("bench", help="compare methods on common settings (suites)")
    sub = parser.add_subparsers(dest="bench_command", metavar="ACTION")
    sub.add_parser("list", help="the shipped suites, their settings and methods").set_defaults(func=_cmd_list)

    r = sub.add_parser("run", help="run a suite (finished cells are skipped, unfinished ones resumed)")
    r.add_argument("suite", help="a shipped suite name (ganlab bench list) or a YAML file")
    add_overrides_argument(r)
    r.add_argument("--methods", default=None, help="comma-separated methods to run (their baselines are added)")
    r.add_argument("--seeds", type=int, default=None, help="run the first N seeds of the suite")
    r.add_argument("--out-dir", default=None, help="the suite's run folder (default runs/bench/<suite>)")
    r.add_argument("--executor", choices=("local", "submitit-local", "slurm"), default="local")
    r.add_argument("--workers", type=int, default=1, help="local cells side by side in N processes (2 on 2 cores)")
    r.add_argument("--partition", default=None, help="SLURM partition (--executor slurm)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    keep = "keep the training checkpoints (default: deleted once a training's cells have results)"
    r.add_argument("--keep-checkpoints", action="store_true", help=keep)
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser("status", help="done / running / failed / pending cells of a suite run")
    s.add_argument("suite")
    add_overrides_argument(s)
    s.add_argument("--methods", default=None, help="comma-separated methods (default: those the run has)")
    s.add_argument("--seeds", type=int, default=None)
    s.add_argument("--out-dir", default=None)
    s.set_defaults(func=_cmd_status)

    p = sub.add_parser("report", help="rebuild the tables and plots of a suite run from its finished cells")
    add_run(p, "a suite run folder (the --out-dir of `ganlab bench run`)", dest="run_dir")
    p.add_argument("--no-plots", action="store_true")
    p.set_defaults(func=_cmd_report)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
