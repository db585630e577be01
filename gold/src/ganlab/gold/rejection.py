"""GOLD rejection sampling (Mo et al. 2019, §3.2 eq. 6; the official ``utils/drs.py`` and ``rejection.ipynb``).

1. Statistics over ``n_stats`` (50,000) generated samples with uniform labels (``stats_mode``):
   ``official`` (the default, the official ``drs.py``): ``M = exp(max adv)`` from the *marginal* term only, and
   ``w = std(adv) / sqrt(mean(log D_C(c|x)^2))`` (the RMS of the conditional term stands for sigma_C);
   ``paper`` (§3.2 as written): ``w = std(adv) / std(log D_C(c|x))`` (eq. 4's standard deviations) and
   ``M = max exp(d_bal)``, ``d_bal = adv + w log D_C(c|x)`` over the same samples.
2. Per class, batches of ``batch_size`` (100) with the label fixed: ``p = min(1, exp(adv + w log D_C(c|x)) / M)``,
   the sigmoid pull-back ``f = log(p + eps) - log(1 - p + eps)``, ``gamma`` = the ``100 p``-th percentile of ``f``
   in the batch, accept with probability ``sigmoid(f - gamma)``; until ``per_class`` samples of the class are kept.

It has the shape of Azadi et al.'s DRS (core :mod:`ganlab.core.sampling`): the same percentile shift of the
pull-back, but core's acceptance (``F = l - log(1 - exp(l - eps))`` with M raised online) is not GOLD's (M fixed
from the marginal maximum, ``p`` clipped at 1, ``eps`` inside both logs), so the acceptance is its own function here.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganlab.core.errors import ConfigError, GanlabError, ShapeError
from ganlab.gold.estimator import conditional_term, d_heads
from ganlab.gold.scoring import _call_d, eval_mode

__all__ = [
    "RejectionBudgetError",
    "RejectionResult",
    "check_percentile",
    "gold_acceptance",
    "gold_rejection_sample",
    "load_bank",
    "rejection_stats",
    "save_bank",
    "stats_from_terms",
]

STATS_MODES = ("official", "paper")


class RejectionBudgetError(GanlabError):
    """The proposal budget ran out before every class had its samples; ``.partial`` holds what was accepted."""

    def __init__(self, message: str, partial: RejectionResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial


def check_percentile(p: float) -> float:
    """GOLD's p must lie strictly between 0 and 1 (the percentile 100 p of the batch is subtracted)."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ConfigError(f"p must be a number in (0, 1), got {p!r}") from None
    if not 0.0 < p < 1.0:
        raise ConfigError(f"p must lie in (0, 1) (the paper: 0.1 for 1-channel, 0.5 for 3-channel data), got {p}")
    return p


