"""Best-checkpoint selection over the trainer's periodic evaluation (``eval.every`` + ``eval.select_best``).

BigGAN-PyTorch's ``--test_every N --which_best FID`` (the official Instance Selection runs) evaluates every N
iterations and keeps the generator with the best FID; the last generator can be much worse when a run collapses
(the low-retention rows of Instance Selection's Table 3). With ``eval.select_best: fid`` the trainer keeps the
G_ema (or G) of the best evaluation so far as ``best_G.pt`` in the run directory (the format of ``G_ema.pt``, read by
``load_generator``) and its record as ``best.json``; ``fit`` reports best and last. Lower is better for FID and KID,
higher for the others, unless ``mode`` says otherwise (the comparison is ``ganlab.core.evaluation.selection.better``,
shared with the reproduction harness's checkpoint rule). On resume the record is kept when it is not newer than the
checkpoint, dropped otherwise (the evaluations after the checkpoint are rerun).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganlab.core.evaluation.selection import LOWER_IS_BETTER, better, metric_value
from ganlab.core.fileio import atomic_write_text
from ganlab.core.train.config import SELECTABLE

__all__ = ["BEST_FILE", "LOWER_IS_BETTER", "SELECTABLE", "BestSelector", "attach_scored_best", "metric_value"]

BEST_FILE = "best_G.pt"
BEST_RECORD = "best.json"


class BestSelector:
    """Keeps the best generator by ``metric`` over the evaluations of one run."""

    def __init__(self, metric: str, run_path: Path, is_main: bool = True, mode: str | None = None) -> None:
        self.metric = metric
        self.mode = mode  # "min" / "max"; None: the metric's usual direction
        self.path = Path(run_path) / BEST_FILE
        self.record_path = Path(run_path) / BEST_RECORD
        self.is_main = is_main
        self.best_step: int | None = None
        self.best_value: float | None = None
        self.last_step: int | None = None
        self.last_value: float | None = None

    @classmethod
    def attach(cls, trainer: Any) -> BestSelector | None:
        """The trainer's selector (None without ``eval.select_best``), restored to the trainer's step."""
        metric = trainer.cfg.eval.select_best
        if not metric:
            return None
        sel = cls(metric, trainer.run_dir.path, trainer.is_main)
        sel.restore(trainer.step)
        return sel

    def restore(self, step: int) -> None:
        if not self.record_path.is_file():
            return
        saved = json.loads(self.record_path.read_text())
        if saved.get("metric") == self.metric and int(saved["best_step"]) <= step and self.path.is_file():
            self.best_step, self.best_value = int(saved["best_step"]), float(saved["best_value"])
        elif self.is_main:  # newer than the checkpoint we resume from, or another metric: start again
            self.record_path.unlink()
            self.path.unlink(missing_ok=True)

    def update(self, trainer: Any, records: list[dict[str, Any]]) -> bool:
        """Note one evaluation; export the generator when it is the best so far. Returns whether it was."""
        value = metric_value(records, self.metric)
        if value is None:
            return False
        self.last_step, self.last_value = int(trainer.step), value
        if not better(value, self.best_value, self.metric, self.mode):
            return False
        self.best_step, self.best_value = int(trainer.step), value
        if self.is_main:
            from ganlab.core.train import checkpoint as ckpt

            ckpt.export_generator(trainer.G_ema, trainer.cfg, trainer.step, self.path)
            rec = {"metric": self.metric, "best_step": self.best_step, "best_value": value, "file": self.path.name}
            atomic_write_text(self.record_path, json.dumps(rec, indent=1))
            trainer.run_dir.log_event({"event": "best", "step": trainer.step, "metric": self.metric, "value": value})
        return True

    def summary(self) -> dict[str, Any]:
        """Best and last evaluation of the run (what ``fit`` returns alongside its own summary)."""
        return {
            "select_best": self.metric,
            "best_step": self.best_step,
            f"best_{self.metric}": self.best_value,
            "last_eval_step": self.last_step,
            f"last_{self.metric}": self.last_value,
            "best_generator": str(self.path) if self.best_step is not None else None,
        }


def attach_scored_best(
    trainer: Any, every: int, score_fn: Any, metric: str = "fid", mode: str | None = None
) -> BestSelector:
    """Keep the best G_ema by ``score_fn(trainer) -> value`` of ``metric``, scored every ``every`` steps after the
    step's EMA update (``method.on_step_end``): for generators whose samples need what the trainer's own evaluation
    cannot draw (e.g. stored instances). The selector becomes ``trainer.best`` (``fit`` reports it); each score is
    logged to ``metrics.jsonl`` as an evaluation record (``step``, ``metric``, ``value``), so a patience rule reads it
    back on resume."""
    if every < 1:
        from ganlab.core.errors import ConfigError

        raise ConfigError(f"a scored best checkpoint needs every >= 1 (steps between evaluations), got {every}")
    sel = BestSelector(metric, trainer.run_dir.path, trainer.is_main, mode)
    sel.restore(trainer.step)  # a resumed run keeps the best of the steps before its checkpoint
    inner = trainer.method.on_step_end

    def on_step_end(run: Any) -> None:
        inner(run)
        if run.is_main and run.step % every == 0:  # the main process scores and exports, as the trainer's evaluation
            g = run.G_ema
            was_training = g.training
            try:
                value = float(score_fn(run))
            finally:
                g.train(was_training)
            rec = {"metric": metric, "value": value}
            run.run_dir.log_metrics({"step": int(run.step), **rec})
            sel.update(run, [rec])

    trainer.method.on_step_end = on_step_end  # this trainer's method only
    trainer.best = sel
    return sel
