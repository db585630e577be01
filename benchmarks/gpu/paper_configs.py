"""The paper-scale training configs of every installed experiment, as the core training config each one trains.

Each experiment's YAML is read at scale ``paper`` (``read_yaml`` + ``select_scale``): its ``run:`` section (with
one arm's ``run`` delta merged, as IC-GAN's arms carry the backbone and method: see :func:`pick_arm`), or, for
multi-GAN boosting, the shipped GAN config named by ``gan.config``. The paper's GPU count is read from the
experiment file's header comment ("64 per GPU x 32 GPUs", "8 GPUs"); the configs hold the global batch only, so
that is the one place it is said.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Published train-split sizes, for a GOLD run whose step count follows from epochs when the data is not on disk.
TRAIN_SIZES = {
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "svhn": 73257,
    "stl10": 5000,
    "imagenette2": 9469,
    "imagewoof2": 9025,
}
_GPUS = re.compile(r"(\d+)\s+GPUs\b")


@dataclass
class PaperConfig:
    """One experiment's paper-scale training step: the config and what it takes to reach the paper's step count."""

    key: str  # package/experiment
    ecfg: Any  # ExperimentConfig (None when it could not be built)
    status: str = "ok"  # the experiment's own status at paper scale ("pending: ...")
    gpus: int | None = None  # the paper's GPU count, when the config file says it
    steps: int | None = None  # the paper's G steps (None: the experiment trains nothing, or unknown)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def global_batch(self) -> int:
        return int(self.ecfg.train.batch_size)

    @property
    def batch_per_gpu(self) -> int:
        """The paper's batch per GPU: the global batch over the paper's GPU count, else the config's batch."""
        if self.gpus:
            return max(1, self.global_batch // self.gpus)
        return self.global_batch


def header_gpus(path: Path) -> int | None:
    """The GPU count in the leading comment lines of a YAML file ("... x 32 GPUs"), or None."""
    header = []
    for line in Path(path).read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    m = _GPUS.search(" ".join(header))
    return int(m.group(1)) if m else None


def _gold_steps(ecfg: Any, notes: list[str]) -> int | None:
    """GOLD counts epochs: epochs x ceil(train items / batch), from the data when present, else its published size."""
    epochs = (ecfg.method.options or {}).get("epochs")
    if epochs is None:  # the run config's train.steps is a placeholder the experiment's protocol replaces
        notes.append("step count set by the GOLD protocol, not the run config")
        return None
    from ganlab.gold.method import resolve_steps

    try:
        return int(resolve_steps(copy.deepcopy(ecfg)))
    except Exception:
        pass
    name = Path(ecfg.data.root).name if ecfg.data.root else ecfg.data.name
    n = TRAIN_SIZES.get(name)
    if n is None:
        notes.append("step count unknown (GOLD counts epochs; the data is absent)")
        return None
    notes.append(f"steps from {epochs} epochs of {n} items (data absent: its published train size)")
    try:  # GOLD's own epoch layout (held-out split, short streams repeated) on a labels-only stand-in
        import numpy as np
        import torch

        from ganlab.core.data.base import TensorDataset

        labels = np.arange(n) % 10  # every dataset of TRAIN_SIZES has 10 classes
        stand_in = TensorDataset(name, torch.zeros(n, 1), labels, num_classes=10, identity={"size": n})
        return int(resolve_steps(copy.deepcopy(ecfg), stand_in))
    except Exception:
        return int(epochs) * math.ceil(n / int(ecfg.train.batch_size))


def _registered(backbone: Any) -> bool:
    from ganlab.core.nn.backbones import BACKBONES

    try:
        BACKBONES.get(backbone)
        return True
    except Exception:
        return False


def pick_arm(arms: list[Any]) -> dict[str, Any] | None:
    """The arm to time: the first that trains the paper's method (not a baseline) on a registered backbone, else the
    first on a registered backbone, else the first."""
    runs = [a for a in arms if isinstance(a, dict) and isinstance(a.get("run"), dict)]
    if not runs:
        return None
    ok = [a for a in runs if _registered((a["run"].get("model") or {}).get("backbone", "dcgan"))]
    method = [a for a in ok if "baseline" not in str((a["run"].get("method") or {}).get("name", "vanilla"))]
    return (method or ok or runs)[0]


def paper_config(key: str, exp: Any) -> PaperConfig:
    """The :class:`PaperConfig` of one experiment (an error row, never an exception)."""
    from ganlab.core.config import deep_merge, from_dict, read_yaml, select_scale
    from ganlab.core.train.config import ExperimentConfig, load_experiment

    status = exp.status.get("paper", "ok")
    row = PaperConfig(key=key, ecfg=None, status=status)
    try:
        row.gpus = header_gpus(exp.config)
        data = select_scale(read_yaml(exp.config), "paper")
        gan = data.get("gan")
        if isinstance(gan, dict) and gan.get("config"):
            row.ecfg = load_experiment(gan["config"], list(gan.get("overrides") or []), "paper")
            row.notes.append(f"the GAN of {gan['config']} (one of the experiment's GANs; the classifier is not timed)")
            raw_train = {"steps": row.ecfg.train.steps}
        else:
            raw = copy.deepcopy(data.get("run") or {})
            arm = pick_arm((data.get("experiment") or {}).get("arms") or [])
            if arm is not None:
                raw = deep_merge(raw, arm["run"])
                row.notes.append(f"arm {arm.get('name', '?')!r}")
            raw_train = raw.get("train") or {}
            row.ecfg = from_dict(ExperimentConfig, raw, where=f"{key} run")
        if row.ecfg.method.name == "gold":
            row.steps = _gold_steps(row.ecfg, row.notes)
        elif "steps" in raw_train:
            row.steps = int(row.ecfg.train.steps)
        else:
            row.notes.append("the config sets no training steps (the experiment evaluates a given generator)")
    except Exception as exc:  # one broken config is a row, not a crash
        row.error = f"config: {type(exc).__name__}: {exc}"
    return row


def paper_configs(only: str = "") -> list[PaperConfig]:
    """Every installed experiment with a paper scale (``only``: comma-separated substrings of package/name)."""
    import importlib

    from ganlab.core.repro import all_experiments

    for pkg in ("icgan", "diagan", "gold", "instance_selection", "multigan_boosting"):
        try:  # a package's own backbone presets (IC-GAN's official configs) register when their module is imported
            importlib.import_module(f"ganlab.{pkg}.presets")
        except ImportError:
            pass
    patterns = [p for p in only.split(",") if p]
    rows = []
    for key, exp in all_experiments().items():
        if "paper" not in exp.scales:
            continue
        if patterns and not any(p in key for p in patterns):
            continue
        rows.append(paper_config(key, exp))
    return rows
