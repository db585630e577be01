"""Reproductions: named experiments that each package ships, runnable at ``smoke``, ``mini`` or ``paper`` scale.

A package lists its experiments in a module-level ``EXPERIMENTS`` dict and names it in the ``ganlab.repro``
entry-point group (``diagan = "ganlab.diagan.repro:EXPERIMENTS"``). Each experiment has one YAML config with a
``scales:`` section, so every scale runs the same code path. ``ganlab repro run PACKAGE/EXP`` calls
:func:`run_experiment` (the older ``ganlab <package> repro EXP`` is a deprecated alias of it).

An experiment may declare its evaluation protocol in core (``Experiment.protocol``: scale -> an
:class:`~ganlab.core.evaluation.protocol.EvalProtocol`, e.g. :func:`protocol_from_config` for a config with a
``protocol:`` section run by :mod:`ganlab.core.repro_harness`); ``ganlab repro show EXP`` says it in words.
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
# protocol(scale) -> the experiment's EvalProtocol at that scale (or, for an evaluation outside it, its words)
ProtocolOf = Callable[[str], Any]


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
    protocol: ProtocolOf | None = None  # None: the package has not declared its evaluation protocol in core yet


def experiments(
    paper: str,
    configs: Path,
    run: Runner,
    table: Sequence[tuple[Any, ...]],
    protocol: Callable[[Path], ProtocolOf] | None = None,
) -> dict[str, Experiment]:
    """A package's ``EXPERIMENTS`` from rows ``(name, description)`` or ``(name, description, fields)``, ``fields`` a
    dict of the :class:`Experiment` fields that differ (``scales``, ``status``, ``run``); each runs
    ``configs/<name>.yaml`` with ``run``; ``protocol(config)``, when given, declares each one's protocol."""
    out: dict[str, Experiment] = {}
    for name, description, *fields in table:
        config = Path(configs) / f"{name}.yaml"
        out[name] = Experiment(
            **{
                "name": name,
                "paper": paper,
                "description": description,
                "config": config,
                "run": run,
                "protocol": protocol(config) if protocol is not None else None,
                **(fields[0] if fields else {}),
            }
        )
    return out


def protocol_from_config(config: str | Path, section: str = "protocol") -> ProtocolOf:
    """``scale -> EvalProtocol`` read from the ``protocol:`` section of an experiment config (unknown keys fail)."""

    def protocol(scale: str) -> Any:
        from ganlab.core.config import from_dict, read_yaml, select_scale
        from ganlab.core.evaluation.protocol import EvalProtocol

        data = select_scale(read_yaml(config), scale)
        return from_dict(EvalProtocol, data.get(section) or {}, where=section)

    return protocol


def describe_protocol(exp: Experiment, scale: str) -> str:
    """The experiment's evaluation protocol at ``scale`` in words, or an honest line that it is not declared."""
    if exp.protocol is None:
        return (
            f"The evaluation protocol of {exp.paper}/{exp.name} is not yet declared in core (ganlab.core.evaluation); "
            f"its package's repro.py and README describe it."
        )
    protocol = exp.protocol(scale)
    return protocol if isinstance(protocol, str) else protocol.describe()


def all_experiments() -> dict[str, Experiment]:
    """Every installed package's experiments, keyed ``package/name`` (the package's command name)."""
    from ganlab.core.cli import canonical_package

    out: dict[str, Experiment] = {}
    for ep in entry_points(group="ganlab.repro"):
        try:
            table = ep.load()
        except ModuleNotFoundError as exc:  # a package that declares reproductions it does not ship yet
            if exc.name and ep.value.split(":")[0].startswith(exc.name):
                continue
            raise
        for name, exp in table.items():
            out[f"{canonical_package(ep.name)}/{name}"] = exp
    return dict(sorted(out.items()))


def get_experiment(key: str) -> Experiment:
    from ganlab.core.cli import canonical_package, deprecated

    exps = all_experiments()
    package, slash, name = key.partition("/")
    if slash and canonical_package(package) != package:
        deprecated(key, f"{canonical_package(package)}/{name}")
        key = f"{canonical_package(package)}/{name}"
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


