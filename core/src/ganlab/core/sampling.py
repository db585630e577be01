"""Post-hoc sampling shared by several papers: the truncation trick, discriminator rejection sampling (DRS), and
drawing samples from a trained generator with either.

- :func:`truncated_normal`: z from N(0, I) restricted to ``[-psi, psi]``, either by BigGAN's resampling of the
  entries that fall outside (Brock et al. 2019, §3.1) or by ``scipy.stats.truncnorm`` (the multi-GAN report's
  ``--truncate psi``). Both draw from the same distribution, a unit normal truncated to ``[-psi, psi]``.
- :class:`DRS` / :func:`drs_sample`: Azadi et al. (2019), Algorithm 1, with the settings of Dia-GAN's reference
  code: burn-in estimate of ``M`` over 50 batches of 256, ``M`` updated online, ``F = l - log(1 - exp(l - eps))``,
  ``gamma`` the 80th percentile of ``F`` per batch, acceptance ``sigmoid(F - gamma) > U(0, 1)``.
- :func:`generate_samples`: ``n`` samples of a generator with truncation, a fixed class and/or DRS.

Top-k training (Sinha et al. 2020) changes training, not sampling: it is the ``topk`` method in
:mod:`ganlab.core.train.topk`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import GanlabError

__all__ = ["DRS", "drs_acceptance", "drs_sample", "generate_samples", "truncated_normal"]


# ------------------------------------------------------------------------------------------------- truncation
def truncated_normal(
    n: int,
    dim: int,
    psi: float | None,
    generator: torch.Generator | np.random.Generator | int | None = None,
    *,
    method: str = "resample",
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``(n, dim)`` float32 draws of a unit normal truncated to ``[-psi, psi]``.

    ``method="resample"`` redraws out-of-range entries until none is left (BigGAN); ``method="scipy"`` calls
    ``scipy.stats.truncnorm.rvs(-psi, psi)`` (the multi-GAN report). ``psi=None`` (or inf) gives plain N(0, I).
    ``generator`` is a torch.Generator (resample) or a numpy Generator / int seed (scipy); a torch.Generator given to
    the scipy method seeds a numpy Generator from it, so one generator drives both.
    """
    if psi is not None and not psi > 0:
        raise GanlabError(f"truncation psi must be > 0 (or None for no truncation), got {psi}")
    if method not in ("resample", "scipy"):
        raise GanlabError(f"unknown truncation method {method!r}; choose 'resample' or 'scipy'")
    if method == "scipy" and psi is not None and math.isfinite(psi):
        from scipy.stats import truncnorm

        if isinstance(generator, torch.Generator):
            generator = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        rng = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)
        z = truncnorm.rvs(-psi, psi, size=(n, dim), random_state=rng)
        return torch.as_tensor(z, dtype=torch.float32, device=device)
    gen = generator if isinstance(generator, torch.Generator) else None
    if gen is None and generator is not None:
        gen = torch.Generator().manual_seed(int(generator))
    gen_device = gen.device if gen is not None else torch.device("cpu")
    z = torch.randn(n, dim, generator=gen, device=gen_device)
    if psi is not None and math.isfinite(psi):
        # Redraw only the offending entries; each round keeps P(|z| <= psi) of them, so few rounds are needed.
        bad = z.abs() > psi
        while bool(bad.any()):
            z[bad] = torch.randn(int(bad.sum()), generator=gen, device=gen_device)
            bad = z.abs() > psi
    return z.to(device) if device is not None else z


