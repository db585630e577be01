"""The StyleGAN2 training recipe as plain functions: losses, regularisers, style mixing, truncation, lazy reg.

* non-saturating logistic loss: D minimises ``softplus(D(G(z))) + softplus(-D(x))``, G minimises
  ``softplus(-D(G(z)))`` (per sample);
* R1 (Mescheder et al. 2018): ``gamma / 2 * E ||grad_x D(x)||^2`` on reals;
* path-length regulariser (paper §3.2): ``E (||J_w^T y||_2 - a)^2`` with ``y ~ N(0, I) / sqrt(H W)`` and ``a`` the
  running mean of the lengths (decay 0.01), weight 2;
* style mixing (probability 0.9): the ws from a second latent replace the first's from a random crossover index on;
* truncation in W: ``w_avg + psi (w - w_avg)``;
* lazy regularisation (paper §3.1): a regulariser computed every ``interval`` minibatches is scaled by ``interval``,
  and Adam's ``lr`` and ``betas`` are raised to / multiplied by ``c = interval / (interval + 1)``.

None of these touch a trainer; a training loop calls them (R1 every 16 D steps, path length every 4 G steps).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ConfigError, ShapeError

__all__ = [
    "MIXING_PROB",
    "PL_DECAY",
    "PL_WEIGHT",
    "PathLengthPenalty",
    "R1_INTERVAL",
    "PL_INTERVAL",
    "ema_beta",
    "lazy_adam",
    "lazy_regularization",
    "mix_styles",
    "ns_d_loss",
    "ns_g_loss",
    "r1_loss",
    "r1_penalty",
    "style_mixing_ws",
    "truncate",
]

R1_INTERVAL = 16  # D regularised every 16 minibatches
PL_INTERVAL = 4  # G regularised every 4 minibatches
PL_WEIGHT = 2.0
PL_DECAY = 0.01
PL_BATCH_SHRINK = 2  # the path-length batch is half the training batch
MIXING_PROB = 0.9


# ------------------------------------------------------------------------------------------------- losses
def ns_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Per-sample D loss ``softplus(-D(x)) + softplus(D(G(z)))`` (= -log sigmoid(real) - log(1 - sigmoid(fake)))."""
    if real_logits.shape != fake_logits.shape:
        raise ShapeError(f"real and fake logits differ in shape: {tuple(real_logits.shape)} vs {fake_logits.shape}")
    return F.softplus(-real_logits) + F.softplus(fake_logits)


def ns_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Per-sample non-saturating G loss ``softplus(-D(G(z)))`` (= -log sigmoid)."""
    return F.softplus(-fake_logits)


# -------------------------------------------------------------------------------------------------- R1
def r1_penalty(real_images: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """Per-sample ``||grad_x D(x)||^2`` (B,); ``real_images`` must have ``requires_grad`` set before D is run."""
    if not real_images.requires_grad:
        raise ConfigError("r1_penalty: call real_images.requires_grad_(True) before computing D(real_images)")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.square().flatten(1).sum(dim=1)


def r1_loss(real_images: torch.Tensor, real_logits: torch.Tensor, gamma: float, interval: int = 1) -> torch.Tensor:
    """``gamma / 2 * mean(R1) * interval``: the term added to D's loss every ``interval`` D steps."""
    return r1_penalty(real_images, real_logits).mean() * (gamma / 2) * interval


# ------------------------------------------------------------------------------------------- path length
class PathLengthPenalty(nn.Module):
    """Path-length regulariser with its running mean ``pl_mean`` (a buffer, so it is checkpointed).

    ``forward(images, ws, noise=None) -> (penalty, lengths)``:
    ``lengths_b = sqrt(mean_i ||d(<img_b, y_b>)/d ws_bi||^2)`` over the ``num_ws`` rows of ws (B, num_ws, w_dim),
    ``y`` ~ N(0, I) / sqrt(H W) unless given;
    ``pl_mean <- pl_mean + decay (mean(lengths) - pl_mean)`` and ``penalty = mean((lengths - pl_mean)^2)``
    with the updated mean. The loss term is ``weight * penalty * interval``. For the official recipe pass the
    synthesis output before the output activation (``G.synthesis(ws)``).
    """

    def __init__(self, decay: float = PL_DECAY, weight: float = PL_WEIGHT) -> None:
        super().__init__()
        self.decay, self.weight = decay, weight
        self.register_buffer("pl_mean", torch.zeros(()))

    def forward(self, images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor | None = None, reduce=None):
        """``reduce`` (optional) maps this batch's mean length to the one that updates ``pl_mean``, e.g. its mean over
        all processes, so that every process keeps the same running mean."""
        if ws.ndim != 3:
            raise ShapeError(f"path length: ws must be (B, num_ws, w_dim), got {tuple(ws.shape)}")
        if noise is None:
            noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
        lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()
        with torch.no_grad():
            batch_mean = lengths.detach().mean()
            if reduce is not None:
                batch_mean = reduce(batch_mean)
            self.pl_mean.add_(self.decay * (batch_mean - self.pl_mean))
        penalty = (lengths - self.pl_mean).square().mean()
        return penalty, lengths.detach()

    def loss(self, images: torch.Tensor, ws: torch.Tensor, interval: int = 1, noise=None) -> torch.Tensor:
        """``weight * penalty * interval``: the term added to G's loss every ``interval`` G steps."""
        return self(images, ws, noise)[0] * self.weight * interval

    def extra_repr(self) -> str:
        return f"decay={self.decay}, weight={self.weight}"


