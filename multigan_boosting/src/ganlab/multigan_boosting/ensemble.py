"""Ensembles of conditional generators (Slim 2020 §5.1): one generator is chosen per generated batch.

Uniformly ("Baseline", Pham et al.) or with weights ("weighted conditioned GANs", w = (3/4, 1/4) in Table 3's 2*
row). The public ``train_classifier.py`` inverts an ``if`` and resets valid weights to None, so its weighted runs
sampled uniformly (reference notes §0); here the weights are used as given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from ganlab.core.errors import ConfigError, ShapeError

__all__ = ["Ensemble", "as_conditional", "load_generators"]


def as_conditional(G: nn.Module, num_classes: int | None = None) -> nn.Module:
    """A conditional G behind core's contract: returned as is when it has ``z_dim`` and ``num_classes``; a plain
    ``module(z, y)`` with ``z_dim`` is wrapped by :func:`ganlab.core.nn.protocol.as_generator`."""
    from ganlab.core.nn.protocol import as_generator

    if not isinstance(G, nn.Module):
        raise ShapeError(f"a generator must be an nn.Module, got {type(G).__name__}")
    z_dim = getattr(G, "z_dim", None)
    if not isinstance(z_dim, int) or z_dim < 1:
        raise ShapeError(f"{type(G).__name__} needs an int z_dim attribute (the latent size) to be sampled")
    own = getattr(G, "num_classes", None)
    if isinstance(own, int) and own > 0:
        if num_classes is not None and own != int(num_classes):
            raise ShapeError(f"{type(G).__name__} generates {own} classes but {num_classes} were asked for")
        return G
    if num_classes is None:
        raise ShapeError(f"{type(G).__name__} has no num_classes attribute; pass num_classes")
    return as_generator(G, z_dim=z_dim, num_classes=int(num_classes))


class Ensemble:
    """Generators sampled per generated batch, uniformly (``weights=None``) or with normalised ``weights``."""

    def __init__(
        self, generators: Sequence[nn.Module], weights: Sequence[float] | None = None, *, seed: int = 0
    ) -> None:
        gens = list(generators)
        if not gens:
            raise ConfigError("an ensemble needs at least one generator")
        gens = [as_conditional(G) for G in gens]
        classes = sorted({int(G.num_classes) for G in gens})
        if len(classes) != 1:
            raise ShapeError(f"the ensemble's generators have different numbers of classes {classes}; use one task")
        self.generators, self.num_classes = gens, classes[0]
        if weights is None:
            self.weights = None
        else:
            w = [float(v) for v in weights]
            if len(w) != len(gens):
                raise ConfigError(
                    f"{len(w)} ensemble weights for {len(gens)} generators; give one weight per generator"
                )
            if any(v < 0 or math.isnan(v) for v in w):
                raise ConfigError(f"ensemble weights must be >= 0, got {w}")
            if sum(w) <= 0 or math.isinf(sum(w)):
                raise ConfigError(f"ensemble weights must have a positive finite sum, got {w}")
            # used as given: the public train_classifier.py's inverted `if` reset valid weights to None (uniform)
            self.weights = torch.tensor(w, dtype=torch.float64) / sum(w)
        self.g = torch.Generator().manual_seed(int(seed))
        for G in gens:
            G.eval()

    def __len__(self) -> int:
        return len(self.generators)

    @property
    def device(self) -> torch.device:
        p = next(iter(self.generators[0].parameters()), None)
        return p.device if p is not None else torch.device("cpu")

    def reseed(self, seed: int) -> None:
        self.g.manual_seed(int(seed) + 7919)  # its own stream, distinct from the source's z / y stream

    def choose(self) -> int:
        """Index of the generator for the next generated batch."""
        if len(self.generators) == 1:
            return 0
        if self.weights is None:
            return int(torch.randint(0, len(self.generators), (1,), generator=self.g))
        return int(torch.multinomial(self.weights, 1, generator=self.g))

    def pick(self) -> nn.Module:
        return self.generators[self.choose()]

    def state_dict(self) -> dict:
        return {"g": self.g.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.g.set_state(state["g"])


def load_generators(paths: Sequence[str | Path], device: torch.device | str = "cpu") -> list[nn.Module]:
    """G_ema of each run directory / ``G_ema.pt`` / checkpoint (core's :func:`load_generator`), eval mode."""
    from ganlab.core.train.checkpoint import load_generator

    return [load_generator(p, device=device)[0].eval() for p in paths]
