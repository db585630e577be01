"""Differentiable augmentations of the images D sees: DiffAugment and adaptive augmentation (ADA).

Both are applied to every image on its way into D (real and fake alike, the same distribution for both), and are
differentiable in the image, so G's gradient flows through them.

* DiffAugment (Zhao et al. 2020), policies ``color``, ``translation``, ``cutout`` on images in [-1, 1]:
  - ``color``: brightness ``x + (u - 0.5)``, saturation ``(x - mean_c) * 2u + mean_c`` (mean over channels),
    contrast ``(x - mean) * (u + 0.5) + mean`` (mean over the image), one ``u ~ U(0, 1)`` per image and operation;
  - ``translation``: an integer shift per image and axis, uniform in ``[-s, s]``, ``s = int(size / 8 + 0.5)``, zero
    fill (kornia's ``translate`` with nearest sampling: an exact pixel shift);
  - ``cutout``: a box of ``int(size / 2 + 0.5)`` pixels per axis centred at a position uniform over the image
    (clipped at its borders) is set to 0.
* ADA (Karras et al. 2020, "Training GANs with limited data"): each transform of a geometric + colour pipeline runs
  with probability ``p`` per image; :class:`AdaptiveAugment` tracks the sign of D's real logits and every
  ``interval`` D steps moves ``p`` by ``sign(E[sign D(real)] - target) * images / (kimg * 1000)``, so ``p`` goes
  from 0 to 1 in ``kimg`` thousand images at full speed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ganlab.core.errors import ConfigError

__all__ = [
    "DIFFAUGMENT_POLICIES",
    "AdaptiveAugment",
    "ada_augment",
    "check_diffaugment_policy",
    "color",
    "cutout",
    "cutout_size",
    "diff_augment",
    "translate",
    "translation_shifts",
]

DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _rand(shape, generator, device) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(device)


def check_diffaugment_policy(policy: str) -> list[str]:
    """The comma-separated operations of ``policy`` ("" = none); ConfigError for an unknown one."""
    parts = [p.strip() for p in str(policy or "").split(",") if p.strip()]
    bad = [p for p in parts if p not in DIFFAUGMENT_POLICIES]
    if bad:
        raise ConfigError(f"unknown DiffAugment operation {bad[0]!r}; choose from {', '.join(DIFFAUGMENT_POLICIES)}")
    return parts


# ---------------------------------------------------------------------------------------------- DiffAugment
def color(x: torch.Tensor, brightness: torch.Tensor, saturation: torch.Tensor, contrast: torch.Tensor):
    """DiffAugment's colour ops with given factors (B,) each: ``b`` in [-0.5, 0.5], ``s`` in [0, 2], ``c`` in
    [0.5, 1.5]. Written in torch: kornia's adjust_* clamp to [0, 1] and define saturation through HSV."""
    view = lambda t: t.to(x.device, x.dtype).view(-1, 1, 1, 1)
    x = x + view(brightness)
    mean_c = x.mean(dim=1, keepdim=True)
    x = (x - mean_c) * view(saturation) + mean_c
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * view(contrast) + mean


def translation_shifts(n: int, height: int, width: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, 2) integer (dx, dy) shifts, uniform in [-s, s] per axis with s = int(size / 8 + 0.5)."""
    sx, sy = int(width * TRANSLATION_RATIO + 0.5), int(height * TRANSLATION_RATIO + 0.5)
    dx = torch.randint(-sx, sx + 1, (n,), generator=generator)
    dy = torch.randint(-sy, sy + 1, (n,), generator=generator)
    return torch.stack([dx, dy], 1).float()


def translate(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each image by its (dx, dy) pixels (dx > 0: right, dy > 0: down), zero fill (kornia, nearest)."""
    from kornia.geometry.transform import translate as kornia_translate

    return kornia_translate(x, shifts.to(x.device, x.dtype), mode="nearest", padding_mode="zeros", align_corners=True)


def cutout_size(height: int, width: int) -> tuple[int, int]:
    return int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)


