"""What a method may use of the run it is part of: the :class:`Run` protocol that the trainer satisfies.

Methods (``ganlab.core.train.method``) are typed against this protocol rather than against the trainer, so that the
trainer depends on the methods and never the other way round (no import circle, not even an annotation-only one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from ganlab.core.losses import GanLoss
    from ganlab.core.results import RunDir
    from ganlab.core.train.config import ExperimentConfig

__all__ = ["Run"]


class Run(Protocol):
    """The trainer as a method sees it (see the module docstring of :mod:`ganlab.core.train.method`)."""

    G: nn.Module
    D: nn.Module
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    loss: GanLoss
    cfg: ExperimentConfig
    step: int
    dataset: Any
    device: torch.device
    accelerator: Any
    run_dir: RunDir
    num_classes: int
    z_dim: int
    init_state: dict[str, Any] | None

    @property
    def G_ema(self) -> nn.Module: ...

    @property
    def epoch(self) -> float: ...

    def unwrap(self, module: nn.Module) -> nn.Module: ...

    def add_model(
        self, name: str, module: nn.Module, lr: float, betas: tuple[float, float] | None = None
    ) -> nn.Module: ...

    def add_stream(self, name: str, sampler: Any) -> None: ...

    def set_sampler(self, name: str, sampler: Any) -> None: ...

    def next_batch(self, name: str = "main", n: int | None = None) -> dict[str, torch.Tensor]: ...

    def optimize(self, name: str, loss: torch.Tensor) -> None: ...

    def log(self, values: dict[str, Any]) -> None: ...
