"""ganlab.gold: Mining GOLD Samples for Conditional GANs (Mo, Kim, Kim, Cho, Shin; NeurIPS 2019)."""

__version__ = "0.1.0"
