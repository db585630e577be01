"""The built-in datasets: importing this module registers them (the registry does so on its first lookup)."""

from . import embedded, folder, hdf5, lsun, toy, vision  # noqa: F401
