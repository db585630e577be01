"""What a run is built from: the method (by name, with typed options), the dataset and the (G, D) pair.

Each piece comes from the config or from the caller (your own dataset, your own modules); either way it is
adapted and checked here, before the trainer creates a file or takes a step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.train.config import ExperimentConfig, MethodConfig
from ganlab.core.train.method import METHODS, Method

__all__ = [
    "build_dataset",
    "build_method",
    "build_models",
    "import_method_packages",
    "method_config",
    "prepare_dataset",
]


def import_method_packages(name: str) -> None:
    """Make sure method ``name`` is registered: core's own methods, then every installed ganlab package's."""
    import ganlab.core.train.stylegan2_recipe
    import ganlab.core.train.topk  # noqa: F401  (registers "topk")

    if name in METHODS:
        return
    from importlib import import_module
    from importlib.metadata import entry_points

    broken: list[str] = []
    for ep in entry_points(group="ganlab.commands"):
        package = ep.value.split(":")[0].rsplit(".", 1)[0]
        if package.startswith("ganlab.") and package != "ganlab.core":
            try:
                import_module(f"{package}.methods")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.methods":
                    broken.append(f"{package}: {exc}")
            except Exception as exc:  # a broken optional package must not stop another method
                broken.append(f"{package}: {type(exc).__name__}: {exc}")
        if name in METHODS:
            return
    if broken:
        raise ConfigError(
            f"method {name!r} is not registered; these installed packages failed to load: " + "; ".join(broken)
        )


def build_method(cfg: MethodConfig) -> Method:
    """Instantiate ``cfg.name`` from METHODS with its options validated against ``Method.Options``."""
    import_method_packages(cfg.name)
    cls = METHODS.get(cfg.name)
    schema = getattr(cls, "Options", None)
    if schema is not None and dataclasses.is_dataclass(schema):
        options = from_dict(schema, dict(cfg.options), where="method.options")
    else:
        options = dict(cfg.options) or None
    return cls(options)


def _yaml_safe(value: Any) -> Any:
    """``value`` as plain YAML data; an object that is not (an array, a module) is named by its type and shape."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_yaml_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _yaml_safe(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _yaml_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    shape = getattr(value, "shape", None)
    return f"<{type(value).__name__}{tuple(shape) if shape is not None else ''}>"


def method_config(method: Method) -> MethodConfig:
    """What a run records of the method object that trained it: its registered name (or, for an unregistered
    subclass, its import path) and its options as plain data."""
    name = getattr(method, "name", type(method).__name__)
    if name not in METHODS or METHODS.get(name) is not type(method):
        name = f"{type(method).__module__}.{type(method).__qualname__}"
    options = _yaml_safe(getattr(method, "options", None))
    return MethodConfig(name=name, options=options if isinstance(options, dict) else {})


def build_dataset(cfg: ExperimentConfig) -> Any:
    """The dataset ``cfg.data`` names, from the registry."""
    from ganlab.core.data import get_dataset

    d = cfg.data
    return get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)


def prepare_dataset(dataset: Any, cfg: ExperimentConfig) -> Any:
    """A ganlab dataset as it is; any other map-style torch dataset through :func:`ganlab.core.data.from_torch`."""
    from ganlab.core.data import GanDataset, from_torch

    if isinstance(dataset, GanDataset) or (hasattr(dataset, "get_batch") and hasattr(dataset, "labels")):
        return dataset
    return from_torch(dataset, name=cfg.data.name, progress=cfg.train.progress)


def build_models(cfg: ExperimentConfig) -> tuple[nn.Module, nn.Module]:
    """The (G, D) pair of ``cfg.model`` from the backbone registry, or rebuilt from the records of a run on your own
    modules (``model.backbone: custom``, :mod:`ganlab.core.train.model_record`)."""
    from ganlab.core.nn import build_backbone
    from ganlab.core.train.checkpoint import CUSTOM_BACKBONE

    if cfg.model.backbone == CUSTOM_BACKBONE:
        from ganlab.core.errors import CheckpointError
        from ganlab.core.train.model_record import build_recorded

        try:
            return build_recorded(dict(cfg.model.options))
        except CheckpointError as exc:
            raise ConfigError(
                f"model.backbone is 'custom': {exc}; or pass your modules: Trainer(cfg, models=(G, D))"
            ) from None

    return build_backbone(cfg.model.backbone, **cfg.model.options)
