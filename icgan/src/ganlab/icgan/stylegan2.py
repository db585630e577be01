"""The ``icgan_stylegan2`` method: IC-GAN's conditioning on StyleGAN2 with StyleGAN2's training recipe.

IC-GAN's COCO-Stuff StyleGAN2 runs condition the StyleGAN2-ADA networks on the instance feature: G embeds it and
concatenates it to z at the mapping input, D maps it to ``cmap`` and scores by projection (core's StyleGAN2 with
``feat_dim``, e.g. the ``icgan_stylegan2_coco128`` preset). This method combines

* IC-GAN's data side (:class:`~ganlab.icgan.method.ICGAN`): instance features, neighbourhoods, D's real image drawn
  from the conditioning instance's neighbourhood, G's conditionings drawn independently, hflips, feature
  augmentation;
* StyleGAN2's recipe (:class:`~ganlab.core.train.stylegan2_recipe.StyleGAN2Method`): non-saturating logistic
  loss, lazy R1 and path length, style mixing, the kimg EMA, and its ``augment`` option (DiffAugment / ADA), which
  replaces IC-GAN's own DiffAugment (``diffaugment`` is here the StyleGAN2 option's policy).

The plain ``icgan`` method also trains such a StyleGAN2 pair (the networks take ``feat`` like BigGAN's), without the
StyleGAN2 recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ganlab.core.train.method import METHODS, Batch
from ganlab.core.train.stylegan2_recipe import StyleGAN2Method, StyleGAN2Options
from ganlab.icgan.method import ICGAN, ICGANOptions

__all__ = ["ICGANStyleGAN2", "ICGANStyleGAN2Options"]


@dataclass
class ICGANStyleGAN2Options(StyleGAN2Options, ICGANOptions):
    """IC-GAN's options and StyleGAN2's; ``diffaugment`` is StyleGAN2's policy, used when ``augment: diffaugment``."""

    def validate(self) -> None:
        # IC-GAN's own check would limit diffaugment to its "translation"; the StyleGAN2 options check the policy
        policy, self.diffaugment = self.diffaugment, ""
        try:
            ICGANOptions.validate(self)
        finally:
            self.diffaugment = policy


@METHODS.register("icgan_stylegan2")
class ICGANStyleGAN2(StyleGAN2Method, ICGAN):
    """IC-GAN on StyleGAN2 (see the module docstring); G and D must be an instance-conditioned StyleGAN2 pair."""

    name = "icgan_stylegan2"
    Options = ICGANStyleGAN2Options

    def __init__(self, options: Any = None, features=None, neighbourhoods=None) -> None:
        StyleGAN2Method.__init__(self, options)  # runs ICGAN.__init__ through the MRO, without features
        self.features, self.neighbourhoods = features, neighbourhoods

    def setup(self, run) -> None:
        ICGAN.setup(self, run)
        StyleGAN2Method.setup(self, run)

    def conditions(self, run, n: int, real: Batch | None = None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """IC-GAN's conditionings for G: instance features (and the neighbour's label, class-conditional)."""
        draw = self.draws.fake(n)
        feat = self.conditioning(draw.instance_idx, draw.feat_flip, run.device)
        y = torch.from_numpy(draw.labels).to(run.device) if self.class_conditional else None
        return y, feat

    def d_forward(self, run, batch: Batch, module=None) -> dict[str, torch.Tensor]:
        d = module if module is not None else run.D
        x = self.augment(batch["image"]) if self.options.augment and self.augment_enabled else batch["image"]
        return d(x, y=batch.get("label") if self.class_conditional else None, feat=batch["cond"])

    def state_dict(self) -> dict[str, Any]:
        return {**StyleGAN2Method.state_dict(self), "icgan": ICGAN.state_dict(self)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        StyleGAN2Method.load_state_dict(self, state)
        ICGAN.load_state_dict(self, state.get("icgan", {}))
