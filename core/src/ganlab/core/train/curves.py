"""Pictures of a run's log: ``metrics.csv`` (the rows and columns of ``metrics.jsonl``) and ``losses.png`` (the
logged losses against the step, and below them every evaluated metric against the step).

Written by the trainer at every checkpoint and at the end of ``fit``; ``write_curves(run_path)`` rewrites them for
any run folder. Plotting uses matplotlib's Agg canvas directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ganlab.core.fileio import atomic_write_bytes, atomic_write_text
from ganlab.core.results import _read_jsonl, records_to_csv

__all__ = ["curves_png", "metrics_csv", "write_curves"]

MAX_METRIC_PANELS = 10


def metrics_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """CSV text of the metrics records: ``step`` first, then every key in first-seen order; nested values as JSON."""
    flat = [{"step": r.get("step"), **r} for r in records] if records else []
    flat = [{k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in r.items()} for r in flat]
    return records_to_csv(flat) if flat else "step\n"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _loss_series(records: Sequence[Mapping[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    series: dict[str, tuple[list[float], list[float]]] = {}
    for r in records:
        step = _number(r.get("step"))
        if step is None or "metric" in r:
            continue
        for key, value in r.items():
            v = _number(value)
            if "loss" in key and v is not None:
                xs, ys = series.setdefault(key, ([], []))
                xs.append(step)
                ys.append(v)
    return series


def _metric_series(records: Sequence[Mapping[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    series: dict[str, tuple[list[float], list[float]]] = {}
    for r in records:
        step, value = _number(r.get("step")), _number(r.get("value"))
        if step is None or value is None or not isinstance(r.get("metric"), str):
            continue
        xs, ys = series.setdefault(r["metric"], ([], []))
        xs.append(step)
        ys.append(value)
    return series


def curves_png(records: Sequence[Mapping[str, Any]], title: str = "") -> bytes:
    """PNG bytes: the losses on top; one small panel per evaluated metric underneath (when there are any)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    losses = _loss_series(records)
    metrics = dict(list(_metric_series(records).items())[:MAX_METRIC_PANELS])
    n_cols = max(1, min(5, len(metrics)))  # FID + precision, recall, density, coverage in one row
    n_metric_rows = math.ceil(len(metrics) / n_cols) if metrics else 0
    height = 3.6 + 2.4 * n_metric_rows
    fig = Figure(figsize=(9, height), dpi=100)  # fixed margins (in inches): a layout engine would draw twice
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        1 + n_metric_rows,
        n_cols,
        height_ratios=[1.5] + [1] * n_metric_rows,
        left=0.08,
        right=0.98,
        top=1 - 0.35 / height,
        bottom=0.55 / height,
        hspace=0.6 if n_metric_rows else 0.2,
        wspace=0.3,
    )
    ax = fig.add_subplot(grid[0, :])
    for name, (xs, ys) in losses.items():
        ax.plot(xs, ys, label=name, linewidth=1.2, marker="." if len(xs) < 30 else None)
    if losses:
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(0.5, 0.5, "no losses logged yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (mean over each log window)")
    ax.set_title(title or "training losses")
    ax.grid(alpha=0.3)
    for i, (name, (xs, ys)) in enumerate(metrics.items()):
        m = fig.add_subplot(grid[1 + i // n_cols, i % n_cols])
        m.plot(xs, ys, marker="o", markersize=3, linewidth=1.2)
        m.set_title(name, fontsize=9)
        m.set_xlabel("step", fontsize=8)
        m.tick_params(labelsize=7)
        m.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_curves(run_path: str | Path, title: str = "") -> tuple[Path, Path]:
    """Write ``metrics.csv`` and ``losses.png`` beside ``run_path/metrics.jsonl``; returns their paths."""
    run_path = Path(run_path)
    records = _read_jsonl(run_path / "metrics.jsonl")
    csv_path, png_path = run_path / "metrics.csv", run_path / "losses.png"
    atomic_write_text(csv_path, metrics_csv(records))
    atomic_write_bytes(png_path, curves_png(records, title or run_path.name))
    return csv_path, png_path
