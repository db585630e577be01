"""Trainer checkpoints and generator exports: reading, writing, finding, checking, and rebuilding models from them.

A checkpoint (``<run>/checkpoints/step_XXXXXXXX.pt``) holds everything an exact resume needs (see
:meth:`ganlab.core.train.trainer.Trainer.state_dict`); ``<run>/G_ema.pt`` is a small export of the averaged
generator for sampling and evaluation. Both the trainer and the CLIs go through this module, and every file is
checked to be finite before it is written and when it is loaded for sampling: a checkpoint called good is finite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab.core.errors import CheckpointError, TrainingDivergedError
from ganlab.core.fileio import atomic_save

CHECKPOINT_FORMAT = "ganlab-trainer/1"
EXPORT_FORMAT = "ganlab-generator/1"
CUSTOM_BACKBONE = "custom"  # model.backbone of a run trained on a user's own modules

# Config keys that do not change the trajectory of training: a resumed run may change them freely.
RESUME_SAFE_KEYS = (
    "name",
    "out_dir",
    "data.root",
    "data.num_workers",
    "train.log_every",
    "train.log_speed",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_last",
    "train.sample_grid",
    "train.progress",
    "train.tensorboard",
    "eval",
)
# Safe only under a condition (checked by resume_changes): more steps, when no LR schedule depends on the total.
CONDITIONAL_KEYS = {"train.steps": "a larger train.steps with optim.lr_decay: none (extends the run)"}


# -------------------------------------------------------------------------------------------------- locating
def step_of(path: str | Path) -> int:
    """The step in a ``step_XXXXXXXX.pt`` file name (-1 for other names)."""
    m = re.search(r"step_(\d+)\.pt$", str(path))
    return int(m.group(1)) if m else -1


def list_checkpoints(folder: str | Path) -> list[Path]:
    """The ``step_*.pt`` files of a checkpoint folder, oldest first."""
    folder = Path(folder)
    return sorted(folder.glob("step_*.pt"), key=step_of) if folder.is_dir() else []


def latest_checkpoint(path: str | Path) -> Path:
    """``path`` if it is a file, else the newest ``checkpoints/step_*.pt`` of a run directory."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; pass a run directory that has trained, or a checkpoint file")
    found = list_checkpoints(path / "checkpoints")
    if not found:
        raise CheckpointError(f"no checkpoint in {path}/checkpoints; pass a run directory that has trained")
    return found[-1]


