"""Registers the ``icgan`` training method and the IC-GAN backbone presets (the trainer imports this module)."""

import ganlab.icgan.presets  # noqa: F401  (registers the presets of the official configs)
from ganlab.icgan.method import ICGAN, BigGANBaseline, ICGANOptions

__all__ = ["ICGAN", "BigGANBaseline", "ICGANOptions"]
