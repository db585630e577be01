"""Run directories and result files.

Every run writes ``runs/<name>/``::

    config.yaml        the resolved config
    env.json           versions, device, git commit
    metrics.jsonl      append-only, one JSON object per line (step, metric, value, protocol fields)
    events.jsonl       what happened when: checkpoints, resumes, divergence, the end of a fit
    samples/*.png      sample grids
    checkpoints/       trainer checkpoints
    results.json       final results (a list of flat records)
    results.csv        the same records as CSV
    summary.md         the same records as a Markdown table

All whole-file writes are atomic (temporary file + ``os.replace``), so a crash never leaves half a file. Nothing is
created until something is written: a run rejected before it starts leaves no folder behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ganlab.core.fileio import RunLock, atomic_save, atomic_write_bytes, atomic_write_text, truncate_jsonl

__all__ = [
    "markdown_rows",
    "markdown_section",
    "RunDir",
    "atomic_save",
    "atomic_write_bytes",
    "atomic_write_text",
    "environment_info",
    "records_to_csv",
    "records_to_markdown",
]


def _append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    line = json.dumps(_jsonable(dict(record)), sort_keys=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------------- tables
def records_to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """CSV text of flat records; the columns are the union of keys in first-seen order."""
    columns: list[str] = []
    for rec in records:
        for key in rec:
            if key not in columns:
                columns.append(key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _jsonable(v) for k, v in rec.items()})
    return buf.getvalue()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def records_to_markdown(records: Sequence[Mapping[str, Any]], title: str | None = None) -> str:
    """A Markdown table of flat records."""
    columns: list[str] = []
    for rec in records:
        for key in rec:
            if key not in columns:
                columns.append(key)
    lines = [f"# {title}", ""] if title else []
    if not records:
        return "\n".join(lines + ["(no results)", ""])
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for rec in records:
        lines.append("| " + " | ".join(_fmt(rec.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def environment_info() -> dict[str, Any]:
    """Versions and hardware, saved beside every run so that numbers can be traced to a setup."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "argv": sys.argv,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.version.cuda
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # environment info must never fail a run
        pass
    for mod in ("numpy", "accelerate", "faiss", "torchvision"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            pass
    try:
        here = Path(__file__).resolve().parent
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
        if sha.returncode == 0:
            info["git_commit"] = sha.stdout.strip()
    except Exception:
        pass
    return info


# ------------------------------------------------------------------------------------------------------ run dir
def _main_process() -> bool:
    """Whether this process writes run files: a run directory has one writer, rank 0 of a multi-process launch
    (``RANK``, set by torchrun and Accelerate's launcher), so a record logged by every rank is written once."""
    return int(os.environ.get("RANK", "0") or 0) == 0


class RunDir:
    """The output folder of one run (training, evaluation or a reproduction); created on the first write."""

    def __init__(self, path: str | Path, create: bool = False) -> None:
        self.path = Path(path)
        self._lock = RunLock(self.path)
        if create:
            self.ensure()

    @classmethod
    def create(cls, root: str | Path, name: str) -> RunDir:
        return cls(Path(root) / name, create=True)

    def ensure(self) -> RunDir:
        """Create the folder (and its parents) now."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def exists(self) -> bool:
        return self.path.is_dir()

    # fixed locations
    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    # ownership
    def lock(self) -> RunDir:
        """Become this run's only writer (see :class:`ganlab.core.fileio.RunLock`); creates the folder."""
        self._lock.acquire()
        return self

    def unlock(self) -> None:
        self._lock.release()

    def check_unlocked(self) -> None:
        """Fail at once if another process is writing this run (see ``RunLock.check_free``)."""
        self._lock.check_free()

    def save_config(self, cfg: Any) -> None:
        from ganlab.core.config import save_config

        save_config(cfg, self.config_path)
        atomic_write_text(self.path / "env.json", json.dumps(_jsonable(environment_info()), indent=2))

    def log_metrics(self, record: Mapping[str, Any]) -> None:
        """Append one record to ``metrics.jsonl`` (a single write of one line, then fsync; the main process only)."""
        if _main_process():
            _append_jsonl(self.metrics_path, record)

    def log_event(self, record: Mapping[str, Any]) -> None:
        """Append one record to ``events.jsonl`` (checkpoints, resumes, divergence, the end of a fit; main only)."""
        if _main_process():
            _append_jsonl(self.events_path, record)

    def read_metrics(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.metrics_path)

    def read_events(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.events_path)

    def truncate_metrics(self, step: int) -> int:
        """Drop the metrics records of steps after ``step`` (a resume from that step's checkpoint rewrites them)."""
        return truncate_jsonl(self.metrics_path, lambda r: not isinstance(r.get("step"), int) or r["step"] <= step)

    def write_results(self, records: Iterable[Mapping[str, Any]], title: str | None = None) -> None:
        """Write the final results as ``results.json``, ``results.csv`` and ``summary.md`` (the main process only)."""
        if not _main_process():
            return
        records = [dict(_jsonable(dict(r))) for r in records]
        atomic_write_text(self.path / "results.json", json.dumps(records, indent=2))
        atomic_write_text(self.path / "results.csv", records_to_csv(records))
        atomic_write_text(self.path / "summary.md", records_to_markdown(records, title))

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"


def markdown_section(text: str, marker: str, end: str = "\n### ") -> str:
    """The part of a Markdown ``text`` from the line holding ``marker`` to the next ``end`` (a README's results
    section, read back by the tests that compare it with the committed results)."""
    start = text.index(marker)
    stop = text.find(end, start + 1)
    return text[start : stop if stop > 0 else None]


def markdown_rows(section: str, keep: str = "first") -> dict[str, list[str]]:
    """The rows of the Markdown tables in ``section``: first cell -> the other cells (bold marks removed, rules
    skipped); a first cell seen twice keeps its ``first`` or ``last`` row."""
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("|") and not set(line) <= set("|- :"):
            cells = [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
            if keep == "last" or cells[0] not in rows:
                rows[cells[0]] = cells[1:]
    return rows
