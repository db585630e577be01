"""The schema of a training config (every method trains through it; a method adds ``method.options``), and the
configs shipped with ganlab-core (``ganlab train demo``: a name, or a path to any YAML file)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ganlab.core.evaluation.protocol import SELECTABLE  # metric -> the ``eval.metrics`` entry that produces it

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class DataConfig:
    """Which dataset to train on. ``options`` are passed to the dataset builder (e.g. ``rho`` for colored_mnist)."""

    name: str = "mnist5k"
    root: str | None = None
    split: str = "train"
    resolution: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    num_workers: int = 0


@dataclass
class ModelConfig:
    """A G/D pair from the backbone registry; ``options`` go to its builder (channels, attention, conditioning)."""

    backbone: str = "dcgan"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LossConfig:
    """The adversarial loss; ``class_weight`` > 0 adds ACGAN's auxiliary classifier loss (Odena et al. 2017), its
    weight λ_c: cross-entropy of D's ``cls`` head on real (true labels) and fake (sampled labels) items for D, on
    fake items for G. It needs a class-conditional G and a D with a ``cls`` head."""

    name: Literal["ns", "hinge", "wasserstein"] = "ns"
    class_weight: float = 0.0

    def validate(self) -> None:
        if self.class_weight < 0:
            raise ValueError(f"loss.class_weight must be >= 0, got {self.class_weight}")


@dataclass
class OptimConfig:
    """Adam for G and D (BigGAN/SNGAN convention: separate learning rates, shared betas)."""

    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.9)
    eps: float = 1e-8
    weight_decay: float = 0.0
    n_dis: int = 1
    g_accum: int = 1
    d_accum: int = 1
    lr_decay: Literal["none", "linear"] = "none"
    lr_decay_start: int = 0
    orth_reg: float = 0.0
    # Per-model betas; None uses ``betas`` (e.g. GOLD/Dia-GAN MNIST use one pair, BigGAN one pair per model).
    g_betas: tuple[float, float] | None = None
    d_betas: tuple[float, float] | None = None

    def validate(self) -> None:
        if self.n_dis < 1 or self.g_accum < 1 or self.d_accum < 1:
            raise ValueError("n_dis, g_accum and d_accum must be >= 1")
        if self.g_lr < 0 or self.d_lr < 0:
            raise ValueError("learning rates must be >= 0")


@dataclass
class EMAConfig:
    enabled: bool = False
    decay: float = 0.9999
    start: int = 0


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 64
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 1000
    keep_last: int = 2
    sample_grid: int = 64
    progress: bool = True
    tensorboard: bool = False  # also log to TensorBoard (needs the tensorboard package); JSONL is always written
    log_speed: bool = True  # img/s in every log record (off: metrics.jsonl is a deterministic function of the seed)

    def validate(self) -> None:
        if self.steps < 1:
            raise ValueError(f"train.steps must be >= 1 (G steps to train), got {self.steps}")
        if self.batch_size < 1:
            raise ValueError(f"train.batch_size must be >= 1, got {self.batch_size}")
        for key in ("log_every", "sample_every", "checkpoint_every", "sample_grid"):
            if getattr(self, key) < 0:
                raise ValueError(f"train.{key} must be >= 0 (0 turns it off), got {getattr(self, key)}")
        if self.keep_last < 1:
            raise ValueError(f"train.keep_last must be >= 1 (checkpoints kept), got {self.keep_last}")


@dataclass
class EvalConfig:
    """Metrics computed on the final (and every ``every`` steps, if > 0) generator; ``select_best`` (a metric, e.g.
    ``fid``) keeps the best evaluated generator as ``best_G.pt`` (:mod:`ganlab.core.train.evaluation_schedule`)."""

    metrics: list[str] = field(default_factory=list)
    every: int = 0
    extractor: str = "inception"
    n_fake: int = 10000
    n_real: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    select_best: str | None = None

    def validate(self) -> None:
        if self.every < 0:
            raise ValueError(f"eval.every must be >= 0 (0: only at the end), got {self.every}")
        if self.select_best is not None:
            source = SELECTABLE.get(self.select_best)
            if source is None:
                raise ValueError(f"eval.select_best must be one of {', '.join(SELECTABLE)}, got {self.select_best!r}")
            if source not in self.metrics and not (source == "prdc" and "pr" in self.metrics):
                raise ValueError(f"eval.select_best: {self.select_best} needs {source!r} in eval.metrics")


@dataclass
class MethodConfig:
    """The method (``vanilla``, ``topk``, ``diagan``, ``gold``, ...) and its typed options."""

    name: str = "vanilla"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExperimentConfig:
    name: str = "run"
    out_dir: str = "runs"
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    ema: EMAConfig = field(default_factory=EMAConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    method: MethodConfig = field(default_factory=MethodConfig)


# ------------------------------------------------------------------------------------------- shipped configs
def list_configs() -> list[str]:
    """Names of the configs shipped with ganlab-core (relative to ``ganlab/core/configs``, without ``.yaml``)."""
    return sorted(str(p.relative_to(CONFIG_DIR).with_suffix("")) for p in CONFIG_DIR.rglob("*.yaml"))


def resolve_config(name: str | Path) -> Path:
    """A YAML path as given, or a shipped config by name (``demo``, ``sngan32_cifar``)."""
    from ganlab.core.errors import ConfigError
    from ganlab.core.registry import closest

    path = Path(name)
    if path.is_file():
        return path
    for candidate in (CONFIG_DIR / name, CONFIG_DIR / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    hint = closest(str(name), list_configs())
    msg = f"config {str(name)!r} is neither a file nor a shipped config; shipped: {', '.join(list_configs())}"
    raise ConfigError(msg + (f" (did you mean {hint!r}?)" if hint else ""))


def load_experiment(
    name: str | Path | None, overrides: Sequence[str] = (), scale: str | None = None, base: dict | None = None
) -> ExperimentConfig:
    """An :class:`ExperimentConfig` from a YAML path or shipped config name (or none), a scale and dotted overrides."""
    from ganlab.core.config import load_config

    path = resolve_config(name) if name is not None else None
    return load_config(ExperimentConfig, path, list(overrides), scale if path is not None else None, base=base)
