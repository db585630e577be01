"""ganlab.core.train."""
