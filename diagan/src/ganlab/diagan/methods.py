"""Registers the ``diagan`` and ``diagan_stylegan2`` training methods (the trainer imports
``ganlab.<package>.methods``)."""

from ganlab.diagan.method import DiaGAN, DiaGANOptions
from ganlab.diagan.stylegan2 import DiaStyleGAN2, DiaStyleGAN2Options

__all__ = ["DiaGAN", "DiaGANOptions", "DiaStyleGAN2", "DiaStyleGAN2Options"]
