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

# Names are imported on first use, so that registering the ``ganlab gold`` commands does not load torch.
from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            [
                "ClassHeadError",
                "LabelRangeError",
                "RunningBalance",
                "balance_ratio",
                "conditional_term",
                "d_heads",
                "entropy_term",
                "gold_estimator",
                "gold_unlabelled",
                "sample_weights",
                "signed_power",
                "weighted_mean",
            ],
            "estimator",
        ),
        "GoldOptions": "options",
        "score_generated": "scoring",
        "score_real": "scoring",
    },
)
