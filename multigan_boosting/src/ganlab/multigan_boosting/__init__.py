"""ganlab.multigan_boosting: Boosting Generative Networks for Incremental Learning (Slim, 2020)."""

__version__ = "0.1.0"
