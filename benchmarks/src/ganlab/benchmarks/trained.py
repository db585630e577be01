"""What a finished training hands to sampling (its own module: cells and the package integrations both use it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Trained"]


@dataclass
class Trained:
    """What sampling needs from a finished training: G (G_ema), the critics, the trainer (None for ensembles)."""

    G: torch.nn.Module
    models: dict[str, torch.nn.Module]
    trainer: Any = None

    def critic(self, name: str) -> torch.nn.Module | None:
        m = self.models.get(name)
        return m.eval() if m is not None else None

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device
