"""Exceptions with messages that say what was wrong and how to fix it.

Every error a user can cause with bad input derives from :class:`GanlabError`, so the CLI can print the message
alone (no traceback) and exit with status 2.
"""

from __future__ import annotations


class GanlabError(Exception):
    """Base class for errors caused by user input or the environment, not by a bug in ganlab."""


class ConfigError(GanlabError, ValueError):
    """A config file or override is malformed, names an unknown key, or holds a value of the wrong type."""


class RegistryError(GanlabError, KeyError):
    """A name (dataset, backbone, loss, extractor, metric, ...) is not registered."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class DatasetError(GanlabError):
    """A dataset is missing, not downloaded, or its options are invalid."""


class ShapeError(GanlabError, ValueError):
    """Arrays or tensors whose shapes do not fit together."""


class CheckpointError(GanlabError):
    """A checkpoint is corrupt, missing, or was written by a different config."""


class TrainingDivergedError(GanlabError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class MissingDependencyError(GanlabError, ImportError):
    """An optional dependency (faiss, lpips, umap-learn, ...) is needed for this call but not installed."""


class WeightsNotFoundError(GanlabError, FileNotFoundError):
    """Pretrained weights are not on disk and downloading is not allowed or not possible."""


class NonFiniteError(GanlabError, ValueError):
    """Features (or images) contain NaN or infinite values."""
