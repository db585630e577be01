"""ganlab.gold: Mining GOLD Samples for Conditional GANs (Mo, Kim, Kim, Cho, Shin; NeurIPS 2019).

- :mod:`ganlab.gold.estimator`: the GOLD estimator (eq. 3), its balanced form (eq. 4), the unlabelled forms
  (eq. 8 / 9) and the re-weighting weights (eq. 5), as tensor functions of D's two heads;
- :mod:`ganlab.gold.method`: the ``gold`` training method (semi-supervised ACGAN + example re-weighting);
- :mod:`ganlab.gold.rejection`: GOLD rejection sampling (eq. 6);
- :mod:`ganlab.gold.active`: active learning (query by eq. 8 / 9, rounds that keep G and re-initialise D);
- :mod:`ganlab.gold.scoring`: GOLD of real items and of generated samples; :mod:`ganlab.gold.capacity`: fitting
  capacity; :mod:`ganlab.gold.figures`: the paper's figures; :mod:`ganlab.gold.repro`: the reproductions.
"""

__version__ = "0.1.0"

from ganlab.gold.estimator import (
    ClassHeadError,
    LabelRangeError,
    RunningBalance,
    balance_ratio,
    conditional_term,
    d_heads,
    entropy_term,
    gold_estimator,
    gold_unlabelled,
    sample_weights,
    signed_power,
    weighted_mean,
)
from ganlab.gold.options import GoldOptions
from ganlab.gold.scoring import score_generated, score_real

__all__ = [
    "ClassHeadError",
    "GoldOptions",
    "LabelRangeError",
    "RunningBalance",
    "balance_ratio",
    "conditional_term",
    "d_heads",
    "entropy_term",
    "gold_estimator",
    "gold_unlabelled",
    "sample_weights",
    "score_generated",
    "score_real",
    "signed_power",
    "weighted_mean",
]
