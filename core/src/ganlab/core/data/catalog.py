"""Looking up and building datasets by name: ``get_dataset(name, ...)``, ``list_datasets()``, their options.

Importing this module registers the built-in datasets (:mod:`ganlab.core.data.builtin`) first.
"""

from __future__ import annotations

import inspect
from typing import Any

from ganlab.core.errors import DatasetError
from ganlab.core.registry import closest

from . import builtin  # noqa: F401  (registers the built-in datasets)
from .base import GanDataset, check_resolution
from .registry import _COMMON, DATASETS

__all__ = ["DATASETS", "dataset_options", "dataset_summary", "get_dataset", "list_datasets"]


def list_datasets() -> list[str]:
    """Names of every registered dataset, sorted."""
    return DATASETS.names()


def dataset_options(name: str) -> dict[str, Any]:
    """The options a dataset accepts besides root/split/resolution, with their defaults."""
    params = inspect.signature(DATASETS.get(name)).parameters
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in params.values()
        if p.name not in _COMMON and p.kind is p.KEYWORD_ONLY
    }


def dataset_summary(name: str) -> str:
    """The first line of a dataset builder's docstring."""
    doc = inspect.getdoc(DATASETS.get(name)) or ""
    return doc.splitlines()[0] if doc else ""


def get_dataset(
    name: str, root: str | None = None, split: str = "train", resolution: int | None = None, **options: Any
) -> GanDataset:
    """Build the dataset registered as ``name``.

    ``root`` is the data folder (downloadable datasets; ignored by the embedded ones), ``resolution`` resizes square
    images to ``resolution`` pixels (``None`` keeps the native size), ``options`` are dataset-specific (``rho``, ...).
    """
    builder = DATASETS.get(name)
    valid = dataset_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        hint = closest(unknown[0], list(valid))
        msg = f"dataset {name!r} has no option {unknown[0]!r}; its options are: {', '.join(sorted(valid)) or 'none'}"
        if hint:
            msg += f" (did you mean {hint!r}?)"
        raise DatasetError(msg)
    return builder(root=root, split=split, resolution=check_resolution(resolution), **options)
