"""ganlab.core.train: the Accelerate training engine, the method hooks and the experiment config schema."""

from ganlab.core.train.config import ExperimentConfig
from ganlab.core.train.method import METHODS, Method
from ganlab.core.train.trainer import EMA, Trainer, build_method, train

__all__ = ["EMA", "METHODS", "ExperimentConfig", "Method", "Trainer", "build_method", "train"]

import ganlab.core.sampling  # noqa: F401  (registers the "topk" method)