def cutout(x: torch.Tensor, centres: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Zero a ``size`` (h, w) box per image whose top-left corner is ``centre - size // 2`` (``centres``: (B, 2)
    integer (row, col)), clipped to the image. Written in torch: kornia's RandomErasing draws the box's area and
    aspect instead of DiffAugment's fixed half-size box."""
    H, W = x.shape[-2:]
    h, w = size if size is not None else cutout_size(H, W)
    centres = centres.to(x.device).long()
    top, left = centres[:, 0] - h // 2, centres[:, 1] - w // 2
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    inside = (rows >= top.view(-1, 1, 1)) & (rows < (top + h).view(-1, 1, 1))
    inside = inside & (cols >= left.view(-1, 1, 1)) & (cols < (left + w).view(-1, 1, 1))
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, policy: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment with ``policy`` (e.g. "color,translation,cutout"; "" = identity); draws from ``generator``
    (a CPU generator; None = the global RNG)."""
    B, _, H, W = x.shape
    for op in check_diffaugment_policy(policy):
        if op == "color":
            b, s, c = (_rand((B,), generator, "cpu") for _ in range(3))
            x = color(x, b - 0.5, 2 * s, c + 0.5)
        elif op == "translation":
            x = translate(x, translation_shifts(B, H, W, generator))
        else:
            h, w = cutout_size(H, W)
            # centre uniform over the positions where the box keeps its full size when it is odd (DiffAugment)
            rows = torch.randint(0, H + (1 - h % 2), (B,), generator=generator)
            cols = torch.randint(0, W + (1 - w % 2), (B,), generator=generator)
            x = cutout(x, torch.stack([rows, cols], 1), (h, w))
    return x


# ---------------------------------------------------------------------------------------------------- ADA
def _gate(p: float, n: int, generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def _affine(n: int, p: float, H: int, W: int, generator) -> torch.Tensor:
    """(n, 3, 3) pixel-space matrices of ADA's geometric transforms, each on with probability p (rotations with
    ``1 - sqrt(1 - p)`` each, so that one of the two happens with probability p)."""
    eye = lambda: torch.eye(3).repeat(n, 1, 1)
    M = eye()
    g = lambda m: M @ m

    def scale(sx, sy):
        m = eye()
        m[:, 0, 0], m[:, 1, 1] = sx, sy
        return m

    def rotate(theta):
        m = eye()
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = theta.cos(), -theta.sin(), theta.sin(), theta.cos()
        return m

    def shift(tx, ty):
        m = eye()
        m[:, 0, 2], m[:, 1, 2] = tx, ty
        return m

    on = lambda q: _gate(q, n, generator).float()
    flip = on(p) * torch.randint(0, 2, (n,), generator=generator).float()
    M = g(scale(1 - 2 * flip, torch.ones(n)))  # x-flip
    M = g(rotate(on(p) * torch.randint(0, 4, (n,), generator=generator).float() * (math.pi / 2)))  # rotate 90
    t = (torch.rand(n, 2, generator=generator) * 2 - 1) * TRANSLATION_RATIO * on(p)[:, None]  # integer shift
    M = g(shift(torch.round(t[:, 0] * W), torch.round(t[:, 1] * H)))
    s = torch.exp2(torch.randn(n, generator=generator) * 0.2 * on(p))  # isotropic scale, lognormal 0.2 ln 2
    M = g(scale(s, s))
    p_rot = 1 - math.sqrt(max(0.0, 1 - p))
    M = g(rotate((torch.rand(n, generator=generator) * 2 - 1) * math.pi * on(p_rot)))  # pre-rotation
    s = torch.exp2(torch.randn(n, generator=generator) * 0.2 * on(p))  # anisotropic scale
    M = g(scale(s, 1 / s))
    M = g(rotate((torch.rand(n, generator=generator) * 2 - 1) * math.pi * on(p_rot)))  # post-rotation
    t = torch.randn(n, 2, generator=generator) * TRANSLATION_RATIO * on(p)[:, None]  # fractional shift
    M = g(shift(t[:, 0] * W, t[:, 1] * H))
    centre = shift(torch.full((n,), (W - 1) / 2), torch.full((n,), (H - 1) / 2))
    return centre @ M @ torch.linalg.inv(centre)


def ada_augment(x: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """ADA's pipeline at strength ``p`` on images in [-1, 1]: x-flip, 90-degree rotation, integer translation,
    isotropic scale, rotation, anisotropic scale, fractional translation (one warp, kornia's ``warp_affine``,
    reflection padding), then brightness, contrast and (3 channels) saturation.

    Deviations from the ADA code: the warp samples bilinearly (no upsampling anti-aliasing filter), and luma flip
    and hue rotation are left out; saturation scales around the channel mean instead of the luma axis.
    """
    if p <= 0:
        return x
    from kornia.geometry.transform import warp_affine

    B, C, H, W = x.shape
    M = _affine(B, p, H, W, generator).to(x.device, x.dtype)
    x = warp_affine(x, M[:, :2], (H, W), mode="bilinear", padding_mode="reflection", align_corners=True)
    on = lambda: _gate(p, B, generator).to(x.device, x.dtype).view(-1, 1, 1, 1)
    view = lambda t: t.to(x.device, x.dtype).view(-1, 1, 1, 1)
    x = x + view(torch.randn(B, generator=generator) * 0.2) * on()  # brightness, normal 0.2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    c = torch.exp2(view(torch.randn(B, generator=generator) * 0.5) * on())  # contrast, lognormal 0.5 ln 2
    x = (x - mean) * c + mean
    if C == 3:
        mean_c = x.mean(dim=1, keepdim=True)
        s = torch.exp2(view(torch.randn(B, generator=generator)) * on())  # saturation, lognormal ln 2
        x = (x - mean_c) * s + mean_c
    return x


class AdaptiveAugment:
    """ADA's strength ``p`` and its controller (see the module docstring); checkpointed with ``state_dict``.

    Call :meth:`observe` with D's real logits of each D step, then :meth:`step` once per D step; every ``interval``
    steps ``p`` moves towards keeping ``E[sign D(real)]`` at ``target`` (``p`` is kept in [0, 1]: the ADA code only
    bounds it below, but a probability above 1 changes nothing and would slow the way back).
    """

    def __init__(self, target: float = 0.6, interval: int = 4, kimg: float = 500.0, p: float = 0.0) -> None:
        if not 0 < target < 1:
            raise ConfigError(f"ada_target must lie in (0, 1), got {target}")
        if int(interval) < 1 or kimg <= 0:
            raise ConfigError(f"ada_interval must be >= 1 and ada_kimg > 0, got {interval} and {kimg}")
        if not 0 <= p <= 1:
            raise ConfigError(f"ada_p (the initial strength) must lie in [0, 1], got {p}")
        self.target, self.interval, self.kimg = float(target), int(interval), float(kimg)
        self.p = float(p)
        self.sign_sum = 0.0  # since the last adjustment
        self.count = 0
        self.steps = 0  # D steps seen
        self.rt = float("nan")  # the last E[sign D(real)]

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return ada_augment(x, self.p, generator)

    def observe(self, real_logits: torch.Tensor) -> None:
        logits = real_logits.detach().reshape(-1)
        self.sign_sum += float(logits.sign().sum())
        self.count += int(logits.numel())

    def step(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> bool:
        """Count one D step; adjust ``p`` when ``interval`` steps have passed (``reduce`` sums over processes).
        Returns whether ``p`` was adjusted."""
        self.steps += 1
        if self.steps % self.interval:
            return False
        stats = torch.tensor([self.sign_sum, float(self.count)], dtype=torch.float64)
        if reduce is not None:
            stats = reduce(stats)
        total, count = float(stats[0]), float(stats[1])
        self.sign_sum, self.count = 0.0, 0
        if count == 0:
            return False
        self.rt = total / count
        sign = (self.rt > self.target) - (self.rt < self.target)
        self.p = min(1.0, max(0.0, self.p + sign * count / (self.kimg * 1000)))
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "sign_sum": self.sign_sum, "count": self.count, "steps": self.steps, "rt": self.rt}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p, self.sign_sum = float(state["p"]), float(state["sign_sum"])
        self.count, self.steps, self.rt = int(state["count"]), int(state["steps"]), float(state["rt"])
