"""ganlab.core.nn."""
