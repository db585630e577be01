"""ganlab.core.train: the Accelerate training engine, the method hooks and the experiment config schema.

Names are imported on first use, so that ``import ganlab.core.train.config`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "ExperimentConfig": "ganlab.core.train.config",
    "load_experiment": "ganlab.core.train.config",
    "METHODS": "ganlab.core.train.method",
    "Method": "ganlab.core.train.method",
    "EMA": "ganlab.core.train.ema",
    "Trainer": "ganlab.core.train.trainer",
    "train": "ganlab.core.train.trainer",
    "build_method": "ganlab.core.train.build",
    "TopKMethod": "ganlab.core.train.topk",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'ganlab.core.train' has no attribute {name!r}")
