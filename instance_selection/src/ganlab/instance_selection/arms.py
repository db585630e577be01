"""Arms of an experiment (full data, uniform or density selection, ...): each arm's training config, and the mean ±
std of its seeds. Shared by the image and the 2-D reproductions."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ganlab.core.config import deep_merge, from_dict, to_dict
from ganlab.core.train.config import ExperimentConfig

__all__ = ["arm_run_config", "mean_std"]


def arm_run_config(run_cfg: ExperimentConfig, arm: Any) -> ExperimentConfig:
    """The training config of one arm: the shared ``run`` with the arm's ``run`` deltas."""
    if not arm.run:
        return copy.deepcopy(run_cfg)
    return from_dict(ExperimentConfig, deep_merge(to_dict(run_cfg), arm.run), where=f"arm {arm.name}.run")


def mean_std(rows: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """Mean and sample std (ddof 1; 0 for a single seed) of each key over the seeds' rows."""
    out: dict[str, Any] = {}
    for key in keys:
        vals = np.array([r[key] for r in rows], dtype=np.float64)
        out[key] = float(vals.mean())
        out[f"{key}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
    return out
