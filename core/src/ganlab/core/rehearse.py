"""Dress rehearsal of a ``paper`` config: the same code path, shrunk in time and in evaluation size.

:func:`derive_rehearsal` turns an experiment's ``paper`` config into its ``rehearse`` config automatically; nothing
is written by hand. Everything that decides *what* runs is kept: model sizes, losses, optimisers, augmentation,
conditioning, method options and the evaluation protocol (network, resize, reference, metrics, checkpoint rule).
Three things shrink:

- **time**: every schedule point (a key named ``steps``, ``every`` or ``start``, or ending in ``_steps``,
  ``_every``, ``_start``, plus the keys a package declares in :data:`SCHEDULE_KEYS`) goes through one monotone map
  from paper steps to rehearsal steps: points keep their order (a point before another stays before it, equal
  points stay equal), are scaled by ``steps / train.steps``, and stay >= 1 (0 still means "off"). Periodic
  evaluations (``eval.every``, a protocol's ``checkpoint.every``) are raised so that they fire ``max_evals`` times,
  since each one is a full evaluation; the map then pushes every later point past them to keep the order.
  A *count* key (Dia-GAN's ``window``: records of ``record_every`` steps) keeps its span in steps scaled;
- **evaluation size**: sample counts (``n_fake``, ``n_real``, ``prdc.n_*``, ``reference.n``, ...) drop to ``n_eval``;
- **batch per process** (``train.batch_size``): the paper's, capped at ``batch`` (the smallest that keeps the
  batch-statistics code paths; pass ``batch=None`` to keep the paper's when time allows).

:func:`rehearse` runs it (:mod:`ganlab.core.rehearse_assets` writes the stand-in datasets and evaluation networks it
needs) and reports the phases it went through; outcomes are recorded per config hash and mode
(:mod:`ganlab.core.rehearse_records`) for ``ganlab repro list``; :mod:`ganlab.core.rehearse_modes` runs it under
two processes or stops and resumes it.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COUNT_KEYS",
    "SCHEDULE_KEYS",
    "Rehearsal",
    "config_hash",
    "derive_rehearsal",
    "register_schedule_keys",
    "rehearse",
    "rehearsed",
    "schedule_points",
]

from ganlab.core.rehearse_keys import (
    _NAMES,
    _SUFFIXES,
    CLASS_MULTIPLE_KEYS,
    CLOCKS,
    COUNT_KEYS,
    IMPLICIT_COUNTS,
    NESTED,
    PACKAGE_COUNT_KEYS,
    PAPER_BATCH,
    ROW_KEYS,
    SCHEDULE_KEYS,
    SEED_KEYS,
    STEPS_FROM_CLOCK,
    Clock,
    register_schedule_keys,
)
from ganlab.core.rehearse_keys import package_key as _package
from ganlab.core.rehearse_records import COMMITTED, committed_records, config_hash, rehearsed  # noqa: F401
from ganlab.core.rehearse_records import records_dir as _records_file
from ganlab.core.rehearse_records import write_record as _record

# a runner of the harness in other processes: (key, config file, run dir, cache) -> (records, phases to add; an
# "error" among them fails the rehearsal); None: the harness runs in this process
Runner = Callable[[str, Path, Path, Path], tuple[list[dict[str, Any]], dict[str, Any]]]

# ------------------------------------------------------------------------------------------------ walking
Path_ = tuple[Any, ...]


def _leaves(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def _get(node: Any, path: Path_) -> Any:
    for p in path:
        node = node[p]
    return node


def _set(node: Any, path: Path_, value: Any) -> None:
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _names(path: Path_) -> list[str]:
    return [p for p in path if isinstance(p, str)]


def schedule_points(cfg: dict[str, Any], package: str | None = None) -> dict[Path_, int]:
    """Every step-valued schedule key (path -> paper value > 0) in a scale-selected config."""
    declared = SCHEDULE_KEYS.get(_package(package) or "", {})
    out = {}
    for path, v in _leaves(cfg):
        key = path[-1] if path and isinstance(path[-1], str) else None
        if key is None or not _is_int(v) or v <= 0:
            continue
        if key in declared:
            if declared[key] is None:
                out[path] = v
        elif key in _NAMES or key.endswith(_SUFFIXES):
            out[path] = v
    return out


def _periodic_eval(path: Path_) -> bool:
    names = _names(path)
    return names[-1] in ("eval_every", "best_every") or (  # best_every: IC-GAN's best-checkpoint FID
        names[-1] == "every" and len(names) > 1 and names[-2] in ("eval", "checkpoint")
    )


def _train_steps(points: dict[Path_, int]) -> int | None:
    steps = [v for p, v in points.items() if _names(p)[-2:] == ["train", "steps"]]
    return max(steps) if steps else None


def _monotone_map(values: list[int], total: int, steps: int, floors: dict[int, int]) -> dict[int, int]:
    """Paper step -> rehearsal step: scaled by ``steps / total``, >= 1, raised to ``floors``, and strictly
    increasing over the distinct paper values (so order and equality are both kept)."""
    out: dict[int, int] = {}
    prev = 0
    for v in sorted(set(values)):
        r = max(1, round(v * steps / total), floors.get(v, 0), prev + 1)
        out[v] = prev = r
    return out


def derive_rehearsal(
    raw: dict[str, Any],
    package: str | None = None,
    *,
    steps: int = 24,
    n_eval: int = 32,
    batch: int | None = 4,
    max_evals: int = 2,
    seeds: int | None = 1,
) -> dict[str, Any]:
    """The ``rehearse`` config of a raw experiment config (``read_yaml``'s output, ``scales`` included): its
    ``paper`` scale with the schedule, evaluation sizes and batch shrunk as the module docstring says."""
    from ganlab.core.config import select_scale

    cfg = select_scale(raw, "paper") if "scales" in raw else copy.deepcopy(raw)
    package = _package(package)
    batch = None if package in PAPER_BATCH else batch
    _materialise_defaults(cfg, package)
    nested = _graft_nested(cfg, package)
    _materialise_eval_size(cfg)
    clocks = CLOCKS.get(package or "", ())
    cap = None
    on_clock = {p for p, _ in _clock_leaves(cfg, clocks)}
    points = {p: v for p, v in schedule_points(cfg, package).items() if p not in on_clock}
    declared = SCHEDULE_KEYS.get(package or "", {})
    counts = {
        p: v for p, v in _leaves(cfg) if p and isinstance(p[-1], str) and declared.get(p[-1]) and _is_int(v) and v > 0
    }
    total = _train_steps(points) or max(points.values(), default=0)
    classes = _class_count(cfg)
    if package in STEPS_FROM_CLOCK and clocks:
        points, total, steps, cap = _clock_step_points(cfg, points, clocks[0], max_evals)
    if points and total:
        floors: dict[int, int] = {}
        for p, v in points.items():
            if _periodic_eval(p) and v < total:
                floors[v] = max(floors.get(v, 0), math.ceil(steps / max_evals))
        spans = [v * _get(cfg, (*p[:-1], declared[p[-1]])) for p, v in counts.items() if _has_period(cfg, p, declared)]
        table = _monotone_map([*points.values(), total, *spans], total, steps, floors)
        for p, v in counts.items():
            if _has_period(cfg, p, declared):
                period = _get(cfg, (*p[:-1], declared[p[-1]]))
                _set(cfg, p, max(1, table[v * period] // table[period]))
        for p, v in points.items():
            _set(cfg, p, table[v] if cap is None or not _names(p)[-1].endswith("every") else min(table[v], cap))
    for path, v in list(_leaves(cfg)):
        names = _names(path)
        if not names or not _is_int(v) or v <= 0:
            continue
        if names[-1] in COUNT_KEYS + PACKAGE_COUNT_KEYS.get(package or "", ()) or names[-2:] == ["reference", "n"]:
            multiple = classes if names[-1] in CLASS_MULTIPLE_KEYS.get(package or "", ()) else 1
            _set(cfg, path, _multiple(min(v, n_eval), multiple))
        elif batch is not None and names[-2:] == ["train", "batch_size"]:
            _set(cfg, path, min(v, batch))
    for path, v in list(_leaves_lists(cfg)):
        if path[-1] in SEED_KEYS and seeds is not None:
            _set(cfg, path, v[:seeds])
        elif path[-1] in ROW_KEYS.get(package or "", ()) and len(v) > 2:
            _set(cfg, path, [v[0], v[-1]])
    for section, keys in IMPLICIT_COUNTS.get(package or "", {}).items():
        node = _lookup(cfg, section)
        if isinstance(node, dict):
            for k in keys:
                multiple = classes if k in CLASS_MULTIPLE_KEYS.get(package or "", ()) else 1
                node.setdefault(k, _multiple(n_eval, multiple))
    _shrink_clocks(cfg, clocks, n_eval, _rehearsal_batch(cfg))
    _ungraft_nested(cfg, nested)
    return cfg


def _class_count(cfg: dict[str, Any]) -> int:
    """The class count of the config's dataset (stated ``num_classes``, else the real dataset's), 0 if unknown."""
    from ganlab.core.rehearse_assets import REAL_CLASSES

    stated = [v for p, v in _leaves(cfg) if _names(p)[-1:] == ["num_classes"] and _is_int(v) and v > 0]
    names = [v for p, v in _leaves(cfg) if _names(p)[-2:] == ["data", "name"] and isinstance(v, str)]
    return max(stated or [REAL_CLASSES.get(n, 0) for n in names] or [0])


def _multiple(value: int, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple`` (a class-balanced bank needs ``n / classes`` per class)."""
    return value if multiple <= 1 else -(-value // multiple) * multiple


def _clock_step_points(
    cfg: dict[str, Any], points: dict[Path_, int], clock: Clock, max_evals: int
) -> tuple[dict[Path_, int], int, int, int | None]:
    """Step cadences of a package whose train.steps follows ``clock`` (GOLD: log and checkpoint every N steps):
    the placeholder train.steps is left alone, the paper's length in steps is its epochs times the steps of
    ``per_epoch`` items at its batch, the rehearsal's is ``clock.rehearse`` epochs of the two batches the clock's
    unit shrinks to; a cadence is capped at ``ceil(rehearsal steps / max_evals)`` so that it fires mid-run even
    where the paper's epoch (at least ``per_epoch`` items; the real stream may be longer) puts it past the end."""
    length = next(((p, v) for p, v in _leaves(cfg) if _ends(p, clock.length) and _is_int(v) and v > 0), None)
    batch = _rehearsal_batch(cfg)
    if length is None or not clock.sizes:
        return points, 0, 0, None
    per_epoch = _lookup(cfg, (*length[0][:-1], clock.sizes[0][0][-1]))
    per_epoch = per_epoch if _is_int(per_epoch) else 10000  # GOLD's default epoch: 10,000 items
    unit = _unit(clock.sizes[0][1], 0, batch)
    paper = length[1] * math.ceil(per_epoch / batch)
    rehearsal = clock.rehearse * math.ceil(min(per_epoch, unit) / batch)
    kept = {p: v for p, v in points.items() if _names(p)[-2:] != ["train", "steps"]}
    return kept, paper, rehearsal, max(1, math.ceil(rehearsal / max_evals))


def _leaves_lists(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, list[Any]]]:
    """(path, list) for every non-empty list under a string key."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, list) and v and isinstance(k, str):
                yield (*path, k), v
            else:
                yield from _leaves_lists(v, (*path, k))


def _ends(path: Path_, suffix: tuple[str, ...]) -> bool:
    return tuple(_names(path)[-len(suffix) :]) == suffix


def _clock_leaves(cfg: dict[str, Any], clocks: tuple[Clock, ...]) -> Iterator[tuple[Path_, Clock]]:
    """Every leaf (and every int of a listed point such as milestones) on one of ``clocks``."""
    for path, _ in _leaves(cfg):
        for c in clocks:
            keys = (c.length, *c.points, *(k for k, _ in c.sizes))
            if any(_ends(path, k) or (isinstance(path[-1], int) and _ends(path[:-1], k)) for k in keys):
                yield path, c


def _rehearsal_batch(cfg: dict[str, Any]) -> int:
    sizes = [v for p, v in _leaves(cfg) if _names(p)[-2:] == ["train", "batch_size"] and _is_int(v)]
    return max(sizes, default=1)


def _shrink_clocks(cfg: dict[str, Any], clocks: tuple[Clock, ...], n_eval: int, batch: int) -> None:
    """Each clock: its length becomes ``clock.rehearse`` units and its points go through the same monotone map as
    step points (order and equality kept; 0 still means off); its unit sizes shrink to a few batches."""
    leaves = list(_leaves(cfg))
    for c in clocks:
        lengths = [(p, v) for p, v in leaves if _ends(p, c.length) and _is_int(v) and v > 0]
        for length_path, total in lengths:
            section = length_path[: -len(c.length)]  # the points of this length lie in the same section
            pts = [
                (p, v)
                for p, v in leaves
                if p[: len(section)] == section
                and _is_int(v)
                and v > 0
                and any(_ends(p, k) or (isinstance(p[-1], int) and _ends(p[:-1], k)) for k in c.points)
            ]
            table = _monotone_map([total, *(v for _, v in pts)], total, c.rehearse, {})
            _set(cfg, length_path, table[total])
            for p, v in pts:
                _set(cfg, p, table[v])
            for key, rule in c.sizes:  # a unit size the config leaves at its default is written out
                if key[: len(c.length) - 1] == c.length[:-1] and key[-1] not in _get(cfg, length_path[:-1]):
                    _set(cfg, (*length_path[:-1], key[-1]), _unit(rule, n_eval, batch))
        for key, rule in c.sizes:
            for p, v in leaves:
                if _ends(p, key) and _is_int(v) and v > 0:
                    _set(cfg, p, min(v, _unit(rule, n_eval, batch)))


def _unit(rule: str, n_eval: int, batch: int) -> int:
    """A clock's unit size: ``n_eval``, ``batches:k`` (k rehearsal batches) or a number."""
    return n_eval if rule == "n_eval" else int(rule.split(":")[-1]) * (batch if ":" in rule else 1)


