"""The options of the GOLD training method (``method.options`` in a config), of active learning and of a
reproduction's ``experiment`` section, with their validation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ganlab.core.errors import ConfigError


@dataclass
class GoldOptions:
    """Semi-supervised ACGAN training (the official ``train_acgan_semi``) with GOLD re-weighting (eq. 5).

    Defaults are the paper's: lambda_c 0.1, beta 1 on D and 0 on G, re-weighting after half the epochs, the
    unbalanced estimator d of eq. 3, per-sample weights.
    """

    reweight: bool = True  # False: the baseline (loss (1), the official ``acgan_semi`` mode)
    lambda_c: float = 0.1  # weight of D's class loss on generated samples (0.01 / 0 for active learning)
    # G's class loss: "official" = scaled by g_class_weight (1: unscaled, as the official trainer); "paper" = scaled by
    # lambda_c, as eq. 1 writes the class loss G minimises (g_class_weight must then stay 1)
    g_class_loss: Literal["official", "paper"] = "official"
    g_class_weight: float = 1.0
    beta_d: float = 1.0
    beta_g: float = 0.0  # 0: G's loss is not re-weighted (the paper's choice)
    estimator: Literal["gold", "balanced"] = "gold"  # eq. 3 (the paper's choice for re-weighting) or eq. 4
    weighting: Literal["per_sample", "official_batch_mean"] = "per_sample"
    # which forward gives the weights: "shared" = D's outputs of the loss forward itself, detached (train mode, the
    # same batch statistics; no extra cost); "train" = a second no-grad train-mode forward, as the official code (own
    # dropout mask, BN running stats and SN power iteration updated once more); "eval" = a no-grad eval-mode forward
    gold_forward: Literal["shared", "train", "eval"] = "shared"
    log_eps: float = 1e-6  # log(D_C(c|x) + eps) in the weights, as the official gold_score
    fake_class_mask: Literal["official", "all"] = "official"  # official: the fake class loss uses the positions of
    # the batch's labelled *real* items (a subsample under semi-supervision); "all": every generated sample
    epochs: int | None = None  # the paper's unit; train.steps must then be epochs x steps per epoch (resolve_steps)
    start_epoch: int | None = None  # plain epochs before re-weighting; None: epochs // 2 (official)
    per_epoch: int = 10000  # the stream is repeated up to this many items per epoch (official per_epoch)
    transform: Literal["random_crop", "none"] = "random_crop"  # official train transform: resize x1.1, crop back
    # semi-supervision: None = every training item labelled (val set empty, as the official full-label runs)
    num_labelled: int | None = None
    label_fraction: float | None = None
    val_size: int = 100  # class-balanced validation set of a semi-supervised split
    use_unlabelled: bool = True  # the pool feeds the adversarial terms (Figure 6's run: false)
    split_file: str | None = None  # an .npz with labelled / val / pool positions (active-learning rounds)
    holdout: int = 0  # > 0: this many seeded random training items are held out as the real test set
    test_split: str | None = "test"  # the dataset split fitting capacity is tested on (when holdout is 0)
    # evaluation during training (fitting capacity every eval_every epochs; official eval_period 10)
    eval_every: int = 0
    select_best: bool = False  # keep the G/D with the best validation fitting capacity (active learning)
    capacity: dict[str, Any] = field(default_factory=dict)  # classifier protocol overrides (epochs, ...)
    split_seed: int | None = None  # seed of the split and the holdout; None: the run seed (rounds share one)

    def validate(self) -> None:
        for name in ("beta_d", "beta_g"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"method.options.{name} must be >= 0 (eq. 5 uses x^beta), got {v}")
        if self.lambda_c < 0 or self.g_class_weight < 0:
            raise ConfigError("method.options.lambda_c and g_class_weight must be >= 0")
        if self.g_class_loss not in ("official", "paper"):
            raise ConfigError(f"method.options.g_class_loss must be 'official' or 'paper', got {self.g_class_loss!r}")
        if self.g_class_loss == "paper" and self.g_class_weight != 1.0:
            raise ConfigError(
                "method.options.g_class_loss 'paper' scales G's class loss by lambda_c: leave "
                f"g_class_weight at 1 (got {self.g_class_weight})"
            )
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"method.options.epochs must be >= 1 or null, got {self.epochs}")
        if self.start_epoch is not None:
            if self.start_epoch < 0:
                raise ConfigError(f"method.options.start_epoch must be >= 0, got {self.start_epoch}")
            if self.reweight and self.epochs is not None and self.start_epoch >= self.epochs:
                raise ConfigError(
                    f"method.options.start_epoch={self.start_epoch} is at or beyond the last epoch ({self.epochs}): "
                    "re-weighting would never run. Pick a start below epochs (the paper: epochs // 2), or set "
                    "reweight: false for the baseline"
                )
        if self.per_epoch < 1:
            raise ConfigError("method.options.per_epoch must be >= 1")
        if self.num_labelled is not None and self.label_fraction is not None:
            raise ConfigError("set method.options.num_labelled or label_fraction, not both")
        if self.label_fraction is not None and not 0 < self.label_fraction <= 1:
            raise ConfigError(f"method.options.label_fraction must lie in (0, 1], got {self.label_fraction}")
        if self.num_labelled is not None and self.num_labelled < 1:
            raise ConfigError(f"method.options.num_labelled must be >= 1, got {self.num_labelled}")
        if self.val_size < 0 or self.holdout < 0 or self.eval_every < 0:
            raise ConfigError("method.options.val_size, holdout and eval_every must be >= 0")
        if self.select_best and not self.eval_every:
            raise ConfigError("method.options.select_best needs eval_every > 0 (the epochs between evaluations)")
        if self.log_eps < 0:
            raise ConfigError("method.options.log_eps must be >= 0")

    @property
    def g_class_scale(self) -> float:
        """The factor of G's class loss: ``g_class_weight`` (official) or ``lambda_c`` (paper, eq. 1)."""
        return self.lambda_c if self.g_class_loss == "paper" else self.g_class_weight

    @property
    def semi_supervised(self) -> bool:
        return self.num_labelled is not None or self.label_fraction is not None or self.split_file is not None


