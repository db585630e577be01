"""String-keyed registries: one per kind of component (datasets, backbones, losses, extractors, metrics, methods)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ganlab.core.errors import RegistryError

T = TypeVar("T")


def closest(name: str, choices: list[str]) -> str | None:
    """The choice that most resembles ``name``, or None when none is close."""
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return match[0] if match else None


class Registry(Generic[T]):
    """A mapping from names to builders, filled with the :meth:`register` decorator.

    >>> LOSSES = Registry("loss")
    >>> @LOSSES.register("hinge")
    ... def hinge(): ...
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise RegistryError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            names = self.names()
            hint = closest(name, names)
            msg = f"unknown {self.kind} {name!r}; choose one of: {', '.join(names)}"
            if hint:
                msg += f" (did you mean {hint!r}?)"
            raise RegistryError(msg) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
