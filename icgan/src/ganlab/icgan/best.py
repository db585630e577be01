"""``checkpoint: best``: keep the generator with the best training FID, as the official IC-GAN runs do (early
stopping on the training-time FID, the best checkpoint reported), instead of the last G_ema at the step cap.

Core's :class:`~ganlab.core.train.evaluation_schedule.BestSelector` keeps the best G_ema (``best_G.pt``); the
trainer's own ``eval.select_best`` cannot drive it for IC-GAN, whose samples need conditionings (the trainer's
evaluation draws unconditioned samples), so the score comes from a callback run every ``every`` steps after the
step's EMA update. The official early stopping also ends training after 50 evaluations without improvement; here
training runs to the step cap and the best evaluation is kept, which reports the same generator whenever the FID
does not improve again after such a plateau.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganlab.core.train.evaluation_schedule import BestSelector

ScoreFn = Callable[[Any], float]  # trainer -> training FID of its current G_ema


def attach_best(trainer: Any, every: int, score_fn: ScoreFn, metric: str = "fid") -> BestSelector:
    """Score the trainer's G_ema every ``every`` steps and keep the best one; returns the selector."""
    if every < 1:
        from ganlab.core.errors import ConfigError

        raise ConfigError(f"checkpoint: best needs best_every >= 1 (steps between evaluations), got {every}")
    sel = BestSelector(metric, trainer.run_dir.path, trainer.is_main)
    sel.restore(trainer.step)  # a resumed run keeps the best of the steps before its checkpoint
    inner = trainer.method.on_step_end

    def on_step_end(run: Any) -> None:
        inner(run)
        if run.is_main and run.step % every == 0:  # the main process scores and exports, as core's evaluation
            g = run.G_ema
            was_training = g.training
            try:
                value = float(score_fn(run))
            finally:
                g.train(was_training)
            sel.update(run, [{"metric": metric, "value": value}])

    trainer.method.on_step_end = on_step_end  # this trainer's method only
    return sel


def best_generator(sel: BestSelector, device: Any) -> tuple[Any, dict[str, Any]] | tuple[None, None]:
    """The kept generator and its record (None, None when nothing was evaluated)."""
    if sel.best_step is None:
        return None, None
    from ganlab.core.train.checkpoint import load_generator

    G, _ = load_generator(sel.path, device=device)
    info = {
        "best_step": int(sel.best_step),
        f"best_{sel.metric}_train": float(sel.best_value),
        "last_eval_step": sel.last_step,
        f"last_{sel.metric}_train": sel.last_value,
    }
    return G, info
