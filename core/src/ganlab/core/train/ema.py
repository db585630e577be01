"""Exponential moving average of the generator's weights (G_ema)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ganlab.core.errors import ConfigError, ShapeError

__all__ = ["EMA"]


class EMA:
    """Exponential moving average of a model's parameters (BigGAN's G_ema; Yazici et al. 2019).

    Before step ``start`` the average is a plain copy of the model; from ``start`` on, every float parameter moves as
    ``ema <- decay * ema + (1 - decay) * param``. Buffers (BN running statistics, SN vectors, counters) are copied,
    so the averaged model runs in eval mode with the live model's statistics.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, start: int = 0) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ConfigError(f"ema.decay must lie in [0, 1], got {decay}")
        self.decay, self.start = float(decay), int(start)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Update after the ``step``-th finished step: copy if ``step < start``, else lerp by ``1 - decay``."""
        src = dict(model.named_parameters())
        dst = dict(self.model.named_parameters())
        if src.keys() != dst.keys():
            raise ShapeError("EMA: the model's parameters no longer match the averaged copy")
        pairs = [(dst[k], src[k].detach()) for k in dst]
        if step < self.start:
            for d, s in pairs:
                d.copy_(s)
        else:
            floats = [(d, s) for d, s in pairs if d.is_floating_point()]
            if floats:
                torch._foreach_lerp_([d for d, _ in floats], [s for _, s in floats], 1.0 - self.decay)
            for d, s in pairs:
                if not d.is_floating_point():
                    d.copy_(s)
        for (_, d), (_, s) in zip(self.model.named_buffers(), model.named_buffers()):
            d.copy_(s)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "decay": self.decay, "start": self.start}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
