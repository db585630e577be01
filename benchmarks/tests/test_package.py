"""The benchmarks package installs next to every method and imports them all."""

import importlib


def test_imports_every_method():
    for name in ("core", "instance_selection", "multigan_boosting", "diagan", "gold", "icgan", "benchmarks"):
        assert importlib.import_module(f"ganlab.{name}").__version__
