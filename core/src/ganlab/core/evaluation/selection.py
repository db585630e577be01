"""The checkpoint rule's arithmetic: which evaluation is best, and when a run stops for lack of improvement.

The trainer's :class:`ganlab.core.train.evaluation_schedule.BestSelector` keeps the best generator with
:func:`better`; the reproduction harness stops a run with :func:`patience_exhausted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ganlab.core.evaluation.protocol import LOWER_IS_BETTER, default_mode

__all__ = ["LOWER_IS_BETTER", "best_index", "better", "metric_value", "patience_exhausted"]


def metric_value(records: list[dict[str, Any]], name: str) -> float | None:
    """The value of metric ``name`` among evaluation records (``{"metric", "value", ...}``), or None."""
    for rec in records:
        if rec.get("metric") == name:
            return float(rec["value"])
    return None


def better(a: float, b: float | None, metric: str, mode: str | None = None) -> bool:
    """``a`` improves on ``b`` (None: nothing yet) for ``metric`` in ``mode`` (None: the metric's usual direction);
    ties keep the earlier checkpoint, and NaN never improves."""
    if a != a:
        return False
    if b is None:
        return True
    return a < b if (mode or default_mode(metric)) == "min" else a > b


def best_index(values: Sequence[float], metric: str, mode: str | None = None) -> int | None:
    """Position of the best of a sequence of evaluations (the earliest among equals); None when none counts."""
    best: int | None = None
    for i, v in enumerate(values):
        if better(v, None if best is None else values[best], metric, mode):
            best = i
    return best


def patience_exhausted(values: Sequence[float], metric: str, mode: str | None, patience: int) -> bool:
    """Whether the last ``patience`` evaluations all failed to improve on the best before them (0: never stop)."""
    if patience <= 0 or len(values) <= patience:
        return False
    best = best_index(values, metric, mode)
    return best is not None and len(values) - 1 - best >= patience
