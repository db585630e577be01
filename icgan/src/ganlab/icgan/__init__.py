"""ganlab.icgan: Instance-Conditioned GAN (Casanova, Careil, Verbeek, Drozdzal, Romero-Soriano; NeurIPS 2021)."""

__version__ = "0.1.0"
