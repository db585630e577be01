"""The ``diagan_stylegan2`` method: Dia-GAN (LDR diagnosis, score-weighted sampling, auxiliary D) on StyleGAN2 with
StyleGAN2's training recipe, as Table 3's FFHQ run trains it (the community PyTorch port: logistic loss, lazy R1
gamma 10 every 16 D steps, lazy path length weight 2 every 4 G steps, style mixing 0.9, G EMA).

Each hook runs both parts: the recipe's (:class:`~ganlab.core.train.stylegan2_recipe.StyleGAN2Method`) and
Dia-GAN's (:class:`~ganlab.diagan.method.DiaGAN`). The LDR records score the images without augmentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganlab.core.train.method import METHODS, Batch
from ganlab.core.train.stylegan2_recipe import StyleGAN2Method, StyleGAN2Options
from ganlab.diagan.method import DiaGAN, DiaGANOptions

__all__ = ["DiaStyleGAN2", "DiaStyleGAN2Options"]


@dataclass
class DiaStyleGAN2Options(StyleGAN2Options, DiaGANOptions):
    """Dia-GAN's options and the StyleGAN2 recipe's."""


@METHODS.register("diagan_stylegan2")
class DiaStyleGAN2(StyleGAN2Method, DiaGAN):
    """Dia-GAN with the StyleGAN2 recipe (see the module docstring); G must be a StyleGAN2 generator."""

    name = "diagan_stylegan2"
    Options = DiaStyleGAN2Options

    def validate(self, run) -> None:
        StyleGAN2Method.validate(self, run)
        DiaGAN.validate(self, run)

    def setup(self, run) -> None:
        DiaGAN.setup(self, run)  # adds the auxiliary D (trained as Dia-GAN trains it, uncorrected Adam)
        StyleGAN2Method.setup(self, run)

    def on_resume(self, run) -> None:
        StyleGAN2Method.on_resume(self, run)
        DiaGAN.on_resume(self, run)

    def after_d_step(self, run, real: Batch, fake: Batch) -> None:
        StyleGAN2Method.after_d_step(self, run, real, fake)
        DiaGAN.after_d_step(self, run, real, fake)

    def on_step_end(self, run) -> None:
        StyleGAN2Method.on_step_end(self, run)
        DiaGAN.on_step_end(self, run)

    def record(self, run) -> np.ndarray:
        self.augment_enabled = False
        try:
            return DiaGAN.record(self, run)
        finally:
            self.augment_enabled = True

    # Dia-GAN's state at the top level: its set-up reads the LDR records of an init_from checkpoint from there
    def state_dict(self) -> dict[str, Any]:
        return {**DiaGAN.state_dict(self), "stylegan2": StyleGAN2Method.state_dict(self)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        DiaGAN.load_state_dict(self, {k: v for k, v in state.items() if k != "stylegan2"})
        if "stylegan2" in state:
            StyleGAN2Method.load_state_dict(self, state["stylegan2"])
