"""ganlab.benchmarks: fair comparisons of the ganlab methods on common settings."""

__version__ = "0.1.0"
