"""The sessions of a suite folder: every ``run_suite`` on it (the first run and each resume) adds one, with its wall
time, to ``wall_time.json``; the summary states the total and the resumed part."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ganlab.core.fileio import atomic_write_text

__all__ = ["SuiteClock", "read_sessions"]


def read_sessions(root: str | Path) -> list[dict[str, Any]]:
    """The sessions of a suite folder, oldest first: ``{"started", "wall_s", "jobs"}`` each (none before a run)."""
    path = Path(root) / SuiteClock.FILE
    return json.loads(path.read_text())["sessions"] if path.is_file() else []


class SuiteClock:
    """The wall time of this session of a suite run, written to ``wall_time.json`` after every finished job, so a
    killed session still counts up to its last finished job."""

    FILE = "wall_time.json"

    def __init__(self, root: Path, t0: float | None = None) -> None:
        self.root, self.t0 = root, time.perf_counter() if t0 is None else t0
        self.sessions = read_sessions(root)
        self.sessions.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "wall_s": 0.0, "jobs": 0})

    @property
    def wall_s(self) -> float:
        return time.perf_counter() - self.t0

    def tick(self, jobs: int = 0) -> None:
        self.sessions[-1]["wall_s"] = round(self.wall_s, 3)
        self.sessions[-1]["jobs"] += jobs
        atomic_write_text(self.root / self.FILE, json.dumps({"sessions": self.sessions}, indent=2))
