"""Running a suite: prepare each setting once, then run the cells — one after another here (each through the core
trainer, so through Accelerate on whatever devices there are), side by side in ``workers`` local processes (one
CPU thread each by default: a 2-core machine runs two cells at a time), or one job per training on a SLURM cluster
(or submitit's local executor) — and write the report.

Cells that share a training (same setting, seed and training parts) form one job, so two jobs never write the same
training run. A suite re-run skips finished cells and resumes unfinished trainings from their checkpoints; every
run of the suite on one folder (a session) adds its wall time to ``wall_time.json``, so the summary of a resumed
suite states the total beside the resumed part.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import yaml

from ganlab.benchmarks.cells import Cell, read_cell, run_cell
from ganlab.benchmarks.protocol import SettingContext
from ganlab.benchmarks.sessions import SuiteClock
from ganlab.core.config import to_dict
from ganlab.core.errors import ConfigError
from ganlab.core.fileio import atomic_write_text

__all__ = ["jobs", "run_suite", "status"]

Executor = Literal["local", "submitit-local", "slurm"]


def _contexts(suite: Any, root: Path) -> dict[str, SettingContext]:
    return {s: SettingContext(suite, s, root) for s in suite.settings}


def jobs(suite: Any, root: Path, contexts: dict[str, SettingContext] | None = None) -> list[list[Cell]]:
    """The suite's cells grouped by the training they share, in suite order."""
    contexts = contexts or _contexts(suite, root)
    groups: OrderedDict[tuple[str, str, int], list[Cell]] = OrderedDict()
    for setting, method, seed in suite.cells():
        cell = Cell(suite, setting, method, seed, root, ctx=contexts[setting])
        groups.setdefault((setting, cell.signature(), seed), []).append(cell)
    return list(groups.values())


def check_suite(suite: Any, contexts: dict[str, SettingContext]) -> list[str]:
    """Refuse, before any training, a method that cannot run on a setting's data; returns the not-installed notes."""
    notes = []
    for ctx in contexts.values():
        ctx.dataset  # noqa: B018  (an unknown or missing dataset fails here, naming the closest match)
    for setting, method, _ in suite.cells():
        cell = Cell(suite, setting, method, suite.seeds[0], contexts[setting].dir.parent, ctx=contexts[setting])
        for part in cell.parts.parts:
            why = part.missing()
            if why:
                notes.append(f"{method}: {why}")
                break
            why = part.unfit(contexts[setting].dataset)
            if why:
                raise ConfigError(
                    f"suite {suite.name!r}: method {method!r} cannot run on setting {setting!r}: {why}; list the "
                    "settings it runs on under methods.<name>.settings"
                )
    return sorted(set(notes))


def prune_checkpoints(cells: list[Cell]) -> int:
    """Delete the training checkpoints of a job whose cells are all finished; returns the bytes freed.

    The cells' results, sample sheets, ``G_ema.pt`` exports and instance scores stay. A job with an unfinished or
    failed cell keeps its checkpoints, so a re-run resumes it; a method added to the suite later that shares the
    training trains it again (``--keep-checkpoints`` keeps them for that).
    """
    states = [(read_cell(c.dir) or {}).get("status") for c in cells]
    if any(s not in ("done", "skipped") for s in states):
        return 0
    freed = 0
    for train_dir in {c.train_dir for c in cells}:
        for f in train_dir.glob("**/checkpoints/step_*.pt"):
            freed += f.stat().st_size
            f.unlink()
    return freed


def job_weight(cells: list[Cell]) -> int:
    """A rough cost of a job in trainings: the GANs its ensemble trains (``n_gans``), else 1."""
    ensemble = cells[0].parts.one("ensemble")
    return int(getattr(ensemble.options, "n_gans", 1)) if ensemble is not None else 1


def _run_job(cells: list[Cell], threads: int | None = None, keep_checkpoints: bool = True) -> list[dict[str, Any]]:
    if threads:
        import torch

        torch.set_num_threads(threads)
    records = [run_cell(c) for c in cells]
    if not keep_checkpoints:
        prune_checkpoints(cells)
    return records


