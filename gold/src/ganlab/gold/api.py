"""The Python API around the trainer: train a gold run from a config, load a finished run's G and D."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ganlab.core.errors import CheckpointError, ConfigError
from ganlab.core.train.config import ExperimentConfig

__all__ = ["config_path", "load_run", "train"]

CONFIGS = Path(__file__).parent / "configs"


def config_path(name: str | Path) -> Path:
    """A config file, or the name of one shipped with the package (``table1_mnist`` -> configs/table1_mnist.yaml)."""
    p = Path(name)
    if p.is_file():
        return p
    shipped = CONFIGS / (p.name if p.suffix in (".yaml", ".yml") else f"{p.name}.yaml")
    if shipped.is_file():
        return shipped
    raise ConfigError(f"config {str(name)!r} is neither a file nor a shipped config ({', '.join(_shipped())})")


def _shipped() -> list[str]:
    return sorted(p.stem for p in CONFIGS.glob("*.yaml") if not p.stem.startswith("_"))


def train(
    cfg: ExperimentConfig | str | Path,
    overrides: Sequence[str] = (),
    *,
    scale: str | None = None,
    resume: bool = False,
    dataset: Any = None,
    models: Any = None,
    allow_config_change: bool = False,
    run_dir: str | Path | None = None,
):
    """Train the ``gold`` method (``train.steps`` set from ``method.options.epochs``); returns the fitted Trainer.

    ``cfg``: an ExperimentConfig, or a YAML path (a core training config, or a reproduction config whose ``run``
    section is used). ``dataset`` / ``models`` / ``run_dir`` are passed to the trainer (a user's own data and G/D; the
    run folder, default ``<out_dir>/<name>``).
    """
    from ganlab.core.config import load_config, read_yaml
    from ganlab.core.train.trainer import Trainer
    from ganlab.gold.method import resolve_steps

    if not isinstance(cfg, ExperimentConfig):
        path = config_path(cfg)
        if "run" in read_yaml(path):
            from ganlab.gold.repro import load_repro_config

            cfg = load_repro_config(path, scale, [f"run.{o}" for o in overrides]).run
        else:
            cfg = load_config(ExperimentConfig, path, overrides, scale=scale, base={"method": {"name": "gold"}})
    if cfg.method.name != "gold":
        raise ConfigError(f"ganlab.gold.train trains the gold method, but the config says {cfg.method.name!r}")
    from ganlab.core.config import from_dict
    from ganlab.core.data import get_dataset
    from ganlab.core.nn import build_backbone
    from ganlab.gold.method import check_inputs
    from ganlab.gold.options import GoldOptions

    opts = from_dict(GoldOptions, dict(cfg.method.options), where="method.options")
    d = cfg.data
    if dataset is None:
        dataset = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    # every input check before the trainer creates the run directory: a rejected input writes nothing
    probe = models() if callable(models) else models
    G, D = probe if probe is not None else build_backbone(cfg.model.backbone, **cfg.model.options)
    check_inputs(cfg, dataset, G, D, opts)
    cfg.train.steps = resolve_steps(cfg, dataset)
    trainer = Trainer(
        cfg, run_dir=run_dir, resume=resume, dataset=dataset, models=models, allow_config_change=allow_config_change
    )
    trainer.fit()
    return trainer


def load_run(run: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, torch.nn.Module, Any]:
    """``(G, D, config)`` of a run directory from its latest checkpoint, both in eval mode."""
    from ganlab.core.config import from_dict, read_yaml
    from ganlab.core.train.checkpoint import list_checkpoints, load_models

    run = Path(run)
    if not (run / "config.yaml").is_file():
        raise CheckpointError(f"{run} is not a run directory (no config.yaml)")
    cfg = from_dict(ExperimentConfig, read_yaml(run / "config.yaml"))
    ckpts = list_checkpoints(run / "checkpoints")
    if not ckpts:
        raise CheckpointError(f"{run} has no checkpoint (checkpoints/step_*.pt)")
    # core rebuilds a backbone or a run's own modules; GOLD uses the live G (ema=False), as before
    G, D, _, _ = load_models(ckpts[-1], device=device, ema=False, critic="D")
    return G, D, cfg
