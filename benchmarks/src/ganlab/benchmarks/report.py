"""The tables of a suite run, rebuilt from its finished cells (no training): ``results.csv``, ``results.json`` and
``summary.md`` (mean ± std over seeds per setting and method, the best of each column in bold, each method's paired
difference to its baseline with a 95 % interval, marked * when it excludes 0, the protocol of every number: core's
``describe()`` once per setting, its ``as_record()`` ``eval_*`` columns on every row), plus the plots and sheets of
:mod:`ganlab.benchmarks.plots` and the per-instance score comparison of :mod:`ganlab.benchmarks.scores`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ganlab.benchmarks.protocol import describe_methods, describe_setting
from ganlab.benchmarks.sessions import read_sessions
from ganlab.benchmarks.stats import LOWER_IS_BETTER, excludes_zero, mean_std, paired_difference
from ganlab.core.fileio import atomic_write_text
from ganlab.core.results import records_to_csv

__all__ = ["collect", "effect_lines", "report"]

HIDDEN = {"eval_s"}


def collect(root: str | Path, suite: Any) -> list[dict[str, Any]]:
    """Every cell record of the suite under ``root`` (pending cells included as such), in suite order; each with its
    core protocol columns (``eval_*``, written by the cell; for a cell written without, from the suite: the setting's
    protocol as the method draws its samples)."""
    from ganlab.benchmarks.cells import read_cell

    out = []
    protocols = {(s, m): suite.eval_protocol(s, m).as_record() for s, m, _ in suite.cells()}
    for setting, method, seed in suite.cells():
        rec = read_cell(Path(root) / setting / method / f"seed{seed}")
        rec = rec or {"setting": setting, "method": method, "seed": seed, "status": "pending"}
        out.append({**rec, **{k: v for k, v in protocols[(setting, method)].items() if k not in rec}})
    return out


def _flat(rec: dict[str, Any]) -> dict[str, Any]:
    row = {k: rec.get(k) for k in ("setting", "method", "seed", "status", "baseline")}
    row.update({k: v for k, v in (rec.get("metrics") or {}).items()})
    row.update({f"protocol.{k}": v for k, v in (rec.get("protocol") or {}).items()})
    if rec.get("message"):
        row["message"] = rec["message"]
    if rec.get("wall_s") is not None:
        row["wall_s"] = round(rec["wall_s"], 1)
    row.update({k: v for k, v in rec.items() if k.startswith("eval_")})
    return row


def _fmt(mean: float, std: float, n: int) -> str:
    if n == 0 or not math.isfinite(mean):
        return "—"
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def setting_table(records: list[dict[str, Any]], setting: str, methods: list[str]) -> tuple[list[str], list[str]]:
    """(markdown lines of the results table, markdown lines of the paired differences) of one setting."""
    done = [r for r in records if r["setting"] == setting and r.get("status") == "done"]
    metrics = [m for m in dict.fromkeys(k for r in done for k in r["metrics"]) if m not in HIDDEN]
    by = {(r["method"], r["seed"]): r["metrics"] for r in done}
    stats = {
        (m, k): mean_std([by[(m, s)].get(k, math.nan) for (mm, s) in by if mm == m]) for m in methods for k in metrics
    }
    best = {}
    for k in metrics:
        vals = [(stats[(m, k)][0], m) for m in methods if stats[(m, k)][2] and math.isfinite(stats[(m, k)][0])]
        if vals:
            best[k] = (min if k in LOWER_IS_BETTER else max)(vals)[1]
    lines = ["| method | " + " | ".join(metrics) + " | seeds |", "|---|" + "---|" * (len(metrics) + 1)]
    status = {m: {r.get("status") for r in records if r["setting"] == setting and r["method"] == m} for m in methods}
    for m in methods:
        if "done" not in status[m]:
            why = next((r.get("message") for r in records if r["setting"] == setting and r["method"] == m), None)
            word = ", ".join(sorted(s for s in status[m] if s)) or "pending"
            lines.append(f"| {m} | {word}{': ' + why if why else ''} |" + " |" * len(metrics))
            continue
        cells = []
        for k in metrics:
            text = _fmt(*stats[(m, k)])
            cells.append(f"**{text}**" if best.get(k) == m else text)
        n = max(stats[(m, k)][2] for k in metrics) if metrics else 0
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {n} |")
    diffs = ["| method | vs | " + " | ".join(f"Δ {k}" for k in metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    base_of = {r["method"]: r.get("baseline") for r in done}
    for m in methods:
        b = base_of.get(m)
        if b is None or b == m or "done" not in status.get(b, set()):
            continue
        cells = []
        for k in metrics:
            x = {s: by[(m, s)].get(k, math.nan) for (mm, s) in by if mm == m}
            y = {s: by[(b, s)].get(k, math.nan) for (mm, s) in by if mm == b}
            d, lo, hi, n = paired_difference(x, y)
            if n == 0:
                cells.append("—")
            elif not math.isfinite(lo):
                cells.append(f"{d:+.3g}")
            else:
                cells.append(f"{d:+.3g} [{lo:+.3g}, {hi:+.3g}]" + ("*" if excludes_zero(lo, hi) else ""))
        diffs.append(f"| {m} | {b} | " + " | ".join(cells) + " |")
    return lines, diffs


def effect_lines(records: list[dict[str, Any]], setting: str, methods: list[str]) -> list[str]:
    """What the paired differences of one setting resolve: per method and baseline, the metrics whose 95 % interval
    excludes 0 (better or worse), then the pairs where none does (not resolved at this many seeds)."""
    done = [r for r in records if r["setting"] == setting and r.get("status") == "done"]
    metrics = [m for m in dict.fromkeys(k for r in done for k in r["metrics"]) if m not in HIDDEN]
    by = {(r["method"], r["seed"]): r["metrics"] for r in done}
    base_of = {r["method"]: r.get("baseline") for r in done}
    resolved, unresolved = [], []
    for m in methods:
        b = base_of.get(m)
        if b is None or b == m or not any(mm == b for (mm, _) in by):
            continue
        found = []
        for k in metrics:
            x = {s: by[(m, s)].get(k, math.nan) for (mm, s) in by if mm == m}
            y = {s: by[(b, s)].get(k, math.nan) for (mm, s) in by if mm == b}
            d, lo, hi, _ = paired_difference(x, y)
            if excludes_zero(lo, hi):
                better = (d < 0) == (k in LOWER_IS_BETTER)
                found.append(f"{k} {d:+.3g} [{lo:+.3g}, {hi:+.3g}] ({'better' if better else 'worse'})")
        if found:
            resolved.append(f"- **{m}** vs {b}: " + "; ".join(found))
        else:
            unresolved.append(f"{m} vs {b}")
    if not resolved and not unresolved:
        return []
    lines = ["Effects resolved (95 % paired interval excludes 0):", ""] + (resolved or ["- none"]) + [""]
    if unresolved:
        lines += ["Not resolved at these seeds (every interval contains 0): " + ", ".join(unresolved) + ".", ""]
    return lines


def _wall_time_lines(root: Path, wall_s: float | None) -> list[str]:
    """The wall time of the suite: of its one session, or the total over every session with the resumed ones apart
    (from ``wall_time.json``; ``wall_s`` is this session's when the folder has no record of sessions)."""
    times = [float(s["wall_s"]) for s in read_sessions(root)]
    if not times:
        return [f"Wall time of this run: {wall_s / 60:.1f} min.", ""] if wall_s is not None else []
    if len(times) == 1:
        return [f"Wall time of this run: {times[0] / 60:.1f} min.", ""]
    total, resumed = sum(times), sum(times[1:])
    parts = " + ".join(f"{t / 60:.1f}" for t in times)
    return [f"Wall time: {total / 60:.1f} min in total, {resumed / 60:.1f} min of it resumed ({len(times)} sessions: "
            f"{parts} min).", ""]  # fmt: skip


def report(root: str | Path, suite: Any, plots: bool = True, wall_s: float | None = None) -> Path:
    """Write the result files of the suite run at ``root``; returns the path of summary.md."""
    root = Path(root)
    records = collect(root, suite)
    rows = [_flat(r) for r in records]
    atomic_write_text(root / "results.csv", records_to_csv(rows))
    atomic_write_text(root / "results.json", json.dumps(records, indent=2, default=str))
    lines = [f"# Suite {suite.name}", "", suite.description.strip(), ""]
    lines += _wall_time_lines(root, wall_s)
    done = sum(r.get("status") == "done" for r in records)
    lines += [f"{done} of {len(records)} cells done; seeds {suite.seeds}. Mean ± std over seeds; the best of each "
              "column in **bold**; Δ = paired difference to the method's baseline (seed by seed), 95 % t-interval, "
              "* when it excludes 0. FID: lower is better; every other column: higher is better.", ""]  # fmt: skip
    for setting in suite.settings:
        methods = [m for m in suite.methods if setting in suite.settings_of(m)]
        table, diffs = setting_table(records, setting, methods)
        proto = next((r.get("protocol") for r in records if r["setting"] == setting and r.get("protocol")), None)
        lines += [f"## {setting}", ""]
        if suite.settings[setting].description:
            lines += [suite.settings[setting].description.strip(), ""]
        words = describe_setting(suite.settings[setting], proto, methods=describe_methods(suite, setting))
        lines += ["Protocol: " + words, ""]
        lines += table + [""]
        if len(diffs) > 2:
            lines += ["Paired differences to the baseline:", ""] + diffs + [""]
            lines += effect_lines(records, setting, methods)
        failed = [r for r in records if r["setting"] == setting and r.get("status") == "failed"]
        for r in failed:
            lines.append(f"- failed: {r['method']} seed {r['seed']}: {r.get('message')}")
        if failed:
            lines.append("")
    if plots:
        from ganlab.benchmarks.plots import write_plots
        from ganlab.benchmarks.scores import write_score_comparison

        figures = write_plots(root, suite, records)
        compared = write_score_comparison(root, suite, records)
        if figures:
            lines += ["## Plots and sample sheets", ""] + [f"- `{p.relative_to(root)}`" for p in figures] + [""]
        if compared:
            lines += ["## Per-instance scores, side by side", ""] + compared + [""]
    path = root / "summary.md"
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path