def _run_local(
    work: list[list[Cell]], workers: int, progress: bool, name: str, clock: SuiteClock, keep: bool = True
) -> None:
    """Jobs one after another (``workers == 1``) or in a pool of worker processes, with one progress bar."""
    from tqdm.auto import tqdm

    bar = tqdm(total=sum(len(j) for j in work), desc=f"suite {name}", unit="cell", disable=not progress)
    if workers <= 1:
        for job in work:
            for cell in job:
                bar.set_postfix_str(f"{cell.setting}/{cell.method_name}/seed{cell.seed}")
                run_cell(cell)
                bar.update(1)
            if not keep:
                prune_checkpoints(job)
            clock.tick(jobs=1)
    else:
        import multiprocessing as mp
        import os
        from concurrent.futures import ProcessPoolExecutor, as_completed

        threads = max(1, (os.cpu_count() or 1) // workers)
        # the longest jobs first (an ensemble trains several GANs), so the pool does not end on one long job while
        # the other workers idle; the numbers do not depend on the order
        work = sorted(work, key=lambda job: -job_weight(job))
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_run_job, job, threads, keep): job for job in work}
            for fut in as_completed(futures):
                fut.result()  # a cell's own failure is recorded in its cell.json; this raises only on a crash
                job = futures[fut]
                bar.set_postfix_str(f"{job[0].setting}/{job[0].method_name}/seed{job[0].seed}")
                bar.update(len(job))
                clock.tick(jobs=1)
    bar.close()


def run_suite(
    suite: Any,
    root: str | Path,
    executor: Executor = "local",
    progress: bool = True,
    slurm: dict[str, Any] | None = None,
    workers: int = 1,
    keep_checkpoints: bool = False,
) -> Path:
    """Run every cell of ``suite`` into ``root`` (skipping finished ones) and write the report; returns summary.md.

    Training checkpoints are deleted once every cell sharing them has its results, unless ``keep_checkpoints``.
    """
    from ganlab.benchmarks.report import report

    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    root = Path(root)
    t0 = time.perf_counter()
    contexts = _contexts(suite, root)
    notes = check_suite(suite, contexts)  # bad input fails here, before anything is written
    atomic_write_text(root / "suite.yaml", yaml.safe_dump(to_dict(suite), sort_keys=False))
    clock = SuiteClock(root, t0)
    clock.tick()
    for ctx in contexts.values():
        ctx.prepare(progress=progress)
    work = jobs(suite, root, contexts)
    if executor == "local":
        _run_local(work, workers, progress, suite.name, clock, keep_checkpoints)
    else:
        import submitit

        folder = root / "_submitit"
        if executor == "submitit-local":
            ex = submitit.LocalExecutor(folder=str(folder))
            ex.update_parameters(timeout_min=int((slurm or {}).get("timeout_min", 60)))
        else:
            ex = submitit.AutoExecutor(folder=str(folder), cluster="slurm")
            ex.update_parameters(**{"timeout_min": 24 * 60, "gpus_per_node": 1, **(slurm or {})})
        submitted = [ex.submit(_run_job, job, None, keep_checkpoints) for job in work]
        for s in submitted:
            s.result()
            clock.tick(jobs=1)
    for note in notes:
        print(f"note: {note}")
    clock.tick()
    return report(root, suite, wall_s=clock.wall_s)


def status(suite: Any, root: str | Path) -> list[dict[str, Any]]:
    """done / failed / skipped / running / pending for every cell of a suite run."""
    from ganlab.core.fileio import RunLock, RunLockedError

    root = Path(root)
    out = []
    for job in jobs(suite, root):
        for cell in job:
            rec = read_cell(cell.dir)
            state = rec["status"] if rec else "pending"
            if state == "pending" and (cell.train_dir / ".lock").exists():
                try:
                    RunLock(cell.train_dir).check_free()
                except RunLockedError:
                    state = "running"
            out.append({"setting": cell.setting, "method": cell.method_name, "seed": cell.seed, "status": state,
                        "message": (rec or {}).get("message", "")})  # fmt: skip
    return out
