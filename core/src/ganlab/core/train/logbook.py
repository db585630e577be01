"""The training log: values averaged between log records, written to ``metrics.jsonl`` (and TensorBoard), its
pictures (``metrics.csv`` and ``losses.png``, see :mod:`ganlab.core.train.curves`), and the watch on non-finite
losses.

Values stay tensors on their device until a record is written, so logging never forces a GPU sync per step. The
accumulated values are part of every checkpoint, so a resumed run writes the same records as an uninterrupted one.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["LossGuard", "Logbook"]


class Logbook:
    """Averages of named values since the last record; ``flush`` writes one record per call (main process)."""

    def __init__(self, run_dir: Any, device: torch.device, *, is_main: bool, tensorboard: bool) -> None:
        self.run_dir, self.device, self.is_main = run_dir, device, is_main
        self.tensorboard = tensorboard
        self._values: dict[str, list[Any]] = {}
        self._tb: Any = None
        self._tb_missing = False
        self._curves_of: tuple[int, int] | None = None  # (size, mtime) of metrics.jsonl when the curves were drawn

    def add(self, values: dict[str, Any]) -> None:
        for k, v in values.items():
            if isinstance(v, torch.Tensor):
                v = v.detach().float().mean()
            elif not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            self._values.setdefault(k, []).append(v)

    def _means(self) -> dict[str, float]:
        out = {}
        for k, v in self._values.items():
            if not v:
                continue
            if any(torch.is_tensor(x) for x in v):
                out[k] = float(torch.stack([torch.as_tensor(x, dtype=torch.float32).to(self.device) for x in v]).mean())
            else:
                out[k] = float(np.mean(v))
        return out

    def flush(self, step: int, extra: dict[str, Any]) -> dict[str, float]:
        """Write ``{"step": step, <means>, **extra}`` and start a new window; returns the record."""
        record = self._means()
        self._values = {}
        record.update(extra)
        if self.is_main:
            self.run_dir.log_metrics({"step": step, **record})
            if self.tensorboard:
                self._to_tensorboard(step, record)
        return record

    def _to_tensorboard(self, step: int, record: dict[str, float]) -> None:
        if self._tb is None and not self._tb_missing:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self._tb_missing = True
                msg = (
                    "train.tensorboard is on but the tensorboard package is not installed, so only metrics.jsonl is "
                    "written; `pip install tensorboard` (or ganlab-core[tensorboard]) or set train.tensorboard=false"
                )
                warnings.warn(msg, stacklevel=3)
                self.run_dir.log_event({"event": "warning", "step": step, "message": msg})
                return
            self._tb = SummaryWriter(str(self.run_dir.path / "tensorboard"))
        if self._tb is not None:
            for k, v in record.items():
                if isinstance(v, (int, float)):
                    self._tb.add_scalar(k, v, step)

    def write_curves(self) -> None:
        """``metrics.csv`` and ``losses.png`` from ``metrics.jsonl`` (main process; skipped when the log has not
        changed since the last drawing). A failure warns and never stops training: the pictures are a convenience."""
        if not self.is_main:
            return
        path = self.run_dir.metrics_path
        try:
            st = path.stat()
            key = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            key = (0, 0)
        if key == self._curves_of:
            return
        try:
            from ganlab.core.train.curves import write_curves

            write_curves(self.run_dir.path)
            self._curves_of = key
        except Exception as exc:
            warnings.warn(f"could not write metrics.csv / losses.png: {type(exc).__name__}: {exc}", stacklevel=2)

    def close(self) -> None:
        """End of a fit: the last pictures of the log, and TensorBoard flushed."""
        self.write_curves()
        if self._tb is not None:
            self._tb.flush()

    def state_dict(self) -> dict[str, Any]:
        return {k: [float(x) for x in v] for k, v in self._values.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._values = {k: [float(x) for x in v] for k, v in (state or {}).items()}


class LossGuard:
    """Stops training on a NaN/inf loss: exact per step on CPU; on an accelerator read once per log record or
    checkpoint (one sync there instead of one per step)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._pending: dict[str, torch.Tensor] = {}
        self.checked_step = 0

    def check(self, name: str, loss: torch.Tensor) -> tuple[torch.Tensor, float | None]:
        """(detached mean, the bad value if it is known now to be non-finite, else None)."""
        value = loss.detach().float().mean()
        if self.device.type == "cpu":
            v = value.item()
            return value, (v if not math.isfinite(v) else None)
        bad = ~torch.isfinite(value)
        prev = self._pending.get(name)
        self._pending[name] = bad if prev is None else prev | bad
        return value, None

    def first_bad(self, step: int) -> str | None:
        """The name of a loss that was non-finite since the last call (accelerators), or None; resets the watch."""
        pending, self._pending = self._pending, {}
        start = self.checked_step
        self.checked_step = step
        for name, bad in pending.items():
            if bool(bad):
                self.checked_step = start
                return name
        return None