def gold_acceptance(
    adv: torch.Tensor, log_pc: torch.Tensor, log_m: float, ratio: float, p: float, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Acceptance probabilities of one batch (float64): ``(sigmoid(f - gamma), f, gamma)``, see the module docstring."""
    p = check_percentile(p)
    r = (adv.double() + float(ratio) * log_pc.double() - float(log_m)).clamp(max=0.0).exp()  # min(1, exp(d) / M)
    f = torch.log(r + eps) - torch.log(1.0 - r + eps)
    gamma = float(np.percentile(f.cpu().numpy(), 100.0 * p))
    return torch.sigmoid(f - gamma), f, gamma


def _generator_info(G: nn.Module) -> tuple[int, int]:
    z_dim = int(getattr(G, "z_dim", 0) or 0)
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    if not z_dim or not num_classes:
        raise ShapeError("GOLD rejection sampling needs a class-conditional G with z_dim and num_classes attributes")
    return z_dim, num_classes


@torch.no_grad()
def _heads(G, D, y, gen, z_dim, num_classes, device):
    z = torch.randn(len(y), z_dim, generator=gen).to(device)
    x = G(z, y.to(device))
    adv, cls = d_heads(_call_d(D, x, y.to(device)), num_classes)
    return x, adv.double().cpu(), conditional_term(cls, y.to(cls.device)).double().cpu()


def stats_from_terms(adv: Any, cond: Any, mode: str = "official") -> dict[str, float]:
    """``log_m`` (log M) and ``ratio`` (w = sigma_G / sigma_C) of eq. 6 from the marginal and conditional terms.

    ``official``: ``log M = max adv``, ``w = std(adv) / RMS(cond)`` (the official ``drs.py``); ``paper``: ``w =
    std(adv) / std(cond)`` and ``log M = max(adv + w cond)`` (M = the maximum of exp(d_bal), §3.2). Population
    standard deviations (ddof = 0), as numpy's default in the official code.
    """
    if mode not in STATS_MODES:
        raise ConfigError(f"rejection statistics mode must be one of {STATS_MODES}, got {mode!r}")
    a = np.asarray(adv, dtype=np.float64).reshape(-1)
    c = np.asarray(cond, dtype=np.float64).reshape(-1)
    if a.size < 2 or a.size != c.size:
        raise ShapeError(f"rejection statistics need >= 2 paired terms, got {a.size} marginal / {c.size} conditional")
    sigma_c = float(np.sqrt(np.mean(np.square(c)))) if mode == "official" else float(c.std())
    ratio = float(a.std() / max(sigma_c, 1e-12))
    log_m = float(a.max()) if mode == "official" else float((a + ratio * c).max())
    return {"log_m": log_m, "ratio": ratio, "mode": mode}


def rejection_stats(
    G: nn.Module,
    D: nn.Module,
    n: int = 50000,
    *,
    batch_size: int = 100,
    seed: int = 0,
    device: torch.device | str | None = None,
    mode: str = "official",
) -> dict[str, Any]:
    """``log_m`` and ``ratio`` over ``n`` fakes (see :func:`stats_from_terms` for the two modes)."""
    if n < 2:
        raise ConfigError(f"rejection statistics need at least 2 samples, got n={n}")
    if mode not in STATS_MODES:
        raise ConfigError(f"rejection statistics mode must be one of {STATS_MODES}, got {mode!r}")
    z_dim, num_classes = _generator_info(G)
    device = torch.device(device) if device is not None else next(G.parameters()).device
    gen = torch.Generator().manual_seed(int(seed))
    advs, conds = [], []
    with eval_mode(G, D):
        for i in range(0, n, batch_size):
            y = torch.randint(0, num_classes, (min(batch_size, n - i),), generator=gen)
            _, adv, cond = _heads(G, D, y, gen, z_dim, num_classes, device)
            advs.append(adv)
            conds.append(cond)
    return {**stats_from_terms(torch.cat(advs).numpy(), torch.cat(conds).numpy(), mode), "n_stats": int(n)}


@dataclass
class RejectionResult:
    """Accepted samples (class-balanced, CPU), their labels and the bookkeeping of the run."""

    images: torch.Tensor
    labels: np.ndarray
    proposed: np.ndarray  # per class
    accepted: np.ndarray  # per class (before truncation to per_class)
    stats: dict[str, Any]
    p: float
    wall_s: float = 0.0
    complete: bool = True
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float:
        return float(self.accepted.sum() / max(self.proposed.sum(), 1))

    @property
    def accepted_per_s(self) -> float:
        return float(len(self.labels) / max(self.wall_s, 1e-9))

    def summary(self) -> dict[str, Any]:
        return {
            "n": int(len(self.labels)),
            "p": self.p,
            "acceptance_rate": self.acceptance_rate,
            "accepted_per_s": self.accepted_per_s,
            "wall_s": self.wall_s,
            "proposed": int(self.proposed.sum()),
            "complete": self.complete,
            **{f"stats_{k}": v for k, v in self.stats.items()},
        }


def gold_rejection_sample(
    G: nn.Module,
    D: nn.Module,
    n: int = 50000,
    *,
    p: float = 0.1,
    batch_size: int = 100,
    n_stats: int = 50000,
    stats: dict[str, Any] | None = None,
    stats_mode: str = "official",
    eps: float = 1e-6,
    max_batches_per_class: int = 10000,
    seed: int = 0,
    device: torch.device | str | None = None,
    reject: bool = True,
    progress: bool = False,
) -> RejectionResult:
    """``n`` GOLD-accepted samples of G, ``n / num_classes`` per class (eq. 6; official settings by default).

    G and D run in eval mode under no-grad (as the official notebook). ``reject=False`` keeps every proposal: the
    paper's baseline of a fixed bank of random samples. ``max_batches_per_class`` bounds the proposals; when it runs
    out, :class:`RejectionBudgetError` is raised with the samples accepted so far in ``.partial``. Asking for more
    samples per class than ``max_batches_per_class * batch_size`` proposals can give fails before any work.
    ``stats_mode`` picks how M and sigma_C are computed when ``stats`` is not given (``official`` | ``paper``).
    """
    from tqdm.auto import tqdm

    p = check_percentile(p)
    z_dim, num_classes = _generator_info(G)
    if n < num_classes or n % num_classes:
        raise ConfigError(f"n={n} must be a positive multiple of the {num_classes} classes (a class-balanced bank)")
    per_class = n // num_classes
    if max_batches_per_class < 1 or batch_size < 1:
        raise ConfigError("max_batches_per_class and batch_size must be >= 1")
    if per_class > max_batches_per_class * batch_size:
        raise RejectionBudgetError(
            f"{per_class} samples per class exceed the budget of {max_batches_per_class} batches x {batch_size} "
            f"proposals per class; raise max_batches_per_class or ask for fewer samples"
        )
    device = torch.device(device) if device is not None else next(G.parameters()).device
    t0 = time.perf_counter()
    if reject and stats is None:
        stats = rejection_stats(G, D, n_stats, batch_size=batch_size, seed=seed + 1, device=device, mode=stats_mode)
    stats = dict(stats or {})
    gen = torch.Generator().manual_seed(int(seed))
    images: list[list[torch.Tensor]] = [[] for _ in range(num_classes)]
    have = np.zeros(num_classes, dtype=np.int64)
    proposed = np.zeros(num_classes, dtype=np.int64)
    accepted = np.zeros(num_classes, dtype=np.int64)
    bar = tqdm(total=n, desc="GOLD rejection" if reject else "random bank", disable=not progress, leave=False)
    exhausted = None
    with eval_mode(G, D):
        for c in range(num_classes):
            for _ in range(max_batches_per_class):
                if have[c] >= per_class:
                    break
                y = torch.full((batch_size,), c, dtype=torch.long)
                x, adv, cond = _heads(G, D, y, gen, z_dim, num_classes, device)
                if reject:
                    prob, _, _ = gold_acceptance(adv, cond, stats["log_m"], stats["ratio"], p, eps)
                    keep = torch.bernoulli(prob, generator=gen).bool()
                else:
                    keep = torch.ones(batch_size, dtype=torch.bool)
                idx = keep.nonzero().flatten()
                proposed[c] += batch_size
                accepted[c] += len(idx)
                take = idx[: per_class - have[c]]
                if len(take):
                    images[c].append(x[take.to(x.device)].cpu())
                    have[c] += len(take)
                    bar.update(len(take))
            if have[c] < per_class:
                exhausted = c
                break
    bar.close()
    parts = [torch.cat(ims) for ims in images if ims]
    out_images = torch.cat(parts) if parts else torch.zeros(0)
    labels = np.concatenate([np.full(int(h), c, dtype=np.int64) for c, h in enumerate(have)])
    result = RejectionResult(
        out_images,
        labels,
        proposed,
        accepted,
        stats,
        p,
        time.perf_counter() - t0,
        exhausted is None,
        {"batch_size": batch_size, "eps": eps, "reject": reject, "seed": seed, "per_class": per_class},
    )
    if exhausted is not None:
        raise RejectionBudgetError(
            f"class {exhausted} got only {have[exhausted]} of {per_class} samples in {max_batches_per_class} "
            f"batches of {batch_size} (acceptance so far {result.acceptance_rate:.3f}); kept the {len(labels)} "
            "accepted samples. "
            "Raise max_batches_per_class, or lower p",
            partial=result,
        )
    return result


def save_bank(result: RejectionResult, path: str | Path, sheet: str | Path | None = None, per_row: int = 10) -> None:
    """Write a bank as ``.npz`` (uint8 images as a PNG would hold them, labels, stats) and a contact sheet PNG
    (``per_row`` samples of each class per row)."""
    from ganlab.core.results import atomic_write_bytes

    imgs = result.images
    # images as a PNG would hold them: uint8 levels of [-1, 1]
    u8 = ((imgs.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8) if imgs.ndim == 4 else imgs
    buf = io.BytesIO()
    np.savez(
        buf,
        images=u8.numpy(),
        labels=result.labels,
        proposed=result.proposed,
        accepted=result.accepted,
        summary=np.array(str(result.summary())),
    )
    atomic_write_bytes(path, buf.getvalue())
    if sheet is not None and imgs.ndim == 4 and len(imgs):
        from ganlab.core.images import images_to_png

        rows = []
        for c in np.unique(result.labels):
            idx = np.flatnonzero(result.labels == c)[:per_row]
            pad = imgs.new_ones((per_row - len(idx), *imgs.shape[1:]))
            rows.append(torch.cat([imgs[idx], pad]))
        atomic_write_bytes(sheet, images_to_png(torch.cat(rows), nrow=per_row))


def load_bank(path: str | Path) -> tuple[torch.Tensor, np.ndarray]:
    """``(images in [-1, 1], labels)`` of a bank written by :func:`save_bank`."""
    with np.load(path) as f:
        return torch.from_numpy(f["images"]).float().div(127.5).sub(1.0), f["labels"]


def evaluate_banks(
    G: nn.Module, D: nn.Module, p: Any, test: Any, fid: Any, *, seed: int, num_classes: int, device: Any, folder: Path
) -> list[dict[str, Any]]:
    """Tables 3, 4, 5, 7 for one trained G/D: the rejection statistics (``p.rejection_stats`` mode), then a fixed bank
    of ``p.n_bank`` samples drawn at random (variant ``random``) and one by GOLD rejection per ``p.ps``; each bank's
    fitting capacity on ``test`` and, with ``fid``, its FID. One record per bank; banks saved under ``folder``."""
    from ganlab.gold.capacity import final_capacity

    stats = rejection_stats(
        G, D, p.n_stats, batch_size=p.rejection_batch, seed=seed + 1, device=device, mode=p.rejection_stats
    )
    banks = [("random", None)] if "random" in p.variants else []
    banks += [(f"gold_p{q:g}", q) for q in p.ps] if "gold" in p.variants else []
    records = []
    for name, q in banks:
        res = gold_rejection_sample(
            G,
            D,
            p.n_bank,
            p=q if q is not None else 0.5,
            reject=q is not None,
            stats=stats,
            batch_size=p.rejection_batch,
            max_batches_per_class=p.max_batches_per_class,
            seed=seed,
            device=device,
        )
        save_bank(res, folder / f"bank_{name}_seed{seed}.npz", folder / f"bank_{name}_seed{seed}.png")
        bank = (res.images, res.labels)
        cap = final_capacity(G, test, num_classes=num_classes, seed=seed, device=device, bank=bank, **p.capacity)
        rec = {"variant": name, "p": q, "fitting_capacity": cap["cap_test"], "n_test": cap["n_test"]}
        rec["rejection_stats"] = p.rejection_stats
        keep = ("acceptance_rate", "accepted_per_s", "n")
        rec.update({k: v for k, v in res.summary().items() if k in keep})
        if q is not None:  # M and the sigma ratio of eq. 6 the bank was drawn with
            rec.update(stats_log_m=stats["log_m"], stats_ratio=stats["ratio"])
        if fid is not None:
            rec.update(fid(res.images.to(device) if res.images.ndim == 4 else res.images, device))
        rec["protocol"] = f"fixed bank of {res.summary()['n']}, LeNet-32 {cap['protocol']['epochs']} epochs"
        if fid is not None:
            rec["protocol"] += f"; FID on {fid.name} features"
        records.append(rec)
    return records