# -------------------------------------------------------------------------------------------------------- DRS
def drs_acceptance(
    logits: torch.Tensor, log_m: float, *, gamma: float | None = None, percentile: float = 80.0, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Acceptance probabilities of DRS (Azadi et al. 2019, Eq. 8) for one batch of D logits.

    ``l = logit - log M``; ``F = l - log(1 - exp(l - eps))``; ``gamma`` is the ``percentile``-th percentile of ``F``
    in the batch unless given; the acceptance probability is ``sigmoid(F - gamma)``. Returns (probabilities, F,
    gamma), in float64. ``gamma = 0`` gives ``sigmoid(F) ~ exp(l)``, i.e. exact rejection sampling when the logit is
    the true log density ratio.
    """
    shifted = logits.detach().double().flatten() - float(log_m)
    if bool((shifted > 0).any()):
        raise GanlabError("DRS: a logit exceeds log M; update M with the batch maximum before computing acceptance")
    f = shifted - torch.log(-torch.expm1(shifted - eps))  # log(1 - exp(x)) = log(-expm1(x)), stable near x = 0
    if gamma is None:
        gamma = float(np.percentile(f.cpu().numpy(), percentile))
    return torch.sigmoid(f - gamma), f, float(gamma)


def _select(batch: Any, keep: torch.Tensor) -> Any:
    if isinstance(batch, dict):
        return {k: (v[keep.to(v.device)] if torch.is_tensor(v) and v.ndim > 0 else v) for k, v in batch.items()}
    return batch[keep.to(batch.device)]


def _cat(parts: list[Any]) -> Any:
    if isinstance(parts[0], dict):
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0] if torch.is_tensor(parts[0][k])}
    return torch.cat(parts)


def _length(batch: Any) -> int:
    if isinstance(batch, dict):
        return len(next(v for v in batch.values() if torch.is_tensor(v)))
    return len(batch)


class DRS:
    """Discriminator rejection sampling (Azadi et al. 2019, Algorithm 1).

    ``sample_fn(batch_size)`` returns a batch of fakes (a tensor, or a dict of tensors such as ``{"image", "label"}``)
    and ``logit_fn(batch)`` returns D's logits (B,) for it; call both with G and D in eval mode. ``M`` (as ``log_m``,
    the maximal logit) is estimated over ``burn_in`` batches and raised whenever a later batch exceeds it.
    """

    def __init__(
        self,
        sample_fn: Callable[[int], Any],
        logit_fn: Callable[[Any], torch.Tensor],
        *,
        batch_size: int = 256,
        burn_in: int = 50,
        percentile: float = 80.0,
        gamma: float | None = None,
        eps: float = 1e-6,
        generator: torch.Generator | None = None,
        max_batches: int = 1_000_000,
    ) -> None:
        self.sample_fn, self.logit_fn = sample_fn, logit_fn
        self.batch_size, self.burn_in_batches = batch_size, burn_in
        self.percentile, self.gamma, self.eps = percentile, gamma, eps
        self.generator = generator
        self.max_batches = max_batches
        self.log_m: float | None = None
        self.n_proposed = 0
        self.n_accepted = 0

    @property
    def acceptance_rate(self) -> float:
        return self.n_accepted / max(self.n_proposed, 1)

    @torch.no_grad()
    def burn_in(self) -> float:
        """Estimate ``log M`` as the maximal logit over ``burn_in`` batches (12,800 fakes by default)."""
        for _ in range(self.burn_in_batches):
            logits = self.logit_fn(self.sample_fn(self.batch_size)).detach().double().flatten()
            self._raise_m(logits)
        if self.log_m is None:
            raise GanlabError("DRS burn-in needs at least one batch (burn_in >= 1)")
        return self.log_m

    def _raise_m(self, logits: torch.Tensor) -> None:
        top = float(logits.max())
        self.log_m = top if self.log_m is None else max(self.log_m, top)

    @torch.no_grad()
    def sample(self, n: int) -> Any:
        """Draw batches until ``n`` fakes were accepted; returns the first ``n`` (same type as ``sample_fn``'s)."""
        if self.log_m is None:
            self.burn_in()
        parts, have = [], 0
        for _ in range(self.max_batches):
            if have >= n:
                break
            batch = self.sample_fn(self.batch_size)
            logits = self.logit_fn(batch).detach().double().flatten()
            self._raise_m(logits)  # the online update of M, before this batch's acceptance
            prob, _, _ = drs_acceptance(logits, self.log_m, gamma=self.gamma, percentile=self.percentile, eps=self.eps)
            u = torch.rand(prob.shape, generator=self.generator, dtype=torch.float64)
            keep = (prob.cpu() > u).nonzero().flatten()
            self.n_proposed += len(prob)
            self.n_accepted += len(keep)
            if len(keep):
                parts.append(_select(batch, keep))
                have += len(keep)
        else:
            if have < n:
                raise GanlabError(f"DRS accepted only {have} of {n} samples in {self.max_batches} batches")
        out = _cat(parts)
        return _select(out, torch.arange(n)) if _length(out) > n else out


def drs_sample(
    sample_fn: Callable[[int], Any],
    logit_fn: Callable[[Any], torch.Tensor],
    n: int,
    *,
    batch_size: int = 256,
    burn_in: int = 50,
    percentile: float = 80.0,
    eps: float = 1e-6,
    gamma: float | None = None,
    generator: torch.Generator | None = None,
) -> Any:
    """``n`` samples accepted by DRS (see :class:`DRS`; Dia-GAN reference settings by default)."""
    drs = DRS(
        sample_fn,
        logit_fn,
        batch_size=batch_size,
        burn_in=burn_in,
        percentile=percentile,
        gamma=gamma,
        eps=eps,
        generator=generator,
    )
    return drs.sample(n)


# ------------------------------------------------------------------------------------------------ generation
def generate_samples(
    G: torch.nn.Module,
    n: int,
    *,
    batch_size: int = 256,
    truncation: float | None = None,
    truncation_method: str = "resample",
    label: int | None = None,
    drs_critic: torch.nn.Module | None = None,
    drs_options: dict[str, Any] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, torch.Tensor]:
    """``n`` samples ``{"image", "label"}`` from G (truncated z, a fixed class, and/or DRS with ``drs_critic``)."""
    if int(n) < 1:
        raise GanlabError(f"the number of samples must be >= 1, got {n}")
    if int(batch_size) < 1:
        raise GanlabError(f"the batch size must be >= 1, got {batch_size}")
    gen = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    if label is not None and not 0 <= int(label) < max(num_classes, 1):
        raise GanlabError(f"class {label} is outside [0, {num_classes}) of this generator")

    @torch.no_grad()
    def sample_fn(k: int) -> dict[str, torch.Tensor]:
        z = truncated_normal(k, G.z_dim, truncation, generator=gen, method=truncation_method).to(device)
        y = None
        if num_classes:
            y = torch.full((k,), label) if label is not None else torch.randint(0, num_classes, (k,), generator=gen)
            y = y.to(device)
        out = {"image": G(z, y=y).float()}
        if y is not None:
            out["label"] = y
        return out

    if drs_critic is None:
        parts = [sample_fn(min(batch_size, n - i)) for i in range(0, n, batch_size)]
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    @torch.no_grad()
    def logit_fn(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return drs_critic(batch["image"], y=batch.get("label"))["adv"].flatten()

    opts = {"batch_size": batch_size, **(drs_options or {})}
    drs = DRS(sample_fn, logit_fn, generator=gen, **opts)
    out = drs.sample(n)
    out["drs_acceptance"] = torch.tensor(drs.acceptance_rate)
    return out
