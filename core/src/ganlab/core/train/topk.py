"""Top-k training (Sinha et al. 2020): G is trained on the ``k`` fakes that D rates most realistic, keeping
``max(0.99^epoch, 0.5)`` of the batch. Registered as the ``topk`` method (a baseline in Dia-GAN's Tables 2 and 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ganlab.core.train.method import METHODS, Batch, Method

__all__ = ["TopKMethod", "TopKOptions", "topk_fraction"]


def topk_fraction(epoch: int | float, decay: float = 0.99, min_fraction: float = 0.5) -> float:
    """The fraction of a fake batch kept for G's loss at ``epoch`` (Sinha et al. 2020): ``max(decay^epoch, min)``."""
    return max(decay**epoch, min_fraction)


@dataclass
class TopKOptions:
    """Top-k training (Sinha et al. 2020); epoch = G steps // batches per epoch (Dia-GAN reference, §1.9)."""

    decay: float = 0.99
    min_fraction: float = 0.5


@METHODS.register("topk")
class TopKMethod(Method):
    """G's loss averages only the ``k = int(fraction * B)`` fakes with the highest D output."""

    name = "topk"
    Options = TopKOptions

    def epoch_of(self, run) -> int:
        # The reference counts epochs as G steps // len(dataloader), a loader of the global batch size.
        batches = max(1, math.ceil(len(run.dataset) / run.cfg.train.batch_size))
        return run.step // batches

    def g_loss(self, run, fake: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        adv = self.d_forward(run, fake)["adv"]
        frac = topk_fraction(self.epoch_of(run), self.options.decay, self.options.min_fraction)
        k = max(1, int(frac * adv.shape[0]))
        top = torch.topk(adv, k).indices
        loss = run.loss.g(adv[top]).mean()
        return loss, {"g_loss": loss.detach(), "topk_fraction": frac}
