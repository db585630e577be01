"""What is Dia-GAN's own in an experiment config (the ``experiment:`` section): variants, majority ratios and the
analyses; the image metrics are the ``protocol:`` section's (core's EvalProtocol)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ganlab.core.errors import ConfigError

VARIANTS = ("vanilla", "drs", "diagan", "diagan_nodrs")
ANALYSES = ("partial_recall", "ldrv", "occurrence", "re")


@dataclass
class DiaOptions:
    """What is Dia-GAN's own in an experiment (the image metrics are the protocol's)."""

    kind: Literal["gaussians", "minority", "image", "attributes"] = "gaussians"
    variants: list[str] = field(default_factory=lambda: ["vanilla", "diagan"])
    rhos: list[float] = field(default_factory=list)  # majority ratios (one run each); empty: the dataset's own
    metrics: list[str] = field(default_factory=list)  # the analyses (ANALYSES)
    n_real: int | None = None  # real images per group for partial recall (None: all)
    min_count: int = 20  # a Gaussian mode is "covered" with at least this many high-quality samples
    cae_samples: int = 50000
    cae_epochs: int = 50
    cae_nf: int = 64
    attributes: list[str] = field(default_factory=list)  # Table 6 (CelebA attribute names; "group" = the groups)
    classifier_arch: str = "resnet20"
    classifier_epochs: int = 10
    classifier_train: int = 50000
    drs_batch_size: int = 256
    drs_burn_in: int = 50
    record_vanilla: bool = True
    # "phase1": the vanilla run records the Dia-GAN window [p1 - |T| x 100, p1) (the official phase-1 script, whose
    # run continued to the end is the vanilla baseline); "end": the last window before the end (Figure 2)
    vanilla_window: Literal["phase1", "end"] = "phase1"
    # Dia-GAN's phase 2 starts from the vanilla run's checkpoint at phase1_steps (init_from), as the official
    # phase-2 script loads the phase-1 checkpoint
    share_phase1: bool = True
    save_samples: int = 64

    def validate(self) -> None:
        bad = [v for v in self.variants if v not in VARIANTS]
        if bad:
            raise ConfigError(f"unknown variants {bad}; choose from {', '.join(VARIANTS)}")
        bad = [m for m in self.metrics if m not in ANALYSES]
        if bad:
            raise ConfigError(f"experiment.metrics {bad}: the analyses are {', '.join(ANALYSES)} (FID etc.: protocol)")
