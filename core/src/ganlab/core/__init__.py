"""ganlab-core: shared data, backbones, training engine, features and metrics for the ganlab methods."""

__version__ = "0.1.0"
