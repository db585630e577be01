"""The dataset registry: ``register_dataset(name)`` decorates a builder (see :mod:`ganlab.core.data.catalog` to
look one up and build it)."""

from __future__ import annotations

from collections.abc import Callable

from ganlab.core.registry import Registry

from .base import GanDataset

Builder = Callable[..., GanDataset]


DATASETS: Registry[Builder] = Registry("dataset")
_COMMON = ("root", "split", "resolution")


def register_dataset(name: str) -> Callable[[Builder], Builder]:
    """Register ``builder(root=None, split="train", resolution=None, **options) -> GanDataset`` under ``name``."""
    return DATASETS.register(name)
