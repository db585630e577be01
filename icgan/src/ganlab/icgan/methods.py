"""Registers the ``icgan``, ``icgan_baseline`` and ``icgan_stylegan2`` training methods and the IC-GAN backbone
presets (the trainer imports this module)."""

import ganlab.icgan.presets  # noqa: F401  (registers the presets of the official configs)
from ganlab.icgan.method import ICGAN, BigGANBaseline, ICGANOptions
from ganlab.icgan.stylegan2 import ICGANStyleGAN2, ICGANStyleGAN2Options

__all__ = ["ICGAN", "BigGANBaseline", "ICGANOptions", "ICGANStyleGAN2", "ICGANStyleGAN2Options"]