def _materialise_defaults(cfg: dict[str, Any], package: str | None) -> None:
    """Write the defaults a package's clock shrinks where the config leaves them implicit (GOLD's fitting-capacity
    protocol: 40 epochs of 10,000 samples, lr step at 20), so that the rehearsal shrinks them too."""
    if package != "gold":
        return
    from ganlab.core.features.classifier import PROTOCOLS

    proto = PROTOCOLS["gold"]
    keys = {"epochs": proto.epochs, "samples_per_epoch": proto.samples_per_epoch, "step_every": proto.step_every}
    options = cfg.get("run", {}).get("method", {}).get("options")
    for section in (cfg.get("experiment"), options):
        if isinstance(section, dict):
            section["capacity"] = {**keys, **(section.get("capacity") or {})}
    if isinstance(options, dict):  # an epoch of 10,000 items (also an active-learning round's, whose epochs
        options.setdefault("per_epoch", 10000)  # lie on another clock), shrunk with the epoch clock's unit


def _materialise_eval_size(node: Any) -> None:
    """Every training config (a section with ``train.steps``) states ``eval.n_fake``, so that its periodic
    evaluations shrink too: a protocol may switch them on at run time (multigan's best-G choice by IS), and the
    default of 10,000 samples made one evaluation take over 40 minutes on a CPU."""
    from ganlab.core.train.config import EvalConfig

    if not isinstance(node, dict):
        return
    train = node.get("train")
    if isinstance(train, dict) and _is_int(train.get("steps")):
        ev = node.setdefault("eval", {})
        if isinstance(ev, dict):
            ev.setdefault("n_fake", EvalConfig().n_fake)
    for v in node.values():
        _materialise_eval_size(v)


