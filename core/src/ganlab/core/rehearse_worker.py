"""One process of a rehearsal run elsewhere (:mod:`ganlab.core.rehearse_modes`), alone or as one of
``torch.distributed.run``'s processes::

    python -m ganlab.core.rehearse_worker CONFIG_FILE EXP RUN_DIR CACHE [--pause MARKER]

It runs experiment ``EXP``'s harness on ``CONFIG_FILE`` (a rehearsal config prepared by the parent, stand-ins
written) into ``RUN_DIR``, with the parent's stand-in weights found under ``CACHE``; rank 0 writes the results. An
error's traceback goes to ``RUN_DIR/worker_error_rank<R>.txt`` and the exit status is 1.

``--pause MARKER``: the first training that passes a checkpoint at or past the middle of its steps stops after the
next step (between two schedule points), writes MARKER (JSON: its pid, step, last checkpoint and run folder) and
waits there until it is stopped (the parent sends SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["main", "pause_after_middle"]


def pause_after_middle(marker: Path) -> None:
    """Make the first training past a middle checkpoint write ``marker`` and wait (see the module docstring)."""
    from ganlab.core.train.trainer import Trainer

    step, paused = Trainer.train_step, []

    def train_step(self: Any) -> None:
        step(self)
        last, total = self._last_ckpt_step(), int(self.cfg.train.steps)
        if not paused and last > 0 and 2 * last >= total and last < self.step < total:
            paused.append(self.step)
            info = {"pid": os.getpid(), "step": self.step, "checkpoint": last, "steps": total}
            tmp = marker.with_name(marker.name + ".part")
            tmp.write_text(json.dumps({**info, "run": str(self.run_dir.path)}))
            tmp.replace(marker)  # the parent sees the whole marker or none
            time.sleep(3600)

    Trainer.train_step = train_step  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config_file", type=Path)
    ap.add_argument("experiment")
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--pause", type=Path, default=None, help="marker written when the run pauses past its middle")
    args = ap.parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    from ganlab.core.rehearse_assets import standins_active
    from ganlab.core.repro import get_experiment
    from ganlab.core.results import RunDir

    if args.pause is not None:
        pause_after_middle(args.pause)
    run_dir = RunDir(args.run_dir)
    try:
        with standins_active(args.cache):
            records = get_experiment(args.experiment).run(args.config_file, "paper", [], run_dir)
            if rank == 0:
                run_dir.write_results(records, title=f"{args.experiment} (rehearsal of the paper scale)")
    except Exception:  # reported by the parent; a SIGTERM (KeyboardInterrupt) is no error here: nothing written
        (args.run_dir / f"worker_error_rank{rank}.txt").write_text(traceback.format_exc())
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
