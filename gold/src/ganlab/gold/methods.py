"""Registers the ``gold`` training method (the trainer imports ``ganlab.<package>.methods``)."""

from ganlab.gold.method import Gold, GoldOptions

__all__ = ["Gold", "GoldOptions"]
