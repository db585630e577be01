"""Rehearsals in other processes: under ``torch.distributed.run`` with two processes, and stopped once and resumed.

The config is derived and its stand-ins prepared once, in this process (:func:`ganlab.core.rehearse.rehearse`); the
harness then runs in :mod:`ganlab.core.rehearse_worker` processes:

- ``2proc``: ``python -m torch.distributed.run --nproc_per_node 2`` (gloo on the CPU: ``CUDA_VISIBLE_DEVICES=""``,
  one thread each). It passes when torchrun exits 0, the phases are those of one process (every training reaches its
  planned step, the evaluation ran) and no record was written twice (every file of the run by rank 0, once);
- ``kill_resume``: one process, which pauses after the first step past a checkpoint at or past the middle of a
  training (between two schedule points) and gets SIGTERM there; the run must stop as on Ctrl-C (``failed.json``
  written, ``.lock`` released). Then the same command runs again and resumes (the harness per (arm, seed), the
  training from its checkpoint). It passes when the final state equals an uninterrupted rehearsal's (the
  one-process rehearsal's run folder when it ran the same config, else an uninterrupted run made here): the final
  checkpoint's weights of every training bit-equal, the result records and metrics logs equal but for wall-clock
  fields; and when no ``.lock``, temporary or failure file is left. The differences are named in the error.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ganlab.core.errors import ConfigError, GanlabError
from ganlab.core.rehearse_records import MODES

__all__ = ["compare_states", "final_state", "kill_and_resume", "leftovers", "rehearse_mode", "two_processes"]

# record fields that hold a duration or a rate: they differ between any two runs
WALL_CLOCK = ("wall_s", "img_per_s", "it_per_s", "time", "when", "elapsed", "timestamp")
# the harness's cache key of a saved (arm, seed) result: a hash of the training config, paths under the run folder
# included, so it differs between two run folders whose results are equal
BOOKKEEPING = ("fingerprint",)
# what a finished run must not leave behind
FAILURE_FILES = ("failed.json", "rehearsal_error.txt")


def rehearse_mode(key: str, exp: Any, mode: str = "1proc", **kwargs: Any) -> Any:
    """:func:`ganlab.core.rehearse.rehearse` in ``mode`` (one of :data:`~ganlab.core.rehearse_records.MODES`)."""
    from ganlab.core.rehearse import rehearse

    runners = {"1proc": None, "2proc": two_processes, "kill_resume": kill_and_resume}
    if mode not in MODES:
        raise ConfigError(f"rehearsal mode {mode!r}: choose from {', '.join(MODES)}")
    return rehearse(key, exp, mode=mode, runner=runners[mode], **kwargs)


# ------------------------------------------------------------------------------------------------ processes
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(
    key: str, config_file: Path, run_path: Path, cache: Path, nproc: int, log: str, pause: Path | None = None
) -> subprocess.Popen:
    """The worker (under ``torch.distributed.run`` when ``nproc`` > 1) in its own session, output to ``log``."""
    cmd = [sys.executable]
    env = dict(os.environ)
    if nproc > 1:  # this interpreter's torch, wherever its scripts lie; gloo on the CPU, one thread per process
        cmd += ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", str(_free_port())]
        env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    cmd += ["-m", "ganlab.core.rehearse_worker", str(config_file), key, str(run_path), str(cache)]
    cmd += ["--pause", str(pause)] if pause is not None else []
    with open(run_path.parent / f"{run_path.name}.{log}.log", "w") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen, grace: float = 30.0) -> int:
    """SIGTERM to the process group (torchrun passes it on to its workers), SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def _wait(proc: subprocess.Popen) -> int:
    """Its exit status; stopped when this process is interrupted (the rehearsal's time limit, Ctrl-C)."""
    try:
        return proc.wait()
    except BaseException:
        _stop(proc, grace=10.0)
        raise


def _worker_error(run_path: Path, log: str) -> str:
    """The last line of a worker's traceback, else of its output."""
    for f in sorted(run_path.glob("worker_error_rank*.txt")):
        lines = [x for x in f.read_text().splitlines() if x.strip()]
        if lines:
            return f"{f.stem.split('_')[-1]}: {lines[-1][:300]}"
    out = run_path.parent / f"{run_path.name}.{log}.log"
    lines = [x for x in out.read_text().splitlines() if x.strip()] if out.is_file() else []
    return lines[-1][:300] if lines else "no output"