# ---------------------------------------------------------------------------------------------- finiteness
def _tensors(obj: Any, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Every floating-point tensor inside nested dicts/lists, with a dotted name."""
    if torch.is_tensor(obj):
        if obj.is_floating_point() or obj.is_complex():
            yield prefix, obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _tensors(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{prefix}.{i}" if prefix else str(i))


def nonfinite_tensors(*objects: Any, names: Iterable[str] | None = None) -> list[str]:
    """Names of the tensors holding NaN or inf in ``objects`` (state dicts, optimiser states, nested containers).

    One fused L2-norm pass per device and dtype (``torch._foreach_norm``: a non-finite entry makes the norm
    non-finite) and one host sync in all; a norm that overflowed although every entry is finite (|x| > ~1e19 in
    float32) is told apart by an exact ``isfinite`` of that tensor alone. Cheap for every parameter, buffer, EMA
    tensor and optimiser moment of a large model (``benchmarks/speed/bench_checkpoint.py``).
    """
    labels = list(names) if names is not None else [f"#{i}" for i in range(len(objects))]
    groups: dict[tuple[torch.device, torch.dtype], list[tuple[str, torch.Tensor]]] = {}
    for label, obj in zip(labels, objects):
        for name, t in _tensors(obj, label):
            if t.numel():
                groups.setdefault((t.device, t.dtype), []).append((name, t.detach()))
    bad: list[str] = []
    for items in groups.values():
        norms = torch._foreach_norm([t for _, t in items])
        finite = torch.stack([n.float() for n in norms]).isfinite().cpu()
        if not bool(finite.all()):
            suspects = [(name, t) for (name, t), ok in zip(items, finite.tolist()) if not ok]
            bad.extend(name for name, t in suspects if not bool(torch.isfinite(t).all()))
    return bad


def _describe(bad: list[str], limit: int = 4) -> str:
    shown = ", ".join(bad[:limit])
    return shown + (f" and {len(bad) - limit} more" if len(bad) > limit else "")


def check_finite_state(state: Mapping[str, Any], where: str) -> None:
    """Raise :class:`TrainingDivergedError` if a checkpoint state holds a non-finite tensor: a parameter or buffer
    of any model, the EMA copy, or an optimiser moment (a method's own state may hold NaN on purpose)."""
    parts = {k: state[k] for k in ("models", "ema", "optimizers") if state.get(k) is not None}
    bad = nonfinite_tensors(*parts.values(), names=parts.keys())
    if bad:
        raise TrainingDivergedError(f"{where}: non-finite values in {len(bad)} tensors ({_describe(bad)})")


# -------------------------------------------------------------------------------------------- read / write
def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A trainer checkpoint as a dict; a clear :class:`CheckpointError` for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    state = _torch_load(path, "checkpoint")
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a ganlab trainer checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def write_checkpoint(state: dict[str, Any], path: str | Path, keep_last: int) -> Path:
    """Check ``state`` is finite, write it atomically, and delete all but the newest ``keep_last`` checkpoints."""
    path = Path(path)
    check_finite_state(state, f"refusing to write checkpoint {path.name}")
    atomic_save(state, path)
    for old in list_checkpoints(path.parent)[: -max(1, keep_last)]:
        old.unlink(missing_ok=True)
    return path


def resume_changes(saved: Any, current: Any) -> tuple[list[str], list[str]]:
    """(safe, refused) differences between a checkpoint's config and the config of the run resuming it."""
    from ganlab.core.config import config_diff, to_dict

    safe, refused = [], []
    now = to_dict(current)
    for d in config_diff(saved, current):
        key = d.split(":", 1)[0]
        if any(key == k or key.startswith(k + ".") for k in RESUME_SAFE_KEYS):
            safe.append(d)
        elif (
            key == "train.steps"
            and now["optim"]["lr_decay"] == "none"
            and saved["train"]["steps"] <= now["train"]["steps"]
        ):
            safe.append(d)
        else:
            refused.append(d)
    return safe, refused


# ------------------------------------------------------------------------------------------ models from files
def _build(cfg: Any, state: dict[str, Any] | None = None) -> tuple[nn.Module, nn.Module]:
    """(G, D) before loading weights: from the backbone registry, or from the records of a run on your own modules
    (or the checkpoint's skeletons of modules that have no usable record)."""
    from ganlab.core.nn import build_backbone

    if cfg.model.backbone == CUSTOM_BACKBONE:
        from ganlab.core.train.model_record import build_recorded

        return build_recorded(dict(cfg.model.options), (state or {}).get("skeletons"))
    return build_backbone(cfg.model.backbone, **cfg.model.options)


def _torch_load(path: Path, what: str) -> Any:
    """``torch.load`` with a clear error: a class that cannot be imported here is told apart from a corrupt file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise CheckpointError(
            f"{path} stores an object of a class this Python cannot import ({type(exc).__name__}: {exc}); the file "
            "is fine: put the folder holding that module on PYTHONPATH (or install it) and try again"
        ) from None
    except Exception as exc:
        raise CheckpointError(
            f"cannot read {what} {path} ({type(exc).__name__}: {exc}); the file is corrupt or not a {what}"
        ) from None


def _refuse_nonfinite(module: nn.Module, path: Path, what: str) -> None:
    bad = nonfinite_tensors(module.state_dict(), names=[what])
    if bad:
        raise CheckpointError(
            f"{path} holds non-finite weights ({_describe(bad)}): the run diverged before it was written. Use an "
            "earlier checkpoint."
        )


def load_models(
    checkpoint: str | Path, device: torch.device | str = "cpu", ema: bool = True, critic: str = "D"
) -> tuple[nn.Module, nn.Module | None, Any, dict[str, Any]]:
    """Rebuild (G, critic, config, checkpoint) from a checkpoint; G is G_ema when saved and ``ema`` (else the live G
    of that checkpoint); eval mode. A run on your own modules is rebuilt from its records
    (:mod:`ganlab.core.train.model_record`).

    ``critic`` names the checkpoint model returned second (``"D"``, an auxiliary ``"aux_d"``, or a name that is
    absent for none). Non-finite weights are refused.
    """
    from ganlab.core.config import from_dict
    from ganlab.core.train.config import ExperimentConfig

    path = Path(checkpoint)
    state = read_checkpoint(path)
    cfg = from_dict(ExperimentConfig, state["config"])
    G, D = _build(cfg, state)
    g_state = state["ema"]["model"] if ema and state.get("ema") else state["models"]["G"]
    G.load_state_dict(g_state)
    _refuse_nonfinite(G, path, "G_ema" if ema and state.get("ema") else "G")
    critic_model = None
    if critic in state["models"]:
        D.load_state_dict(state["models"][critic])
        _refuse_nonfinite(D, path, critic)
        critic_model = D.to(device).eval()
    return G.to(device).eval(), critic_model, cfg, state


def export_generator(G: nn.Module, cfg: Any, step: int, path: str | Path) -> Path:
    """Write ``G`` (G_ema) for sampling: its weights and config (enough to rebuild it: a backbone, or the records of
    your own modules), or the whole pickled module when your G cannot be rebuilt from its record."""
    from ganlab.core.config import to_dict

    path = Path(path)
    state: dict[str, Any] = {"format": EXPORT_FORMAT, "config": to_dict(cfg), "step": int(step)}
    record = cfg.model.options.get("G") if cfg.model.backbone == CUSTOM_BACKBONE else None
    if cfg.model.backbone == CUSTOM_BACKBONE and (not isinstance(record, dict) or record.get("rebuildable") is False):
        state["module"] = G
    else:
        state["G"] = G.state_dict()
    bad = nonfinite_tensors(G.state_dict(), names=["G"])
    if bad:
        raise TrainingDivergedError(f"refusing to export {path.name}: non-finite weights ({_describe(bad)})")
    atomic_save(state, path)
    return path


def load_generator(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """G (eval mode) from an export (``G_ema.pt``), a trainer checkpoint, a run directory or a saved module."""
    from ganlab.core.config import from_dict
    from ganlab.core.train.config import ExperimentConfig

    path = Path(path)
    if path.is_dir():
        export = path / "G_ema.pt"
        path = export if export.is_file() else latest_checkpoint(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; pass a G_ema.pt, a checkpoint or a run directory")
    state = _torch_load(path, "generator file")
    info: dict[str, Any] = {"checkpoint": str(path)}
    if isinstance(state, nn.Module):
        G = state
    elif isinstance(state, dict) and "module" in state:
        G, info["step"] = state["module"], state.get("step")
    elif isinstance(state, dict) and "G" in state and "config" in state:
        cfg = from_dict(ExperimentConfig, state["config"])
        G, _ = _build(cfg)
        G.load_state_dict(state["G"])
        info.update(step=state.get("step"), config=cfg)
    elif isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        G, _, cfg, st = load_models(path, device=device, critic="__none__")
        return G, {**info, "step": st.get("step"), "config": cfg}
    else:
        raise CheckpointError(f"{path} is neither a generator export (G_ema.pt), a trainer checkpoint nor a module")
    _refuse_nonfinite(G, path, "G")
    return G.to(device).eval(), info
