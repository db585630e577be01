"""ganlab.core.train: the Accelerate training engine, the method hooks and the experiment config schema.

Names are imported on first use, so that ``import ganlab.core.train.config`` stays light.
"""

from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "ExperimentConfig": "config",
        "load_experiment": "config",
        "METHODS": "method",
        "Method": "method",
        "EMA": "ema",
        "Trainer": "trainer",
        "train": "trainer",
        "build_method": "build",
        "TopKMethod": "topk",
        "StyleGAN2Method": "stylegan2_recipe",
    },
)
