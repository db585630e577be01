"""Real-data streams: each draws dataset positions with its own rank-aware sampler and fetches them in one batch.

The trainer draws indices itself and fetches them with ``dataset.get_batch``, so a checkpoint's sampler state is
exactly what was consumed (``accelerator.prepare`` never sees the data).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab.core.errors import CheckpointError, ConfigError

__all__ = ["Streams"]


class Streams:
    """Named samplers over one dataset (``"main"`` feeds D; methods add others, e.g. Dia-GAN's uniform stream)."""

    def __init__(self, dataset: Any, device: torch.device) -> None:
        self.dataset, self.device = dataset, device
        self.samplers: dict[str, Any] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.samplers

    def add(self, name: str, sampler: Any) -> None:
        if name in self.samplers:
            raise ConfigError(f"a data stream named {name!r} already exists; use set_sampler to replace its sampler")
        self.samplers[name] = sampler

    def set(self, name: str, sampler: Any) -> None:
        self.samplers[name] = sampler

    def next(self, name: str, n: int) -> dict[str, torch.Tensor]:
        idx = np.asarray(self.samplers[name].next_indices(n), dtype=np.int64)
        batch = self.dataset.get_batch(idx)
        return {k: (v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}

    def state_dict(self) -> dict[str, Any]:
        return {name: {"class": type(s).__name__, "state": s.state_dict()} for name, s in self.samplers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, saved in state.items():
            if name not in self.samplers:
                continue
            sampler = self.samplers[name]
            if type(sampler).__name__ != saved["class"]:
                raise CheckpointError(
                    f"stream {name!r} was drawn by a {saved['class']} when checkpointed but is a "
                    f"{type(sampler).__name__} now; the method must restore it in on_resume()"
                )
            sampler.load_state_dict(saved["state"])
