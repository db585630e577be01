"""A method of a suite as a list of parts, resolved into its roles (see :mod:`ganlab.benchmarks.parts`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import ganlab.benchmarks.method_parts  # noqa: F401  (registers the parts)
from ganlab.benchmarks.parts import PARTS, Part
from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import EvalProtocol

__all__ = ["ResolvedMethod", "check_method", "resolve"]


@dataclass
class ResolvedMethod:
    """A method's parts by role."""

    parts: list[Part]

    def role(self, role: str) -> list[Part]:
        return [p for p in self.parts if p.role == role]

    def one(self, role: str) -> Part | None:
        found = self.role(role)
        return found[0] if found else None

    def training_parts(self) -> list[Part]:
        return [p for p in self.parts if p.role != "sample"]

    def sampler(self) -> Part | None:
        """The part that draws the method's samples: its ``sample`` part, else a part whose G needs more than z
        (IC-GAN, the ensemble); None: the trained G with uniform labels."""
        return self.one("sample") or next((p for p in self.parts if p.draws_samples), None)

    def eval_protocol(self, setting: EvalProtocol) -> EvalProtocol:
        """The setting's protocol as this method's samples are drawn: the one place a method's protocol differs
        from its setting's (the sampler's ``conditioning``, e.g. GOLD rejection's class-balanced bank: labels in
        equal blocks per class, in class order)."""
        part = self.sampler()
        if part is None or not part.conditioning:
            return setting
        conditioning = dataclasses.replace(setting.conditioning, **part.conditioning)
        return dataclasses.replace(setting, conditioning=conditioning)


def _parse(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        name, options = next(iter(item.items()))
        return str(name), dict(options or {})
    raise ConfigError(f"a method part is a name or {{name: options}}, got {item!r}")


def resolve(parts: list[Any], where: str = "method") -> ResolvedMethod:
    """Instantiate a list of part specs (``"diagan"`` or ``{"diagan": {"k": 1.0}}``) with validated options."""
    out = []
    for item in parts:
        name, options = _parse(item)
        cls = PARTS.get(name)
        schema = cls.Options
        opts = from_dict(schema, options, where=f"{where}.{name}") if dataclasses.is_dataclass(schema) else options
        out.append(cls(opts))
    method = ResolvedMethod(out)
    for role in ("train", "sample", "ensemble"):
        names = [p.name for p in method.role(role)]
        if len(names) > 1:
            raise ConfigError(f"{where}: at most one {role} part, got {names}")
    if method.one("ensemble") is not None and method.one("train") is not None:
        raise ConfigError(f"{where}: an ensemble part trains its own GANs; it cannot be combined with a train part")
    return method


def check_method(name: str, spec: Any) -> ResolvedMethod:
    """Resolve a suite method's parts (unknown part names name the closest one)."""
    return resolve(list(spec.parts), where=f"method {name!r}")