def _run(key: str, config_file: Path, run_path: Path, cache: Path, nproc: int, log: str) -> None:
    rc = _wait(_launch(key, config_file, run_path, cache, nproc, log))
    if rc != 0:
        raise GanlabError(f"the {nproc}-process run exited with status {rc}: {_worker_error(run_path, log)}")


def _results(run_path: Path) -> list[dict[str, Any]]:
    f = run_path / "results.json"
    return json.loads(f.read_text()) if f.is_file() else []


def _written_twice(run_path: Path) -> list[str]:
    """Lines that appear twice in a ``metrics.jsonl`` of the run (a record every process wrote)."""
    out = []
    for f in sorted(run_path.rglob("metrics.jsonl")):
        lines = [x for x in f.read_text().splitlines() if x.strip()]
        if len(set(lines)) != len(lines):
            out.append(f"{f.relative_to(run_path)} ({len(lines) - len(set(lines))} records written twice)")
    return out


def two_processes(key: str, config_file: Path, run_path: Path, cache: Path) -> tuple[list[dict], dict[str, Any]]:
    """The ``2proc`` runner (see the module docstring)."""
    _run(key, config_file, run_path, cache, 2, "run")
    twice = _written_twice(run_path)
    extra: dict[str, Any] = {"processes": 2}
    if twice:
        extra["error"] = "written by more than one process: " + "; ".join(twice)
    return _results(run_path), extra


# ------------------------------------------------------------------------------------------------ kill and resume
def _wait_for_pause(proc: subprocess.Popen, marker: Path, run_path: Path) -> dict[str, Any]:
    """The pause marker's content once the run has paused; a :class:`GanlabError` when it ended first."""
    try:
        while not marker.is_file():
            if proc.poll() is not None:
                why = "it failed: " + _worker_error(run_path, "killed") if proc.returncode else "no pause point"
                raise GanlabError(
                    "the run ended before it passed a checkpoint past the middle of a training "
                    f"(exit status {proc.returncode}; {why})"
                )
            time.sleep(0.1)
        return json.loads(marker.read_text())
    except BaseException:
        _stop(proc, grace=10.0)
        raise


def _checkpoint_event(run: Path, step: int) -> bool:
    """Whether the training's ``events.jsonl`` shows the checkpoint of ``step`` (written before the pause)."""
    f = run / "events.jsonl"
    events = [json.loads(x) for x in f.read_text().splitlines() if x.strip()] if f.is_file() else []
    return any(e.get("event") == "checkpoint" and e.get("step") == step for e in events)


def _stop_and_check(proc: subprocess.Popen, info: dict[str, Any], run_path: Path) -> dict[str, Any]:
    """SIGTERM to the paused run; what it left (it must stop as on Ctrl-C: failed.json written, lock released)."""
    run = Path(info["run"])
    seen = _checkpoint_event(run, info["checkpoint"])
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        rc = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        _stop(proc, grace=1.0)
        raise GanlabError("the paused run did not stop within 120 s of SIGTERM") from None
    failed = run / "failed.json"
    reason = json.loads(failed.read_text()).get("reason", "") if failed.is_file() else ""
    kill = {
        "training": str(run.relative_to(run_path)),
        "steps": info["steps"],
        "checkpoint": info["checkpoint"],
        "stopped_at": info["step"],
        "exit_status": rc,
        "checkpoint_event": seen,
        "failed_json": reason,
        "lock_left": (run / ".lock").exists(),
    }
    problems = [] if seen else [f"no checkpoint event of step {info['checkpoint']} before the pause"]
    problems += [] if rc != 0 else ["the run exited 0 after SIGTERM"]
    problems += [] if "SIGTERM" in reason else ["no failed.json naming SIGTERM"]
    problems += ["the .lock file stayed after SIGTERM"] if kill["lock_left"] else []
    if problems:
        kill["error"] = "; ".join(problems)
    return kill


def _reference(key: str, config_file: Path, run_path: Path, cache: Path) -> tuple[Path, str]:
    """An uninterrupted rehearsal of the same config: the one-process rehearsal's run folder when it ran this very
    config file and finished, else one run here (the same worker, uninterrupted)."""
    digest = run_path.name.split("-", 1)[0]
    one = run_path.with_name(digest)
    same = (one / "rehearse.yaml").is_file() and (one / "rehearse.yaml").read_text() == config_file.read_text()
    if same and (one / "results.json").is_file() and not leftovers(one):
        return one, "the 1proc rehearsal"
    ref = run_path.with_name(f"{digest}-uninterrupted")
    shutil.rmtree(ref, ignore_errors=True)
    ref.mkdir(parents=True)
    shutil.copy(config_file, ref / config_file.name)
    _run(key, ref / config_file.name, ref, cache, 1, "uninterrupted")
    return ref, "an uninterrupted run"


