"""Conditional generation as a training source for classifiers (Slim 2020 §3.1, public ``filter_loader.py``).

One training batch is filled by repeatedly: choosing a generator (per generated batch, see
:class:`~ganlab.multigan_boosting.ensemble.Ensemble`), drawing labels uniformly per sample and z from N(0, I) or a
normal truncated to [-psi, psi], generating, applying random flip + 4-pixel-padded crop (batched on the device) and
keeping the images the filter classifier accepts (argmax = y and p_y >= threshold). The filter sees the transformed
image because the public code transforms before it filters (reference notes §1.3). A fixed set draws N images once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError, GanlabError, ShapeError
from ganlab.core.features.classifier import augment_flip_crop

__all__ = [
    "PAD_FILL",
    "FilterRejectedError",
    "SyntheticSource",
    "check_threshold",
    "filter_mask",
    "flip_crop",
    "fixed_synthetic_set",
    "truncated_normal",
]


class FilterRejectedError(GanlabError):
    """The classifier filter accepted too few generated images to fill a batch within the allowed tries."""


# the public code pads [0, 1] PIL images with 0 before Normalize(0.5, 0.5): black, -1 on our [-1, 1] images
PAD_FILL = -1.0


def flip_crop(x: torch.Tensor, generator: torch.Generator, flip: bool = True) -> torch.Tensor:
    """The report's transform on [-1, 1] images: random horizontal flip (``flip``) and a random 32-of-40 crop
    with black padding (``RandomHorizontalFlip`` + ``RandomCrop(32, padding=4)`` in the public code)."""
    return augment_flip_crop(x, generator, padding=4, flip=flip, fill=PAD_FILL)


def check_threshold(threshold: float) -> float:
    """The filter threshold p_t must lie in (0, 1] (the report uses 0.9)."""
    t = float(threshold)
    if not (0.0 < t <= 1.0) or math.isnan(t):
        raise ConfigError(f"filter threshold must be in (0, 1] (the report uses 0.9), got {threshold!r}")
    return t


def truncated_normal(shape: tuple[int, ...], psi: float | None, generator: torch.Generator) -> torch.Tensor:
    """z ~ N(0, 1) per entry, or N(0, 1) truncated to [-psi, psi] (scipy ``truncnorm(-psi, psi)`` in the public
    code), drawn exactly by inverting the normal CDF on a uniform over [Phi(-psi), Phi(psi)]."""
    if psi is None:
        return torch.randn(shape, generator=generator)
    if not psi > 0:
        raise ConfigError(f"truncation psi must be > 0 (the report uses 1.5), got {psi!r}")
    lo = 0.5 * math.erfc(psi / math.sqrt(2.0))  # Phi(-psi)
    u = lo + (1.0 - 2.0 * lo) * torch.rand(shape, generator=generator, dtype=torch.float64)
    return torch.special.ndtri(u).clamp_(-psi, psi).float()


@torch.no_grad()
def filter_mask(classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, threshold: float) -> torch.Tensor:
    """Boolean mask of the images kept: ``argmax softmax(C(x)) == y`` and ``softmax(C(x))[y] >= threshold``."""
    p = F.softmax(classifier(x).float(), dim=1)
    py = p.gather(1, y.view(-1, 1)).squeeze(1)
    return (p.argmax(1) == y) & (py >= threshold)


def _num_classes(module: nn.Module) -> int:
    n = getattr(module, "num_classes", None)
    if not isinstance(n, int) or n < 1:
        raise ShapeError(f"{type(module).__name__} has no positive int num_classes attribute")
    return n


@dataclass
class SourceStats:
    generated: int = 0
    accepted: int = 0

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.generated if self.generated else float("nan")


class SyntheticSource:
    """Batches ``(images, labels)`` made on the fly from conditional generators.

    ``generators``: one G (``z_dim``, ``num_classes``, ``forward(z, y)``) or an
    :class:`~ganlab.multigan_boosting.ensemble.Ensemble`. ``filter``: a classifier (``num_classes`` logits) or None.
    ``gen_batch_size``: images generated per try (the public code uses the training batch size). ``max_tries``:
    generated batches allowed per training batch before :class:`FilterRejectedError`.
    """

    def __init__(
        self,
        generators,
        num_classes: int,
        *,
        transform: bool = False,
        flip: bool = True,
        filter: nn.Module | None = None,
        threshold: float = 0.9,
        truncation: float | None = None,
        gen_batch_size: int = 125,
        max_tries: int = 100,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        from ganlab.multigan_boosting.ensemble import Ensemble

        self.threshold = check_threshold(threshold)
        if truncation is not None and not truncation > 0:
            raise ConfigError(f"truncation psi must be > 0 or null (none), got {truncation!r}")
        if int(max_tries) < 1 or int(gen_batch_size) < 1:
            raise ConfigError(f"max_tries and gen_batch_size must be >= 1, got {max_tries}, {gen_batch_size}")
        self.ensemble = generators if isinstance(generators, Ensemble) else Ensemble([generators], seed=seed)
        self.num_classes = int(num_classes)
        if self.ensemble.num_classes != self.num_classes:
            raise ShapeError(
                f"the generators have {self.ensemble.num_classes} classes but the task has {self.num_classes}"
            )
        if filter is not None and _num_classes(filter) != self.num_classes:
            raise ShapeError(
                f"the filter classifier predicts {_num_classes(filter)} classes but the generators have "
                f"{self.num_classes}; use a filter trained on the same classes"
            )
        self.transform, self.filter, self.truncation = bool(transform), filter, truncation
        self.flip = bool(flip)
        self.gen_batch_size, self.max_tries = int(gen_batch_size), int(max_tries)
        self.device = torch.device(device) if device is not None else self.ensemble.device
        self.g = torch.Generator().manual_seed(int(seed))
        self.ensemble.reseed(int(seed))
        self.stats = SourceStats()
        self._left: tuple[torch.Tensor, torch.Tensor] | None = None  # accepted images not used yet
        if self.filter is not None:
            self.filter.eval()

    # --------------------------------------------------------------------------------------------- one try
    @torch.no_grad()
    def generate(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One generated batch from one chosen generator, transformed when asked (no filter)."""
        G = self.ensemble.pick()
        y = torch.randint(0, self.num_classes, (n,), generator=self.g)
        z = truncated_normal((n, int(G.z_dim)), self.truncation, self.g)
        x = G(z.to(self.device), y.to(self.device)).float()
        y = y.to(x.device)
        if self.transform:
            x = flip_crop(x, self.g, flip=self.flip)
        return x, y

    @torch.no_grad()
    def next_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` images and labels: generate, transform, filter until the batch is full.

        Accepted images beyond ``n`` are kept for the next batch; the public code drops them, which costs up to a
        second generated batch per training batch and changes nothing in distribution (the samples are i.i.d.).
        """
        xs, ys = ([self._left[0]], [self._left[1]]) if self._left is not None else ([], [])
        have = len(ys[0]) if ys else 0
        tries = 0
        while have < n:
            if tries == self.max_tries:
                self._left = (torch.cat(xs), torch.cat(ys)) if have else None
                rate = self.stats.acceptance_rate
                raise FilterRejectedError(
                    f"the classifier filter kept {have} images in {self.max_tries} tries of {self.gen_batch_size} for "
                    f"a batch of {n} (acceptance rate {rate:.4%} so far; threshold {self.threshold}); lower the "
                    "threshold, check that the filter and the generators use the same classes and image range, or "
                    "raise max_tries"
                )
            x, y = self.generate(self.gen_batch_size)
            tries += 1
            self.stats.generated += len(y)
            if self.filter is not None:
                keep = filter_mask(self.filter, x, y, self.threshold)
                x, y = x[keep], y[keep]
            self.stats.accepted += len(y)
            xs.append(x)
            ys.append(y)
            have += len(y)
        x, y = torch.cat(xs), torch.cat(ys)
        self._left = (x[n:], y[n:]) if len(y) > n else None
        return x[:n], y[:n]

    __call__ = next_batch

    def state_dict(self) -> dict:
        left = None if self._left is None else (self._left[0].cpu(), self._left[1].cpu())
        return {"g": self.g.get_state(), "ensemble": self.ensemble.state_dict(), "stats": vars(self.stats).copy(),
                "left": left}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.g.set_state(state["g"])
        self.ensemble.load_state_dict(state["ensemble"])
        self.stats = SourceStats(**state["stats"])
        left = state.get("left")
        self._left = None if left is None else (left[0].to(self.device), left[1].to(self.device))


def fixed_synthetic_set(source: SyntheticSource, n: int, batch_size: int = 125) -> tuple[torch.Tensor, torch.Tensor]:
    """N images drawn once from ``source`` (transformed / filtered as it is configured), on the source's device
    (the public ``--fixed_dset`` caches the first epoch's 50k images and reshuffles them afterwards)."""
    if int(n) < 1:
        raise ConfigError(f"a fixed synthetic set needs n >= 1 images, got {n}")
    xs, ys = [], []
    for i in range(0, int(n), batch_size):
        x, y = source.next_batch(min(batch_size, int(n) - i))
        xs.append(x)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)