# ------------------------------------------------------------------------------------ style mixing, truncation
def mix_styles(ws: torch.Tensor, ws2: torch.Tensor, cutoff: int) -> torch.Tensor:
    """ws (B, num_ws, w_dim) with the rows from ``cutoff`` on taken from ``ws2``."""
    if ws.shape != ws2.shape:
        raise ShapeError(f"mix_styles: ws {tuple(ws.shape)} and ws2 {tuple(ws2.shape)} differ")
    if not 0 <= cutoff <= ws.shape[1]:
        raise ConfigError(f"mix_styles: cutoff must lie in [0, {ws.shape[1]}], got {cutoff}")
    out = ws.clone()
    out[:, cutoff:] = ws2[:, cutoff:]
    return out


def style_mixing_ws(
    G,
    z: torch.Tensor,
    y: torch.Tensor | None = None,
    feat: torch.Tensor | None = None,
    *,
    prob: float = MIXING_PROB,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, int]:
    """The training-time ws of a StyleGAN2 generator: with probability ``prob`` one crossover index ``k`` is drawn
    uniformly from 1 .. num_ws - 1 for the batch and rows k.. come from a second latent (same conditions); else
    ``k = num_ws`` (no mixing). Returns ``(ws, k)``. The second mapping does not update ``w_avg``."""
    ws = G.ws(z, y, feat)
    n = ws.shape[1]
    u = torch.rand((), generator=generator).item()
    if prob <= 0 or u >= prob or n < 2:
        return ws, n
    cutoff = int(torch.randint(1, n, (), generator=generator))
    z2 = torch.randn(z.shape, generator=generator).to(z.device, z.dtype)
    ws2 = G.ws(z2, y, feat, update_w_avg=False)
    return mix_styles(ws, ws2, cutoff), cutoff


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """``w_avg + psi (ws - w_avg)`` on rows ``[:cutoff]`` of ws (B, num_ws, w_dim) (all rows when None), or on
    w (B, w_dim)."""
    if ws.shape[-1] != w_avg.shape[-1]:
        raise ShapeError(f"truncate: w has {ws.shape[-1]} features, w_avg {w_avg.shape[-1]}")
    if ws.ndim == 2 or cutoff is None:
        return w_avg.lerp(ws, psi)
    out = ws.clone()
    out[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], psi)
    return out


# ------------------------------------------------------------------------------------- lazy regularisation
def lazy_regularization(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Adam settings corrected for a regulariser run every ``interval`` steps: with ``c = interval / (interval + 1)``,
    ``(lr * c, (beta1 ** c, beta2 ** c))``; ``interval`` <= 0 (no lazy regularisation) leaves them unchanged."""
    if interval <= 0:
        return lr, tuple(betas)
    c = interval / (interval + 1)
    return lr * c, (betas[0] ** c, betas[1] ** c)


def lazy_adam(
    params: Iterable[nn.Parameter],
    lr: float = 0.002,
    betas: tuple[float, float] = (0.0, 0.99),
    interval: int = R1_INTERVAL,
    eps: float = 1e-8,
) -> torch.optim.Adam:
    """Adam with the lazy-regularisation correction (StyleGAN2 defaults: lr 0.002, betas (0, 0.99), eps 1e-8)."""
    lr, betas = lazy_regularization(lr, betas, interval)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)


def ema_beta(batch_size: int, ema_kimg: float, cur_nimg: int | None = None, rampup: float | None = None) -> float:
    """Per-step decay of the generator EMA with a half-life of ``ema_kimg`` thousand images: 0.5 ** (B / (1000 k)).

    With ``rampup`` (StyleGAN2-ADA: 0.05) the half-life is ``min(1000 k, rampup * cur_nimg)`` images, with
    ``cur_nimg`` the images shown before this step: the average starts as a copy (beta 0) and lengthens with training.
    """
    if ema_kimg <= 0:
        raise ConfigError(f"ema_kimg must be > 0, got {ema_kimg}")
    nimg = ema_kimg * 1000
    if rampup:
        if cur_nimg is None:
            raise ConfigError("ema_beta: a rampup needs cur_nimg (images shown before this step)")
        nimg = min(nimg, cur_nimg * rampup)
    return 0.5 ** (batch_size / max(nimg, 1e-8))
