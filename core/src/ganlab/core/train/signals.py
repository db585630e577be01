"""SIGTERM (``kill``, a scheduler's pre-emption, torchrun stopping its workers) as an interrupt during ``fit``.

Python's default action for SIGTERM ends the process at once: no ``failed.json``, and the run's ``.lock`` file stays
behind. While ``fit`` runs in the main thread with no other SIGTERM handler installed, :func:`sigterm_raises` turns
the signal into a :class:`KeyboardInterrupt`, so ``fit`` stops the way Ctrl-C stops it: the reason is written, the
lock is released, and the run resumes from its last checkpoint.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["restore_sigterm", "sigterm_raises"]


def _raise(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt("stopped by SIGTERM")


def sigterm_raises() -> Any:
    """Install the handler (main thread, default handler only); returns what :func:`restore_sigterm` puts back."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:  # someone else's handler (a cluster's) stays
        return None
    return signal.signal(signal.SIGTERM, _raise)


def restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
