"""The augmentations of the official IC-GAN runs ("DA" in the paper's tables).

- ``hflips``: each *real* image is flipped horizontally with probability 1/2 (fakes are not flipped, as in the code;
  the paper's "(d) real and fake samples" wording notwithstanding);
- ``feature_augmentation``: the conditioning instance's features come from its h-flipped image with probability 1/2
  (drawn in :mod:`ganlab.icgan.data`);
- DiffAugment (Zhao et al. 2020) ``translation`` on every image D sees (LT and COCO-Stuff runs): each image is
  shifted by an integer number of pixels drawn uniformly from ``[-s, s]`` per axis, ``s = int(0.125 * size + 0.5)``,
  with zero fill. The warp is kornia's ``translate`` (nearest sampling: an exact pixel shift, differentiable in the
  image); the shifts follow DiffAugment's distribution.
"""

from __future__ import annotations

import torch

from ganlab.core.errors import ConfigError

POLICIES = ("translation",)
TRANSLATION_RATIO = 0.125


def hflip(images: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Flip the images (B, C, H, W) where ``flip`` (B,) is True, left to right."""
    flip = flip.to(images.device).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(-1), images)


def check_policy(policy: str) -> list[str]:
    parts = [p.strip() for p in str(policy or "").split(",") if p.strip()]
    bad = [p for p in parts if p not in POLICIES]
    if bad:
        raise ConfigError(f"unknown DiffAugment policy {bad[0]!r}; the IC-GAN runs use: {', '.join(POLICIES)}")
    return parts


def translation_shifts(n: int, height: int, width: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, 2) integer (dx, dy) shifts, uniform in [-s, s] with s = int(ratio * size + 0.5) (DiffAugment)."""
    sx, sy = int(width * TRANSLATION_RATIO + 0.5), int(height * TRANSLATION_RATIO + 0.5)
    dx = torch.randint(-sx, sx + 1, (n,), generator=generator)
    dy = torch.randint(-sy, sy + 1, (n,), generator=generator)
    return torch.stack([dx, dy], 1).float()


def translate(images: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each image by its integer (dx, dy) with zero fill (kornia, nearest: exact and differentiable)."""
    from kornia.geometry.transform import translate as kornia_translate

    return kornia_translate(
        images, shifts.to(images.device, images.dtype), mode="nearest", padding_mode="zeros", align_corners=True
    )


def diff_augment(images: torch.Tensor, policy: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment with ``policy`` ("" = identity, "translation"); random shifts from ``generator`` (CPU)."""
    for p in check_policy(policy):
        if p == "translation":
            images = translate(images, translation_shifts(images.shape[0], *images.shape[-2:], generator))
    return images
