"""A generator fed with the protocol's drawn conditioning instead of the sampler's own labels.

:func:`ganlab.core.metrics.evaluate.evaluate` samples a generator batch by batch (z ~ N(0, I), uniform labels).
:class:`ConditionedGenerator` wraps it so that the i-th sample gets the i-th drawn label and/or the i-th drawn
instance feature, whatever the batch size; the draws come from :mod:`ganlab.core.evaluation.draws`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ConfigError

__all__ = ["ConditionedGenerator"]


class ConditionedGenerator(nn.Module):
    """``G`` with labels ``labels[i]`` and instance features ``features[i]`` for its i-th sample (in call order).

    Sampling more than the drawn conditioning raises; :meth:`rewind` starts again from the first sample (the same
    fakes through a second network, e.g. the Inception Score's logits).
    """

    def __init__(self, G: nn.Module, labels: np.ndarray | None = None, features: torch.Tensor | None = None) -> None:
        super().__init__()
        if labels is None and features is None:
            raise ConfigError("ConditionedGenerator needs drawn labels or instance features")
        self.G = G
        self.z_dim = G.z_dim
        self.num_classes = int(getattr(G, "num_classes", 0) or 0)
        self.labels = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
        self.features = features
        self.cursor = 0

    def __len__(self) -> int:
        return len(self.labels) if self.labels is not None else len(self.features)

    def rewind(self) -> ConditionedGenerator:
        self.cursor = 0
        return self

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, **_: object) -> torch.Tensor:
        start, stop = self.cursor, self.cursor + len(z)
        if stop > len(self):
            raise ConfigError(f"{stop} samples asked of a generator conditioned on {len(self)} draws")
        self.cursor = stop
        kwargs = {}
        if self.features is not None:
            kwargs["feat"] = self.features[start:stop].to(z.device)
        label = self.labels[start:stop].to(z.device) if self.labels is not None else y
        return self.G(z, y=label, **kwargs)
