"""The schema of a training config (every method trains through it; a method adds ``method.options``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


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
    name: Literal["ns", "hinge", "wasserstein"] = "ns"


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
    tensorboard: bool = True  # also log to TensorBoard when it is installed (JSONL is always written)

    def validate(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError("steps must be >= 0 and batch_size >= 1")


@dataclass
class EvalConfig:
    """Metrics computed on the final (and every ``every`` steps, if > 0) generator."""

    metrics: list[str] = field(default_factory=list)
    every: int = 0
    extractor: str = "inception"
    n_fake: int = 10000
    n_real: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


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