def _graft_nested(cfg: dict[str, Any], package: str | None) -> dict[Path_, dict[str, Any]]:
    """Put each nested training config (its paper scale, its overrides applied) into ``cfg`` under ``_nested`` so
    that one schedule map covers both; returns the originals by section path."""
    from ganlab.core.config import apply_overrides, read_yaml, select_scale
    from ganlab.core.train.config import resolve_config

    out = {}
    for name in NESTED.get(package or "", ()):
        section = cfg.get(name)
        if not isinstance(section, dict) or not isinstance(section.get("config"), str):
            continue
        nested = select_scale(read_yaml(resolve_config(section["config"])), "paper")
        nested = apply_overrides(nested, list(section.get("overrides") or []))
        section["_nested"] = copy.deepcopy(nested)
        out[(name,)] = nested
    return out


def _lookup(node: Any, path: Path_) -> Any:
    try:
        return _get(node, path)
    except (KeyError, IndexError, TypeError):
        return None


def _ungraft_nested(cfg: dict[str, Any], nested: dict[Path_, dict[str, Any]]) -> None:
    """Turn each grafted config's changed leaves into overrides of its section (``a.b=value``)."""
    for path, original in nested.items():
        section = _get(cfg, path)
        derived = section.pop("_nested")
        extra = [
            f"{'.'.join(map(str, p))}={json.dumps(v)}"
            for p, v in _leaves(derived)
            if all(isinstance(x, str) for x in p) and _lookup(original, p) != v
        ]
        section["overrides"] = [*(section.get("overrides") or []), *extra]