def kill_and_resume(key: str, config_file: Path, run_path: Path, cache: Path) -> tuple[list[dict], dict[str, Any]]:
    """The ``kill_resume`` runner (see the module docstring)."""
    marker = run_path / "paused.json"
    proc = _launch(key, config_file, run_path, cache, 1, "killed", pause=marker)
    info = _wait_for_pause(proc, marker, run_path)
    kill = _stop_and_check(proc, info, run_path)
    marker.unlink()
    _run(key, config_file, run_path, cache, 1, "resumed")
    ref, which = _reference(key, config_file, run_path, cache)
    differences = compare_states(final_state(ref), final_state(run_path))
    left = leftovers(run_path)
    extra: dict[str, Any] = {"kill": kill, "compared_with": which, "differences": differences, "leftovers": left}
    problems = [kill.pop("error")] if "error" in kill else []
    if differences:
        shown = "; ".join(differences[:5]) + (f"; ... ({len(differences)} in all)" if len(differences) > 5 else "")
        problems.append(f"the resumed state differs from {which}: {shown}")
    if left:
        problems.append("left behind: " + ", ".join(left))
    if problems:
        extra["error"] = " | ".join(problems)
    return _results(run_path), extra


# ------------------------------------------------------------------------------------------------ final state
def _flatten(prefix: str, node: Any, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = node


def _without_wall_clock(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_wall_clock(v) for k, v in node.items() if k not in WALL_CLOCK + BOOKKEEPING}
    if isinstance(node, list):
        return [_without_wall_clock(v) for v in node]
    return node


def _records(f: Path) -> str:
    """A JSON or JSON-lines file without its wall-clock fields, as canonical text (NaN compares equal to NaN)."""
    text = f.read_text()
    rows = [json.loads(x) for x in text.splitlines() if x.strip()] if f.suffix == ".jsonl" else json.loads(text)
    return json.dumps(_without_wall_clock(rows), sort_keys=True)


def final_state(run_path: str | Path) -> dict[str, Any]:
    """What an equal rehearsal must reproduce, by name: every training's last checkpoint (its step, the weights of
    every model and of the EMA) and every result record (``results.json``, the harness's per-pair ``records/``,
    every ``metrics.jsonl``) without wall-clock fields. Events and figures are not part of it."""
    import torch

    run_path = Path(run_path)
    state: dict[str, Any] = {}
    for folder in sorted(run_path.rglob("checkpoints")):
        files = sorted(folder.glob("step_*.pt"))
        if not files:
            continue
        ckpt = torch.load(files[-1], map_location="cpu", weights_only=False)
        where = str(folder.parent.relative_to(run_path))
        state[f"{where}: step"] = int(ckpt["step"])
        _flatten(f"{where}: models", ckpt.get("models", {}), state)
        if isinstance(ckpt.get("ema"), dict):
            _flatten(f"{where}: ema", ckpt["ema"], state)
    names = [run_path / "results.json", *run_path.rglob("records/*.json"), *run_path.rglob("metrics.jsonl")]
    for f in sorted(set(names)):
        if f.is_file():
            state[str(f.relative_to(run_path))] = _records(f)
    return state


def _equal(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        same_kind = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype
        return same_kind and a.shape == b.shape and torch.equal(a, b)
    return type(a) is type(b) and a == b


def compare_states(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The names whose values differ (tensors bit for bit), or that only one state has."""
    out = [f"{k} (only in the first)" for k in a if k not in b]
    out += [f"{k} (only in the second)" for k in b if k not in a]
    return out + [k for k in a if k in b and not _equal(a[k], b[k])]


def leftovers(run_path: str | Path) -> list[str]:
    """A ``.lock``, a temporary file or a failure file under ``run_path`` (a run that ended cleanly has none)."""
    run_path = Path(run_path)
    out = []
    for p in run_path.rglob("*"):
        name = p.name
        bad = name == ".lock" or name in FAILURE_FILES or name.endswith((".tmp", ".part"))
        if bad or (name.startswith("worker_error_rank") and name.endswith(".txt")):
            out.append(str(p.relative_to(run_path)))
    return sorted(out)
