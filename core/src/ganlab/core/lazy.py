"""Package namespaces that import their submodules on first use, so that the ``ganlab`` command (and a light import
such as ``ganlab.core.train.config``) does not load torch."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """``(__getattr__, __all__)`` for ``package`` whose public ``names`` live in the given submodules."""

    def __getattr__(name: str) -> Any:
        if name in names:
            module = import_module(f"{package}.{names[name]}")
            pkg = import_module(package)
            # bind every name of that submodule now, as an eager import would: importing it may have set a
            # same-named submodule (``icgan.generate``) as a package attribute, which would hide the function
            for other, where in names.items():
                if where == names[name]:
                    setattr(pkg, other, getattr(module, other))
            return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(names)