# --------------------------------------------------------------------------------------------- requirements
def _walk(node: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in a nested config."""
    out: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                out.append(v)
            out.extend(_walk(v, key))
    elif isinstance(node, list):
        for v in node:
            out.extend(_walk(v, key))
    return out


def requirements(exp: Experiment, scale: str) -> list[str]:
    """What running ``exp`` at ``scale`` needs that this machine lacks: datasets, pretrained weights, a GPU.

    Read from the experiment's config at that scale (every ``data: {name, root, split}``, every ``extractor`` and
    every evaluation ``network: {name}``); an empty list means it runs here.
    """
    from ganlab.core.config import read_yaml, select_scale
    from ganlab.core.data.presence import dataset_present
    from ganlab.core.features.weights import weights_present

    status = exp.status.get(scale, "ok")
    if status.startswith("pending"):
        return [status]
    try:
        cfg = select_scale(read_yaml(exp.config), scale)
    except Exception as exc:  # a broken config is reported, not raised, by a listing
        return [f"a readable config ({type(exc).__name__}: {exc})"]
    needs: list[str] = []
    for data in _walk(cfg, "data"):
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            name = data["name"]
            if dataset_present(name, data.get("root"), data.get("split") or "train") is False:
                needs.append(f"dataset {name}")
    nets = [n.get("name") for n in _walk(cfg, "network") if isinstance(n, dict)]  # an EvalProtocol's network
    for ext in [*_walk(cfg, "extractor"), *nets]:
        if isinstance(ext, str) and not weights_present(ext):
            needs.append(f"{ext} weights")
    if scale == "paper":
        import torch

        if not torch.cuda.is_available():
            needs.append("a GPU")
    return list(dict.fromkeys(needs))


# ------------------------------------------------------------------------------------------------------------ CLI
def add_repro_command(subparsers: argparse._SubParsersAction, package: str) -> None:
    """The deprecated ``ganlab <package> repro EXP`` (``EXP`` = ``list``): ``ganlab repro run <package>/EXP``."""
    from ganlab.core.cli import add_overrides_argument, canonical_package, deprecated

    package = canonical_package(package)
    p = subparsers.add_parser("repro", description=f"Deprecated: use `ganlab repro run {package}/EXPERIMENT`.")
    p.add_argument("experiment", help="experiment name ('list' to list them)")
    add_overrides_argument(p)
    p.add_argument("--scale", choices=SCALES, default="smoke")
    p.add_argument("--out-dir", default="runs/repro")

    def run(a: argparse.Namespace) -> int:
        if a.experiment == "list":
            deprecated(f"ganlab {package} repro list", "ganlab repro list")
            return _list(package)
        deprecated(f"ganlab {package} repro {a.experiment}", f"ganlab repro run {package}/{a.experiment}")
        return _run_cli([f"{package}/{a.experiment}"], a)

    p.set_defaults(func=run)


def _list(package: str | None = None, cache_dir: str | None = None) -> int:
    from ganlab.core.rehearse_records import passed_modes

    for key, exp in all_experiments().items():
        if package is None or key.startswith(package + "/"):
            parts = []
            for s in exp.scales:
                needs = requirements(exp, s)
                part = f"{s}: " + ("runs here" if not needs else "needs " + ", ".join(needs))
                if s == "paper" and not exp.status.get(s, "ok").startswith("pending"):
                    modes = passed_modes(exp.config, cache_dir)  # rehearsed: its one-process rehearsal passed
                    label = "rehearsed" if "1proc" in modes else "not rehearsed"
                    others = [m for m in modes if m != "1proc"]
                    part += f" ({label}; {' and '.join(others)} passed too)" if others else f" ({label})"
                parts.append(part)
            print(f"{key:45s} {exp.description}\n{'':45s} [{'; '.join(parts)}]")
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
    """``ganlab repro list`` and ``ganlab repro run KEY... [key=value ...] | --all``."""
    from ganlab.core.cli import add_overrides_argument

    p = subparsers.add_parser("repro", help="list or run the reproductions of every installed package")
    sub = p.add_subparsers(dest="repro_command", metavar="ACTION")
    pl = sub.add_parser("list", help="the experiments, and at each scale whether it runs here or what it needs")
    pl.add_argument("--cache-dir", default=None, help="where rehearsals are recorded (default: <cache>/rehearse)")
    pl.set_defaults(func=lambda a: _list(cache_dir=a.cache_dir))
    pr = sub.add_parser("run", help="run experiments")
    pr.add_argument("experiments", nargs="*", help="package/name keys (see `ganlab repro list`)")
    add_overrides_argument(pr)
    pr.add_argument("--all", action="store_true", help="run every experiment")
    pr.add_argument("--scale", choices=SCALES, default="smoke")
    pr.add_argument("--out-dir", default="runs/repro")

    def run(a: argparse.Namespace) -> int:
        keys = list(all_experiments()) if a.all else a.experiments
        if not keys:
            raise GanlabError("name experiments to run (ganlab repro list) or pass --all")
        return _run_cli(keys, a)

    pr.set_defaults(func=run)
    ps = sub.add_parser("show", help="an experiment's evaluation protocol, in words")
    ps.add_argument("experiment", help="a package/name key (see `ganlab repro list`)")
    ps.add_argument("--scale", choices=SCALES, default="paper")
    ps.set_defaults(func=_show)
    _register_rehearse(sub)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])


def _register_rehearse(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser(
        "rehearse",
        help="dress rehearsal of the paper scale: the paper config with its schedule shrunk, on stand-ins",
        description="Run each experiment's paper config, derived to a short schedule (every schedule point kept in "
        "order and scaled), small evaluation counts, stand-in datasets and stand-in weights for missing evaluation "
        "networks; print pass/fail, wall time and the phases reached. A pass is recorded for `ganlab repro list`. "
        "--nproc 2 runs it under torch.distributed.run (two processes, gloo on the CPU); --kill-resume stops it once "
        "mid-run with SIGTERM, resumes it and compares the final state with an uninterrupted rehearsal.",
    )
    pr.add_argument("experiments", nargs="*", help="package/name keys (see `ganlab repro list`)")
    pr.add_argument("--all", action="store_true", help="rehearse every experiment with a paper scale")
    pr.add_argument("--steps", type=int, default=24, help="rehearsal length of the paper's train.steps")
    pr.add_argument("--n-eval", type=int, default=32, help="evaluation sample counts (n_fake, n_real, ...)")
    pr.add_argument("--batch", default="4", help="cap on train.batch_size ('paper': keep the paper's)")
    pr.add_argument("--timeout", type=float, default=None, help="seconds per config (default: none)")
    pr.add_argument("--cache-dir", default=None, help="stand-ins, runs and records (default: <cache>/rehearse)")
    pr.add_argument("--nproc", type=int, choices=(1, 2), default=1, help="2: under torch.distributed.run (gloo, CPU)")
    pr.add_argument(
        "--kill-resume",
        action="store_true",
        help="stop the rehearsal once mid-run (SIGTERM), resume it, and compare with an uninterrupted one",
    )
    pr.add_argument("--modes", default=None, help="comma-separated modes to run in turn: 1proc, 2proc, kill_resume")
    pr.set_defaults(func=_rehearse_cli)


def _modes(args: argparse.Namespace) -> list[str]:
    from ganlab.core.rehearse_records import MODES

    if args.modes:
        if args.kill_resume or args.nproc != 1:
            raise GanlabError("--modes says every mode: leave out --nproc and --kill-resume")
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
        unknown = [m for m in modes if m not in MODES]
        if unknown or not modes:
            raise GanlabError(f"--modes {args.modes!r}: choose among {', '.join(MODES)}")
        return modes
    if args.kill_resume and args.nproc != 1:
        raise GanlabError("--kill-resume stops and resumes a one-process rehearsal: leave out --nproc 2")
    return ["kill_resume"] if args.kill_resume else ["2proc" if args.nproc == 2 else "1proc"]


def _rehearse_cli(args: argparse.Namespace) -> int:
    from ganlab.core.rehearse_modes import rehearse_mode

    exps = all_experiments()
    keys = [k for k, e in exps.items() if "paper" in e.scales] if args.all else args.experiments
    if not keys:
        raise GanlabError("name experiments to rehearse (ganlab repro list) or pass --all")
    batch = None if args.batch == "paper" else int(args.batch)
    modes = _modes(args)
    results = []
    for key in keys:
        exp = get_experiment(key)
        for mode in modes:
            r = rehearse_mode(
                key,
                exp,
                mode,
                cache_dir=args.cache_dir,
                timeout_s=args.timeout,
                steps=args.steps,
                n_eval=args.n_eval,
                batch=batch,
            )
            print(r.line(), flush=True)
            for s in r.substituted if mode == modes[0] else ():
                print(f"{'':8s}stand-in: {s}")
            results.append(r)
            if r.status == "pending":  # nothing to rehearse in any mode
                break
    failed = [r.key for r in results if r.status == "fail"]
    print(f"{len(results) - len(failed)} of {len(results)} rehearsals passed or are pending; failed: {len(failed)}")
    return 1 if failed else 0


def _show(args: argparse.Namespace) -> int:
    exp = get_experiment(args.experiment)
    if args.scale not in exp.scales:
        raise GanlabError(f"{args.experiment} has no {args.scale!r} scale (it has: {', '.join(exp.scales)})")
    print(f"{args.experiment} ({args.scale}): {exp.description}")
    print(describe_protocol(exp, args.scale))
    return 0
