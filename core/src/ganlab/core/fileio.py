"""File writes that never leave half a file, stale-temp clean-up, and the one-writer lock of a run directory.

- :func:`atomic_write_bytes` / :func:`atomic_write_text` / :func:`atomic_save`: temporary file in the same folder,
  fsync, ``os.replace``; a reader sees the old file or the whole new one, a crash leaves at most a ``.*.tmp`` file
  that :func:`remove_stale_temps` deletes on the next start.
- :func:`truncate_jsonl`: keep the leading records of a JSONL file that pass a test, atomically (resume).
- :class:`RunLock`: an OS-level exclusive lock on ``<run>/.lock`` (``fcntl`` record lock on POSIX, ``msvcrt`` on
  Windows), released by the OS when the process exits or crashes; a second process gets one clear error naming the
  holder's PID. The lock belongs to the process, so one program may open the same run twice in a row.
- :func:`cache_root`: the one cache folder (``$GANLAB_CACHE_DIR``, default ``~/.cache/ganlab``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganlab.core.errors import GanlabError

TEMP_SUFFIX = ".tmp"

CACHE_DIR_ENV = "GANLAB_CACHE_DIR"
# Old name -> the setting's one name; an old name is still read for one release (0.2), with a notice printed once.
RENAMED_ENV = {"GANLAB_CACHE": CACHE_DIR_ENV}
_noticed: set[str] = set()


def env_setting(name: str) -> str | None:
    """``$name`` (empty counts as unset), else the value of its old name from :data:`RENAMED_ENV`, with a one-time
    deprecation line on stderr."""
    value = os.environ.get(name)
    if value:
        return value
    for old, new in RENAMED_ENV.items():
        if new == name and os.environ.get(old):
            if old not in _noticed:
                _noticed.add(old)
                print(
                    f"ganlab: DeprecationWarning: ${old} is deprecated and will stop working in the next release; "
                    f"set ${new} instead",
                    file=sys.stderr,
                )
            return os.environ[old]
    return None


def cache_root() -> Path:
    """The cache folder shared by every derived file (features, fingerprints, parsed datasets):
    ``$GANLAB_CACHE_DIR``, else ``~/.cache/ganlab``."""
    return Path(env_setting(CACHE_DIR_ENV) or Path.home() / ".cache" / "ganlab").expanduser()


class RunLockedError(GanlabError):
    """Another process is writing the same run directory."""


# ------------------------------------------------------------------------------------------------- atomic writes
def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save(obj: Any, path: str | Path, saver: Callable[[Any, Any], None] | None = None) -> None:
    """Save ``obj`` with ``saver(obj, file)`` (default ``torch.save``) atomically."""
    if saver is None:
        import torch

        saver = torch.save
    buf = io.BytesIO()
    saver(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the ``.NAME.XXXX.tmp`` files an interrupted atomic write left in ``folder``; returns them.

    Only call this while holding the folder's :class:`RunLock`: then no other writer can own them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX) and p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def truncate_jsonl(path: str | Path, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Cut ``path`` back to its leading records for which ``keep(record)`` holds (atomically); returns dropped lines.

    Records after the first one that fails are dropped too, so the file stays a prefix of what was written.
    """
    path = Path(path)
    if not path.is_file():
        return 0
    lines = path.read_bytes().splitlines(keepends=True)
    kept = 0
    for line in lines:
        text = line.strip()
        if not text:
            kept += 1
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:  # a torn last line (killed mid-write) goes
            break
        if not keep(record):
            break
        kept += 1
    if kept == len(lines) and (not lines or lines[-1].endswith(b"\n")):
        return 0
    body = b"".join(lines[:kept])
    if body and not body.endswith(b"\n"):
        body += b"\n"
    atomic_write_bytes(path, body)
    return len(lines) - kept


# ------------------------------------------------------------------------------------------------------ the lock
_HELD: dict[str, tuple[int, int]] = {}  # resolved lock path -> (fd, holders in this process)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class RunLock:
    """Exclusive ownership of a run directory by this process (see the module docstring).

    >>> lock = RunLock("runs/demo").acquire()   # raises RunLockedError naming the other PID
    >>> lock.release()
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / ".lock"
        self.held = False

    def _key(self) -> str:
        return str(self.path.resolve())

    def check_free(self) -> None:
        """Raise :class:`RunLockedError` if another process holds the lock; creates nothing (a probe)."""
        if self.held or self._key() in _HELD or not self.path.is_file():
            return
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return
        try:
            if not _try_lock(fd):
                holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                raise RunLockedError(
                    f"run directory {self.folder} is in use by another process (PID {holder}); wait for it to "
                    "finish, stop it, or use another run directory"
                )
        finally:
            os.close(fd)  # also drops the probe's own lock

    def acquire(self) -> RunLock:
        if self.held:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self._key()
        if key in _HELD:  # this process already owns it (a second Trainer on the same run, one after the other)
            fd, n = _HELD[key]
            _HELD[key] = (fd, n + 1)
            self.held = True
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                try:
                    holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                finally:
                    os.close(fd)
                raise RunLockedError(
                    f"run directory {self.folder} is in use by another process (PID {holder}); wait for it to "
                    "finish, stop it, or use another run directory"
                )
            # the holder we waited for may have removed the file on release: then our lock is on a deleted file
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        _HELD[key] = (fd, 1)
        self.held = True
        return self

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        key = self._key()
        fd, n = _HELD.get(key, (-1, 0))
        if n > 1:
            _HELD[key] = (fd, n - 1)
            return
        _HELD.pop(key, None)
        if fd >= 0:
            try:  # while still held: a finished run leaves no .lock behind (Windows keeps an open file: it stays)
                self.path.unlink(missing_ok=True)
            except OSError:
                pass
            os.close(fd)  # closing the descriptor drops the lock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
