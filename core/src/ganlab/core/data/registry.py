"""The dataset registry: ``register_dataset(name)`` decorates a builder, ``get_dataset(name, ...)`` builds one."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ganlab.core.errors import DatasetError
from ganlab.core.registry import Registry, closest

from .base import GanDataset, check_resolution

Builder = Callable[..., GanDataset]


def _load_builtin_datasets() -> None:
    from . import embedded, folder, hdf5, toy, vision  # noqa: F401  (each module registers its datasets)


DATASETS: Registry[Builder] = Registry("dataset", loader=_load_builtin_datasets)
_COMMON = ("root", "split", "resolution")


def register_dataset(name: str) -> Callable[[Builder], Builder]:
    """Register ``builder(root=None, split="train", resolution=None, **options) -> GanDataset`` under ``name``."""
    return DATASETS.register(name)


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
