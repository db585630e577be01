"""The checkpoint half of the trainer: what a checkpoint holds, writing it (finite, atomically), finding the one to
resume, checking that resuming is safe, and restoring every piece of state from it.

:class:`Checkpointing` is a base class of :class:`~ganlab.core.train.trainer.Trainer`; it reads the trainer's
models, optimisers, EMA, method, streams, log window and RNG, and writes through :mod:`ganlab.core.train.checkpoint`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganlab.core.errors import CheckpointError, TrainingDivergedError
from ganlab.core.train import checkpoint as ckpt
from ganlab.core.train.seeding import rng_state, set_rng_state

__all__ = ["FAILED_FILE", "Checkpointing"]

FAILED_FILE = "failed.json"  # written when training stops on an error; removed when the run is taken up again


class Checkpointing:
    """Checkpoint and resume methods of the trainer (see the module docstring)."""

    @contextlib.contextmanager
    def _undo_on_failure(self) -> Iterator[None]:
        """Set-up after the lock: on an error, release the lock and remove the run directory if this set-up made it
        (a rejected run leaves no trace); an existing one gets its logs back as they were (a resume refused during
        set-up has already cut metrics.jsonl back to its checkpoint's step)."""
        created = not self.run_dir.path.exists()
        logs = (self.run_dir.metrics_path, self.run_dir.events_path)
        before = {p: p.read_bytes() if p.is_file() else None for p in logs} if self.is_main and not created else {}
        try:
            yield
        except BaseException:
            if self.is_main:
                self.run_dir.unlock()
                if created:
                    shutil.rmtree(self.run_dir.path, ignore_errors=True)
                for path, data in before.items():
                    if data is None:
                        path.unlink(missing_ok=True)
                    elif not path.is_file() or path.read_bytes() != data:
                        from ganlab.core.fileio import atomic_write_bytes

                        atomic_write_bytes(path, data)
            raise

    def _mark_failed(self, exc: BaseException) -> None:
        """``failed.json``: why training stopped, at which step, and the last good checkpoint (main process)."""
        if not self.is_main:
            return
        from ganlab.core.fileio import atomic_write_text

        found = self.checkpoints()
        record = {
            "status": "failed",
            "step": self.step,
            "error": type(exc).__name__,
            "reason": str(exc) or type(exc).__name__,
            "last_checkpoint": str(found[-1]) if found else None,
        }
        with contextlib.suppress(OSError):
            atomic_write_text(self.run_dir.path / FAILED_FILE, json.dumps(record, indent=2) + "\n")
            self.run_dir.log_event({"event": "failed", **{k: v for k, v in record.items() if k != "status"}})

    def checkpoints(self) -> list[Path]:
        """This run's checkpoints, oldest first."""
        return ckpt.list_checkpoints(self.run_dir.checkpoints)

    def _gather(self, obj: Any) -> list[Any]:
        if self.world_size == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (this process's RNG and samplers are gathered from all ranks)."""
        from ganlab.core.config import to_dict

        return {
            "format": ckpt.CHECKPOINT_FORMAT,
            "step": self.step,
            "real_seen": self._real_seen,
            "world_size": self.world_size,
            "config": to_dict(self.cfg),
            "method_name": getattr(self.method, "name", type(self.method).__name__),
            "models": {n: self.unwrap(m).state_dict() for n, m in self.models.items()},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "scalers": {n: s.state_dict() for n, s in self.scalers.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "method": self.method.state_dict(),
            "logbook": self.logbook.state_dict(),
            "rng": self._gather(rng_state(self.device)),
            "streams": self._gather(self.streams.state_dict()),
            **({"skeletons": self._skeletons} if getattr(self, "_skeletons", None) else {}),
        }

    def save_checkpoint(self) -> Path:
        """Write ``checkpoints/step_XXXXXXXX.pt`` atomically, after checking every tensor is finite."""
        self._raise_if_diverged()  # never checkpoint weights that a non-finite loss has reached
        state = self.state_dict()  # every rank takes part in the gathers
        try:  # every rank checks (weights are in sync), so all stop together
            ckpt.check_finite_state(state, f"the weights at step {self.step}")
        except TrainingDivergedError as exc:
            raise self._diverged(str(exc), "(found before writing the checkpoint)") from None
        path = self.run_dir.checkpoints / f"step_{self.step:08d}.pt"
        if self.is_main:
            ckpt.write_checkpoint(state, path, self.cfg.train.keep_last)
            self.run_dir.log_event({"event": "checkpoint", "step": self.step, "path": str(path)})
            self.logbook.write_curves()  # metrics.csv and losses.png as of this checkpoint
        self.accelerator.wait_for_everyone()
        self._last_ckpt = path
        return path

    def resume_command(self, *extra: str) -> str:
        """The command line that continues this run (error messages suggest it; tests parse it)."""
        import shlex

        run = self.run_dir.path
        return shlex.join(["ganlab", "train", str(run / "config.yaml"), "--run-dir", str(run), "--resume", *extra])

    def _find_resume(self, resume: bool | str | Path) -> Path | None:
        found = self.checkpoints()
        if resume is False or resume is None:
            if found:
                raise CheckpointError(
                    f"{self.run_dir.path} already holds a run (checkpoints up to step {ckpt.step_of(found[-1])}); "
                    f"continue it with `{self.resume_command()}` (in Python: Trainer(..., resume=True)), or choose "
                    "another run directory (--run-dir)"
                )
            return None
        if resume == "auto":
            return found[-1] if found else None
        if resume is True:
            if not found:
                raise CheckpointError(
                    f"nothing to resume: {self.run_dir.path} holds no checkpoint (checkpoints/step_*.pt); start the "
                    "run without --resume, or point --run-dir at the run to continue"
                )
            return found[-1]
        return Path(resume)

    def _check_resume(self, state: dict[str, Any] | None, path: Path | None, allow: bool) -> list[str]:
        if state is None:
            return []
        safe, refused = ckpt.resume_changes(state["config"], self.cfg)
        if refused and not allow:
            raise CheckpointError(
                f"refusing to resume from {path}: it was written with a different config:\n  "
                + "\n  ".join(refused)
                + "\nResume with the same config, or pass --allow-config-change (allow_config_change=True). "
                "Changes allowed without it: logging, sampling, checkpointing and evaluation settings, and more "
                "train.steps when optim.lr_decay is none."
            )
        return safe + refused

    def _load_training_state(self, state: dict[str, Any], names: tuple[str, ...], ema: bool = True) -> None:
        for name in names:
            if name not in state["models"]:
                raise CheckpointError(f"the checkpoint holds no model {name!r} (it has: {', '.join(state['models'])})")
            try:
                self.unwrap(self.models[name]).load_state_dict(state["models"][name], strict=True)
                self.optimizers[name].load_state_dict(state["optimizers"][name])
                if name in state.get("scalers", {}):
                    self.scalers[name].load_state_dict(state["scalers"][name])
            except (RuntimeError, KeyError, ValueError) as exc:
                raise CheckpointError(
                    f"the checkpoint's {name!r} does not fit this model ({exc}); was it written with another backbone?"
                ) from None
        if ema and self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        elif ema and self.ema is not None:
            self.ema.update(self.unwrap(self.G), -1)  # no average saved: start it from the loaded G
        self.step = int(state["step"])

    def _resume(self, state: dict[str, Any], path: Path) -> None:
        self._load_training_state(state, names=tuple(self.models), ema=True)
        self._real_seen = int(state.get("real_seen", 0))
        self.logbook.load_state_dict(state.get("logbook", {}))
        self.guard.checked_step = self.step
        self.method.load_state_dict(state.get("method", {}))
        self.method.on_resume(self)
        same_world = int(state.get("world_size", 1)) == self.world_size
        if not same_world:
            warnings.warn(
                f"resuming a {state.get('world_size')}-process run on {self.world_size} processes: sampler positions "
                "carry over, RNG streams are re-derived, so the run is not bit-identical",
                stacklevel=2,
            )
        self.streams.load_state_dict(state["streams"][self.rank if same_world else 0])
        if same_world:
            set_rng_state(state["rng"][self.rank], self.device)
        self._last_ckpt = path
        if self.is_main:
            self.run_dir.log_event(
                {"event": "resume", "step": self.step, "path": str(path), "config_diff": self._config_diff}
            )

    def export_generator(self, path: str | Path | None = None) -> Path:
        """A small file with G_ema's (or G's) weights and the config (the whole module for your own models)."""
        path = Path(path) if path else self.run_dir.path / "G_ema.pt"
        if self.is_main:
            ckpt.export_generator(self.G_ema, self.cfg, self.step, path)
        return path