@dataclass
class ActiveConfig:
    """The acquisition protocol of one active-learning run."""

    sizes: tuple[int, int, int] = (10, 2, 18)  # initial, per-query, final labelled-set sizes
    query: Literal["gold", "gold_balanced", "random"] = "gold"
    epochs: int = 100  # per round
    eval_every: int = 10  # epochs between validation fitting capacities (model selection)
    val_size: int = 100
    reinit: Literal["keep_g", "random"] = "keep_g"
    query_batch_size: int = 1000
    snapshot: int = 0  # > 0: save this many generated samples per round (Figure 3)
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        from ganlab.gold.query import QUERIES

        if self.query not in QUERIES:
            raise ConfigError(f"active.query must be one of {', '.join(QUERIES)}, got {self.query!r}")
        if self.epochs < 1 or self.eval_every < 1:
            raise ConfigError("active.epochs and active.eval_every must be >= 1")
        init, per, final = self.sizes
        if not (init >= 1 and per >= 1 and final > init):
            raise ConfigError(
                f"active.sizes={list(self.sizes)} must be increasing: initial >= 1, per-query >= 1, final > initial "
                "(e.g. [10, 2, 18])"
            )
        if (final - init) % per:
            raise ConfigError(f"active.sizes={list(self.sizes)}: final - initial must be a multiple of per-query")


@dataclass
class ProtocolConfig:
    """What an experiment trains and measures."""

    kind: Literal["reweight", "rejection", "active", "unstable"] = "reweight"
    variants: list[str] = field(default_factory=lambda: ["baseline", "gold"])
    seeds: list[int] = field(default_factory=lambda: [1])
    label_fractions: list[float] = field(default_factory=list)  # Table 2 (empty: the run's own labels)
    ps: list[float] = field(default_factory=lambda: [0.1])  # rejection: p of each GOLD bank
    # rejection statistics: "official" (drs.py: M = exp(max logit), sigma_C = RMS) or "paper" (M = max exp(d_bal),
    # sigma_C = std, §3.2)
    rejection_stats: str = "official"
    n_bank: int = 50000
    n_stats: int = 50000
    rejection_batch: int = 100
    max_batches_per_class: int = 10000
    fid: bool = False  # Table 5 / Figure 6: FID against every real training image
    # the FID feature network: "inception" (the paper's, Appendix B; core's registered extractor; any registered name
    # works) or "lenet_indomain" (a LeNet-32 trained on the real training images, 84-d: the smoke and mini scales)
    fid_extractor: str = "inception"
    fid_extractor_options: dict[str, Any] = field(default_factory=dict)  # e.g. weights_path for inception
    fid_n: int = 10000  # generated samples for the FID of a G (a rejection bank is scored whole)
    fid_every: int = 100  # epochs (Figure 6)
    fid_classifier: dict[str, Any] = field(default_factory=dict)  # training overrides of the FID LeNet
    capacity: dict[str, Any] = field(default_factory=dict)  # fitting-capacity protocol overrides
    share_first_half: bool = True
    # train (or resume) the runs here instead of <run dir>/runs: reuse another experiment's finished runs of the same
    # config (e.g. Table 3's baselines from Figure 1's)
    runs_dir: str | None = None
    figures: list[str] = field(default_factory=list)
    figure_samples: int = 2000
    active: ActiveConfig = field(default_factory=ActiveConfig)

    def validate(self) -> None:
        allowed = {
            "reweight": {"baseline", "gold"},
            "unstable": {"baseline", "gold"},
            "rejection": {"random", "gold"},
            "active": {"gold", "gold_balanced", "random"},
        }[self.kind]
        bad = sorted(set(self.variants) - allowed)
        if bad or not self.variants:
            raise ConfigError(
                f"experiment.variants {bad or '[]'} do not fit kind {self.kind!r}; choose {sorted(allowed)}"
            )
        if not self.seeds:
            raise ConfigError("experiment.seeds must list at least one seed")
        from ganlab.gold.rejection import check_percentile

        for p in self.ps:
            check_percentile(p)
        if self.rejection_stats not in ("official", "paper"):
            raise ConfigError(f"experiment.rejection_stats must be 'official' or 'paper', got {self.rejection_stats!r}")
