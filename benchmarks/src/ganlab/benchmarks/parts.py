"""Method parts: what a method of a suite is made of. A method is a list of parts, at most one of each role:

- ``model`` parts change the G/D options (``conditional``: class-conditional G and projection D; ``acgan``: class
  input to G, a ``cls`` head on D and ACGAN's auxiliary classifier loss);
- ``data`` parts change what the GAN trains on (``instance_selection``: the kept subset);
- a ``train`` part is the trainer's method (``topk``, ``diagan``, ``gold``, ``icgan``; none = vanilla);
- a ``sample`` part changes how samples are drawn from the trained G (``drs``, ``gold_rejection``);
- an ``ensemble`` part trains several GANs (``multigan``).

Every part is a hook on the one core trainer (or post-hoc on its result); composing them is declaring a list.
Parts whose package is missing report "not installed"; a part that cannot run on a dataset says why when the suite
loads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import util
from typing import Any

from ganlab.core.registry import Registry

__all__ = ["PARTS", "ROLES", "Part"]

PARTS: Registry[type[Part]] = Registry("method part")
ROLES = ("model", "data", "train", "sample", "ensemble")


@dataclass
class NoOptions:
    pass


class Part:
    """One piece of a method; subclasses set ``role`` and override the hooks of their role."""

    name = "part"
    role = "train"
    module: str | None = None  # the module the part needs (None: core only)
    needs: tuple[str, ...] = ()  # "labels", "groups", "images"
    Options: type = NoOptions
    draws_samples = False  # a train part whose G needs more than z (IC-GAN's instance features) draws its samples
    # how the samples this part draws are conditioned where it differs from the setting's protocol (core
    # ConditioningSpec fields, e.g. {"labels": "class_sequential"}); see ResolvedMethod.eval_protocol
    conditioning: dict[str, str] = {}

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def missing(self) -> str | None:
        """Why the part cannot run in this installation (its package is not installed), or None."""
        if self.module is None:
            return None
        try:
            found = util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            found = False
        return None if found else f"not installed ({self.module})"

    def unfit(self, dataset: Any) -> str | None:
        """Why the part cannot run on ``dataset``, or None."""
        if "labels" in self.needs and not getattr(dataset, "num_classes", 0):
            return f"{self.name} needs class labels, and dataset {dataset.name!r} is unlabelled"
        if "groups" in self.needs and getattr(dataset, "groups", None) is None:
            return f"{self.name} needs minor/major groups, and dataset {dataset.name!r} has none"
        if "images" in self.needs and len(getattr(dataset, "shape", ())) != 3:
            return f"{self.name} needs images, and dataset {dataset.name!r} holds {len(dataset.shape)}-d vectors"
        return None

    def signature(self) -> dict[str, Any]:
        return {"part": self.name, **dataclasses.asdict(self.options)}

    # hooks (the cell passes itself as ``cell``; see ganlab.benchmarks.cells)
    def configure(self, cell: Any, cfg: dict[str, Any]) -> None:
        """Change the training config (a plain dict) before the trainer is built."""

    def data(self, cell: Any, dataset: Any) -> Any:
        return dataset

    def method(self, cell: Any) -> Any:
        return None

    def sample(self, cell: Any, trained: Any, n: int, seed: int) -> dict[str, Any]:
        raise NotImplementedError

    def scores(self, cell: Any, trained: Any) -> dict[str, Any]:
        """Per-training-instance scores this part computes (full-dataset positions; NaN where undefined)."""
        return {}

    def train(self, cell: Any) -> Any:
        raise NotImplementedError