def _has_period(cfg: dict[str, Any], path: Path_, declared: dict[str, str | None]) -> bool:
    try:
        return _is_int(_get(cfg, (*path[:-1], declared[path[-1]])))
    except (KeyError, IndexError, TypeError):
        return False


# ------------------------------------------------------------------------------------------------ running
@dataclass
class Rehearsal:
    """One rehearsal's outcome: ``status`` is ``pass``, ``fail`` or ``pending`` (the paper scale is declared
    pending, so there is nothing to rehearse)."""

    key: str
    status: str
    wall_s: float = 0.0
    config_hash: str = ""
    phases: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    substituted: list[str] = field(default_factory=list)
    batch: str = ""  # the batch per process used, and why
    mode: str = "1proc"  # how it ran (ganlab.core.rehearse_records.MODES)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def line(self) -> str:
        ph = self.phases
        name = self.key if self.mode == "1proc" else f"{self.key} [{self.mode}]"
        parts = [f"{self.status:7s} {name:45s} {self.wall_s:7.1f} s"]
        if ph:
            parts.append(
                f"steps {ph.get('steps_reached', '-')}/{ph.get('steps_planned', '-')} "
                f"({ph.get('trainings', 0)} trainings), checkpoints {ph.get('checkpoints', 0)}, "
                f"periodic evals {ph.get('periodic_evals', 0)}, evaluation {'done' if ph.get('evaluated') else 'no'}"
            )
        if self.error:
            parts.append(self.error)
        return " | ".join(parts)


