"""ganlab.core.data."""
