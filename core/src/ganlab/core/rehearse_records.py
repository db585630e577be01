"""The rehearsal records: one entry per (paper config hash, mode), on this machine and in the committed table.

A mode says how the rehearsal ran: ``1proc`` (one process), ``2proc`` (``torch.distributed.run`` with two processes,
gloo on a CPU) or ``kill_resume`` (stopped once mid-run with SIGTERM, resumed, and compared with an uninterrupted
rehearsal). ``<cache>/rehearse/rehearsals.json`` keeps a ``1proc`` entry under the bare hash (the format from before
modes existed, still read as is) and the others under ``HASH:MODE``; a committed row
(``benchmarks/results/rehearsal/rehearsal.json``) without a ``mode`` is a ``1proc`` row.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COMMITTED",
    "MODES",
    "committed_records",
    "config_hash",
    "mode_of",
    "passed_modes",
    "read_records",
    "record_key",
    "records_dir",
    "rehearsed",
    "write_record",
]

MODES = ("1proc", "2proc", "kill_resume")


def config_hash(config: str | Path) -> str:
    """Hash of an experiment's resolved ``paper`` config (a changed config needs a new rehearsal)."""
    from ganlab.core.config import read_yaml, select_scale

    text = yaml.safe_dump(select_scale(read_yaml(config), "paper"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_key(digest: str, mode: str = "1proc") -> str:
    """Where a (hash, mode) record lives in ``rehearsals.json``: the bare hash for ``1proc``, else ``HASH:MODE``."""
    return digest if mode == "1proc" else f"{digest}:{mode}"


def mode_of(key: str, record: dict[str, Any]) -> tuple[str, str]:
    """``(hash, mode)`` of a record stored under ``key`` (an entry of the format before modes is ``1proc``)."""
    digest, _, mode = key.partition(":")
    return record.get("config_hash", digest), record.get("mode", mode or "1proc")


def records_dir(cache_dir: str | Path | None) -> Path:
    from ganlab.core.fileio import cache_root

    return Path(cache_dir) if cache_dir is not None else cache_root() / "rehearse"


def read_records(cache_dir: str | Path | None) -> dict[str, Any]:
    """This machine's records by :func:`record_key` (empty when there are none)."""
    f = records_dir(cache_dir) / "rehearsals.json"
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return {}


# the rehearsals committed with the repository (``benchmarks/results/rehearsal``), found beside the source tree
COMMITTED = Path(__file__).resolve().parents[4] / "benchmarks" / "results" / "rehearsal" / "rehearsal.json"


def committed_records(path: str | Path | None = None, mode: str = "1proc") -> dict[str, Any]:
    """The committed table's rows of ``mode`` by config hash (empty when the file is absent, e.g. an installed
    wheel); a row without a ``mode`` is a one-process row."""
    try:
        rows = json.loads(Path(path or COMMITTED).read_text())["rehearsals"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {
        r["config_hash"]: r
        for r in rows
        if isinstance(r, dict) and "config_hash" in r and r.get("mode", "1proc") == mode
    }


def _record_of(
    config: str | Path, mode: str, cache_dir: str | Path | None, committed: str | Path | None
) -> dict[str, Any]:
    try:
        digest = config_hash(config)
    except Exception:  # an unreadable config was never rehearsed
        return {}
    local = read_records(cache_dir).get(record_key(digest, mode))
    return local if local is not None else committed_records(committed, mode).get(digest, {})


def rehearsed(
    config: str | Path,
    cache_dir: str | Path | None = None,
    committed: str | Path | None = None,
    mode: str = "1proc",
) -> bool:
    """Whether this exact paper config (by hash) has a passed rehearsal of ``mode`` on record: in this machine's
    records under ``cache_dir`` (they win) or in the committed table (``committed``, default :data:`COMMITTED`)."""
    return bool(_record_of(config, mode, cache_dir, committed).get("passed"))


def passed_modes(
    config: str | Path, cache_dir: str | Path | None = None, committed: str | Path | None = None
) -> list[str]:
    """The modes of :data:`MODES` this paper config passed (see :func:`rehearsed`)."""
    return [m for m in MODES if rehearsed(config, cache_dir, committed, m)]


def write_record(result: Any, cache_dir: str | Path | None) -> None:
    """Record a :class:`~ganlab.core.rehearse.Rehearsal` under its (hash, mode), replacing an earlier one."""
    from ganlab.core.fileio import atomic_write_text

    records = read_records(cache_dir)
    records[record_key(result.config_hash, result.mode)] = {
        "experiment": result.key,
        "config_hash": result.config_hash,
        "mode": result.mode,
        "passed": result.passed,
        "status": result.status,
        "wall_s": round(result.wall_s, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "batch": result.batch,
        "phases": result.phases,
        "substituted": result.substituted,
        "error": result.error,
    }
    atomic_write_text(records_dir(cache_dir) / "rehearsals.json", json.dumps(records, indent=2, sort_keys=True))
