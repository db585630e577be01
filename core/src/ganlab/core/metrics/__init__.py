"""ganlab.core.metrics."""