def _protocol_networks(exp: Any) -> tuple[str, ...]:
    """The evaluation network the experiment's paper protocol names (a config may leave it to a default: the best-G
    choice of boosting's GAN runs by Inception Score), so that it gets stand-in weights too."""
    try:
        protocol = exp.protocol("paper") if exp.protocol is not None else None
    except Exception:  # an undeclared protocol names nothing
        return ()
    name = getattr(getattr(protocol, "network", None), "name", None)
    return (name,) if isinstance(name, str) else ()


def _batch_note(raw: dict[str, Any], cfg: dict[str, Any], package: str, derive: dict[str, Any]) -> str:
    """The batch per process of the rehearsal against the paper's, and why."""
    from ganlab.core.config import select_scale

    paper = select_scale(raw, "paper") if "scales" in raw else copy.deepcopy(raw)
    _graft_nested(paper, _package(package))  # a nested training config's batch counts too

    def sizes(c: dict[str, Any]) -> list[int]:
        out = [v for p, v in _leaves(c) if _names(p)[-2:] == ["train", "batch_size"] and _is_int(v)]
        overrides = [v for _, v in _leaves(c) if isinstance(v, str) and v.startswith("train.batch_size=")]
        return out + [int(o.split("=", 1)[1]) for o in overrides]  # a nested training config's

    got, want = sizes(cfg), sizes(paper)
    if not got:
        return "the paper's (no train.batch_size)"
    if _package(package) in PAPER_BATCH or derive.get("batch", 4) is None or got == want:
        return f"{max(got)} (the paper's)"
    return f"{max(got)} (paper {max(want, default='?')}; the cap that keeps batch statistics, for time)"


