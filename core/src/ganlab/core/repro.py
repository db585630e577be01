"""Reproductions: named experiments that each package ships, runnable at ``smoke``, ``mini`` or ``paper`` scale.

A package lists its experiments in a module-level ``EXPERIMENTS`` dict and names it in the ``ganlab.repro``
entry-point group (``diagan = "ganlab.diagan.repro:EXPERIMENTS"``). Each experiment has one YAML config with a
``scales:`` section, so every scale runs the same code path. ``ganlab repro list`` / ``ganlab repro run`` and the
package's own ``ganlab <package> repro EXP`` all call :func:`run_experiment`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ganlab.core.config import SCALES
from ganlab.core.errors import GanlabError, RegistryError
from ganlab.core.registry import closest
from ganlab.core.results import RunDir

# run(config_path, scale, overrides, run_dir) -> result records (flat dicts), also written by the caller
Runner = Callable[[Path, str, Sequence[str], RunDir], list[dict[str, Any]]]


@dataclass
class Experiment:
    """One reproduction: a table or figure of a paper."""

    name: str
    paper: str
    description: str
    config: Path
    run: Runner
    scales: tuple[str, ...] = SCALES
    status: dict[str, str] = field(default_factory=dict)  # scale -> "ok" | "pending: why"


def all_experiments() -> dict[str, Experiment]:
    """Every installed package's experiments, keyed ``package/name``."""
    out: dict[str, Experiment] = {}
    for ep in entry_points(group="ganlab.repro"):
        try:
            table = ep.load()
        except ModuleNotFoundError as exc:  # a package that declares reproductions it does not ship yet
            if exc.name and ep.value.split(":")[0].startswith(exc.name):
                continue
            raise
        for name, exp in table.items():
            out[f"{ep.name}/{name}"] = exp
    return dict(sorted(out.items()))


def get_experiment(key: str) -> Experiment:
    exps = all_experiments()
    if key not in exps:
        hint = closest(key, list(exps))
        msg = f"unknown experiment {key!r}; installed: {', '.join(exps) or '(none)'}"
        if hint:
            msg += f" (did you mean {hint!r}?)"
        raise RegistryError(msg)
    return exps[key]


def run_experiment(
    exp: Experiment, scale: str, overrides: Sequence[str] = (), out_dir: str | Path = "runs/repro"
) -> tuple[RunDir, list[dict[str, Any]]]:
    """Run one experiment at one scale into ``out_dir/<paper>/<name>/<scale>`` and write its result tables."""
    if scale not in exp.scales:
        raise GanlabError(f"{exp.paper}/{exp.name} has no {scale!r} scale (it has: {', '.join(exp.scales)})")
    status = exp.status.get(scale, "ok")
    if status.startswith("pending"):
        raise GanlabError(f"{exp.paper}/{exp.name} at {scale!r} scale is {status}")
    run_dir = RunDir(Path(out_dir) / exp.paper / exp.name / scale)
    start = time.time()
    records = exp.run(exp.config, scale, list(overrides), run_dir)
    run_dir.write_results(records, title=f"{exp.paper} {exp.name} ({scale}): {exp.description}")
    run_dir.log_metrics({"event": "repro_done", "experiment": exp.name, "scale": scale, "wall_s": time.time() - start})
    return run_dir, records


# ------------------------------------------------------------------------------------------------------------ CLI
def add_repro_command(subparsers: argparse._SubParsersAction, package: str) -> None:
    """``ganlab <package> repro EXP --scale ...`` for a package's subcommand group."""
    p = subparsers.add_parser("repro", help="run a reproduction of the paper's tables/figures")
    p.add_argument("experiment", help="experiment name ('list' to list them)")
    p.add_argument("--scale", choices=SCALES, default="smoke")
    p.add_argument("--out-dir", default="runs/repro")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")

    def run(a: argparse.Namespace) -> int:
        return _list(package) if a.experiment == "list" else _run_cli([f"{package}/{a.experiment}"], a)

    p.set_defaults(func=run)


def _list(package: str | None = None) -> int:
    for key, exp in all_experiments().items():
        if package is None or key.startswith(package + "/"):
            status = ", ".join(f"{s}: {exp.status.get(s, 'ok')}" for s in exp.scales)
            print(f"{key:45s} {exp.description}  [{status}]")
    return 0


def _run_cli(keys: Sequence[str], args: argparse.Namespace) -> int:
    failures = []
    for key in keys:
        exp = get_experiment(key)
        if args.scale not in exp.scales or exp.status.get(args.scale, "ok").startswith("pending"):
            print(f"skip {key}: {exp.status.get(args.scale, 'no such scale')}")
            continue
        print(f"== {key} ({args.scale})")
        try:
            run_dir, records = run_experiment(exp, args.scale, args.overrides, args.out_dir)
        except GanlabError as exc:
            if len(keys) == 1:
                raise
            failures.append(f"{key}: {exc}")
            continue
        print((run_dir.path / "summary.md").read_text())
    if failures:
        raise GanlabError("some experiments failed:\n  " + "\n  ".join(failures))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """``ganlab repro list`` and ``ganlab repro run KEY... | --all``."""
    p = subparsers.add_parser("repro", help="list or run the reproductions of every installed package")
    sub = p.add_subparsers(dest="repro_command", metavar="ACTION")
    pl = sub.add_parser("list", help="list the experiments")
    pl.set_defaults(func=lambda a: _list())
    pr = sub.add_parser("run", help="run experiments")
    pr.add_argument("experiments", nargs="*", help="package/name keys")
    pr.add_argument("--all", action="store_true", help="run every experiment")
    pr.add_argument("--scale", choices=SCALES, default="smoke")
    pr.add_argument("--out-dir", default="runs/repro")
    pr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    def run(a: argparse.Namespace) -> int:
        keys = list(all_experiments()) if a.all else a.experiments
        if not keys:
            raise GanlabError("name experiments to run (ganlab repro list) or pass --all")
        return _run_cli(keys, a)

    pr.set_defaults(func=run)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
