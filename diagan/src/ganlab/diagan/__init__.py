"""ganlab.diagan: Self-Diagnosing GAN (Lee, Kim, Hong, Lee, Shin; NeurIPS 2021)."""

__version__ = "0.1.0"