def _phases(run_dir: Path, records: list[dict[str, Any]], planned: int | None) -> dict[str, Any]:
    reached, trainings, checkpoints, evals = [], 0, 0, 0
    for f in run_dir.rglob("events.jsonl"):
        for line in f.read_text().splitlines():
            ev = json.loads(line)
            if ev.get("event") == "fit_end":
                trainings += 1
                reached.append(int(ev.get("step", 0)))
            elif ev.get("event") == "checkpoint":
                checkpoints += 1
    for f in run_dir.rglob("metrics.jsonl"):
        evals += sum('"metric"' in line for line in f.read_text().splitlines())
    return {
        "steps_planned": planned,
        "steps_reached": max(reached) if reached else 0,
        "min_steps_reached": min(reached) if reached else 0,
        "trainings": trainings,
        "checkpoints": checkpoints,
        "periodic_evals": evals,
        "evaluated": bool(records),
    }


def rehearse(
    key: str,
    exp: Any,
    *,
    cache_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    timeout_s: float | None = None,
    mode: str = "1proc",
    runner: Runner | None = None,
    **derive: Any,
) -> Rehearsal:
    """Rehearse ``exp``'s paper config (derived as :func:`derive_rehearsal` says) on stand-in data and stand-in
    evaluation networks where the real ones are missing; record the outcome under ``cache_dir`` as ``mode``.
    ``runner`` runs the harness in other processes (:mod:`ganlab.core.rehearse_modes`); its run folder is
    ``<out>/<key>/<hash>-<mode>`` (a one-process rehearsal's: ``<out>/<key>/<hash>``)."""
    from ganlab.core.config import read_yaml
    from ganlab.core.rehearse_assets import RehearsalTimeout, prepared, time_limit
    from ganlab.core.results import RunDir

    if "paper" not in exp.scales or exp.status.get("paper", "ok").startswith("pending"):
        return Rehearsal(key, "pending", error=exp.status.get("paper", "no paper scale"))
    cache = _records_file(cache_dir)
    digest = config_hash(exp.config)
    raw = read_yaml(exp.config)
    cfg = derive_rehearsal(raw, key.split("/")[0], **derive)
    out = Path(out_dir) if out_dir is not None else cache / "runs"
    run_path = out / key / (digest if mode == "1proc" else f"{digest}-{mode}")
    start = time.time()
    result = Rehearsal(key, "fail", config_hash=digest, batch=_batch_note(raw, cfg, key.split("/")[0], derive))
    result.mode, extra = mode, {}
    records: list[dict[str, Any]] = []
    try:
        with time_limit(timeout_s), prepared(cfg, cache, _protocol_networks(exp)) as (config_dict, substituted):
            result.substituted = substituted
            if run_path.exists():  # a rehearsal starts fresh: the harness would resume an earlier one
                import shutil

                shutil.rmtree(run_path)
            run_dir = RunDir(run_path)
            config_file = run_path / "rehearse.yaml"
            run_path.mkdir(parents=True, exist_ok=True)
            config_file.write_text(yaml.safe_dump(config_dict, sort_keys=False))
            if runner is None:
                records = exp.run(config_file, "paper", [], run_dir)
                run_dir.write_results(records, title=f"{key} (rehearsal of the paper scale)")
            else:
                records, extra = runner(key, config_file, run_path, cache)
        result.error = extra.pop("error", "")
        result.status = "fail" if result.error else "pass"
    except (Exception, RehearsalTimeout) as exc:  # a failed rehearsal is a result, reported in one line
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        if run_path.is_dir():
            import traceback

            (run_path / "rehearsal_error.txt").write_text(traceback.format_exc())
    result.wall_s = time.time() - start
    # a package whose train.steps follows a clock (GOLD: epochs x steps per epoch of the data) plans no step count
    clocked = _package(key.split("/")[0]) in STEPS_FROM_CLOCK
    planned = None if clocked else _train_steps(schedule_points(cfg, key.split("/")[0]))
    if run_path.exists():
        result.phases = {**_phases(run_path, records, planned), **extra}
        if result.passed and planned and result.phases["trainings"] and result.phases["steps_reached"] != planned:
            result.status = "fail"
            result.error = f"training stopped at step {result.phases['steps_reached']} of {planned}"
    _record(result, cache_dir)
    return result
