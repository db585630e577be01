"""Registers the ``diagan`` training method (the trainer imports ``ganlab.<package>.methods``)."""

from ganlab.diagan.method import DiaGAN, DiaGANOptions

__all__ = ["DiaGAN", "DiaGANOptions"]
