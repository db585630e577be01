"""The process group of a run, set up once and the same way everywhere.

Accelerate keeps one shared process state per interpreter, and the first object that builds it decides it. On a CPU
machine under ``torchrun`` it sets up the multi-process (gloo) state only when told ``cpu=True``; a plain
``PartialState()`` built first (for a device or an ``is_main`` check) leaves every rank believing it is the only
process, rank 0, so that every rank writes the run's files and takes its lock. Every caller therefore goes through
:func:`process_state`, and the trainer's ``Accelerator`` is built with :func:`accelerator_cpu_flag`.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["accelerator_cpu_flag", "process_state"]


def accelerator_cpu_flag() -> bool:
    """``cpu=True`` for Accelerate where the processes are several and no GPU is present (multi-process CPU)."""
    import torch

    return not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1


def process_state() -> Any:
    """Accelerate's ``PartialState``, built with the flag the trainer's ``Accelerator`` uses."""
    from accelerate import PartialState

    return PartialState(cpu=accelerator_cpu_flag())
