"""Typed configs: dataclass schemas filled from YAML files and dotted command-line overrides.

A config file holds only the keys it changes. Two keys are special:

- ``inherit: other.yaml`` (a path relative to the file) merges this file over another one;
- ``scales: {smoke: {...}, mini: {...}, paper: {...}}`` holds per-scale deltas, applied when a scale is chosen,
  so one file describes an experiment at every scale and the code path is the same.

Unknown keys are errors that name the key, the valid keys and the closest match; values are checked against the
schema's type hints. ``to_dict`` / ``save_config`` write the resolved config that every run keeps.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from ganlab.core.errors import ConfigError
from ganlab.core.registry import closest

T = TypeVar("T")

SCALES = ("smoke", "mini", "paper")


# ----------------------------------------------------------------------------------------------- raw dictionaries
def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, following ``inherit:`` chains (relative to each file)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level, not {type(data).__name__}")
    parent = data.pop("inherit", None)
    if parent is not None:
        base = read_yaml(path.parent / parent)
        data = deep_merge(base, data)
    return data


def deep_merge(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``delta``; nested mappings merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in delta.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``a.b.c=value`` into (["a", "b", "c"], value); the value is read as YAML (``1e-4``, ``[1, 2]``)."""
    if "=" not in text:
        raise ConfigError(f"malformed override {text!r}: write KEY=VALUE, e.g. train.steps=1000")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not key.strip() or any(not p or not p.replace("_", "a").replace("-", "a").isalnum() for p in parts):
        raise ConfigError(f"malformed override {text!r}: the key must be dotted names, e.g. optim.g_lr=2e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed override {text!r}: the value is not valid YAML ({exc})") from None
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: typing.Iterable[str]) -> dict[str, Any]:
    """Apply dotted overrides to a raw mapping (unknown keys are caught later, against the schema)."""
    out = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            elif not isinstance(nxt, dict):
                raise ConfigError(f"override {text!r}: {p!r} is a value, not a section")
            node = nxt
        node[parts[-1]] = value
    return out


def select_scale(data: dict[str, Any], scale: str | None) -> dict[str, Any]:
    """Drop the ``scales`` section, merging the chosen scale's delta first."""
    data = copy.deepcopy(data)
    scales = data.pop("scales", None) or {}
    if scale is None:
        return data
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose one of: {', '.join(SCALES)}")
    if scale not in scales and scales:
        raise ConfigError(f"this config defines scales {sorted(scales)}, not {scale!r}")
    return deep_merge(data, scales.get(scale) or {})


# ------------------------------------------------------------------------------------------------ typed building
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check (and gently convert: int -> float, list -> tuple) ``value`` against type hint ``tp``."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        if len(errors) == 1:  # ``Section | None``: the section's own message (e.g. the unknown key, with valid ones)
            raise ConfigError(errors[0])
        raise ConfigError(f"{where}: {value!r} is not a {_type_name(tp)}")
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(a) for a in get_args(tp))
            raise ConfigError(f"{where}: {value!r} is not one of {choices}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a section (mapping), got {value!r}")
        return from_dict(tp, value, where)
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        items = [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        args = get_args(tp)
        if len(args) == 2 and args[1] is not Any:  # dict[str, Section]: every value checked against its type
            return {k: _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
        return dict(value)
    if tp is float:
        if isinstance(value, str):  # PyYAML (YAML 1.1) reads "2e-4" as a string; accept what float() accepts
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def from_dict(schema: type[T], data: dict[str, Any], where: str = "") -> T:
    """Build dataclass ``schema`` from a mapping; unknown keys and wrong types raise :class:`ConfigError`."""
    if not dataclasses.is_dataclass(schema):
        raise TypeError(f"{schema!r} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    hints = get_type_hints(schema)
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            valid = sorted(fields)
            hint = closest(str(key), valid)
            msg = f"unknown config key {path!r}; valid keys here: {', '.join(valid)}"
            if hint:
                msg += f" (did you mean {(where + '.' if where else '') + hint!r}?)"
            raise ConfigError(msg)
        kwargs[key] = _coerce(value, hints[key], path)
    try:
        obj = schema(**kwargs)
    except TypeError as exc:  # a required field without default was not given
        raise ConfigError(f"{where or schema.__name__}: {exc}") from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(f"{where or schema.__name__}: {exc}") from None
    return obj


def to_dict(cfg: Any) -> Any:
    """A plain-Python (YAML-safe) copy of a config dataclass."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, Path):
        return str(cfg)
    return cfg


def load_config(
    schema: type[T],
    path: str | Path | None = None,
    overrides: typing.Iterable[str] = (),
    scale: str | None = None,
    base: dict[str, Any] | None = None,
) -> T:
    """Load ``schema`` from an optional YAML file (+ scale delta) and dotted overrides, in that order."""
    try:  # start from the schema's defaults so that an override like ``steps.x=1`` is caught early
        data = to_dict(schema())
    except TypeError:
        data = {}
    if base:
        data = deep_merge(data, base)
    if path is not None:
        data = deep_merge(data, read_yaml(path))
    data = select_scale(data, scale)
    data = apply_overrides(data, overrides)
    return from_dict(schema, data)


def save_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from ganlab.core.fileio import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))


def config_diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two configs (dataclasses or dicts): ``key: old -> new``."""
    da, db = (to_dict(a), to_dict(b))
    out: list[str] = []
    if isinstance(da, dict) and isinstance(db, dict):
        for key in sorted(set(da) | set(db)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in da or key not in db:
                out.append(f"{path}: {da.get(key, '<absent>')!r} -> {db.get(key, '<absent>')!r}")
            else:
                out.extend(config_diff(da[key], db[key], path))
    elif da != db:
        out.append(f"{prefix}: {da!r} -> {db!r}")
    return out
