"""ganlab.instance_selection: Instance Selection for GANs (DeVries, Drozdzal, Taylor; NeurIPS 2020)."""

__version__ = "0.1.0"
