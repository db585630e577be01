"""ganlab.core.features."""
