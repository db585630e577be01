"""Reconstruction error (RE) of real images under an auto-encoder trained on generated images (Dia-GAN, Table 5).

Protocol of the Dia-GAN code (``train_cae.py``, ``eval_ae_score.py``): a CAE32 auto-encoder is trained on 50,000
generated images (quantised to uint8, re-normalised to [-1, 1]) for 50 epochs, batch 128, MSE loss,
Adam(lr 1e-3, eps 1e-7, weight decay 5e-4). Each real image gets

    RE(x) = sqrt(sum((CAE(x) - x)^2)) / 32

on [-1, 1] tensors, with the CAE in eval mode; Table 5 reports the mean RE over the minor group. A real region
that the generator never produces reconstructs badly, so a higher RE on a group means that group is missed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.core.features.extract import check_images
from ganlab.core.nn.classifiers import CAE32

__all__ = ["reconstruction_errors", "train_cae", "generate_uint8", "reconstruction_error"]

#: the reference divides by 32 for its 32x32 images
RE_NORM = 32.0


def _device(device: torch.device | str | None) -> torch.device:
    from ganlab.core.features.classifier import _default_device

    return torch.device(device) if device is not None else _default_device()


@torch.no_grad()
def reconstruction_errors(
    cae: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 500, norm: float = RE_NORM
) -> np.ndarray:
    """Per-image RE(x) = ||CAE(x) - x||_2 / norm (norm 32, Dia-GAN), with ``cae`` in eval mode. Returns (N,)."""
    images = torch.as_tensor(images)
    check_images(images, "real images")
    was_training = cae.training
    cae.eval()
    device = next(cae.parameters()).device
    out = np.empty(len(images), dtype=np.float64)
    for s in range(0, len(images), batch_size):
        x = images[s : s + batch_size].to(device, torch.float32)
        err = (cae(x) - x).double().flatten(1).pow(2).sum(1).sqrt() / norm
        out[s : s + len(x)] = err.cpu().numpy()
    cae.train(was_training)
    return out


def generate_uint8(fn: Callable[[int], torch.Tensor], n: int, batch_size: int = 500) -> torch.Tensor:
    """``n`` generated images stored as uint8 (N, C, H, W): 1/4 of the float memory, and the PNG quantisation."""
    chunks = []
    done = 0
    with torch.no_grad():
        while done < n:
            k = min(batch_size, n - done)
            x = fn(k)
            check_images(x, "generated images")
            chunks.append(torch.floor((x.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).cpu())
            done += k
    return torch.cat(chunks)


def train_cae(
    images: torch.Tensor,
    *,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 1e-3,
    eps: float = 1e-7,
    weight_decay: float = 5e-4,
    nf: int = 64,
    latent_dim: int = 256,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> tuple[CAE32, list[float]]:
    """Train CAE32 with MSE on ``images`` (uint8, or float in [-1, 1]); returns the CAE (eval mode) and epoch losses."""
    from tqdm.auto import tqdm

    images = torch.as_tensor(images)
    if images.ndim != 4 or tuple(images.shape[-2:]) != (32, 32):
        raise ShapeError(f"CAE32 trains on (N, C, 32, 32) images, got {tuple(images.shape)}; use resolution=32")
    if images.dtype != torch.uint8:
        check_images(images, "training images")
    device = _device(device)
    torch.manual_seed(seed)
    cae = CAE32(in_channels=images.shape[1], nf=nf, latent_dim=latent_dim).to(device).train()
    opt = torch.optim.Adam(cae.parameters(), lr=lr, eps=eps, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in tqdm(range(epochs), desc="train CAE", disable=not progress, leave=False):
        perm = torch.randperm(len(images), generator=g)
        total, count = 0.0, 0
        for s in range(0, len(images), batch_size):
            x = images[perm[s : s + batch_size]].to(device)
            x = x.float() / 127.5 - 1 if x.dtype == torch.uint8 else x.float()
            loss = F.mse_loss(cae(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
            count += len(x)
        losses.append(total / count)
    return cae.eval(), losses


def reconstruction_error(
    generated: Callable[[int], torch.Tensor] | torch.Tensor,
    real_images: torch.Tensor,
    *,
    groups: np.ndarray | None = None,
    n_fake: int = 50_000,
    quantize: bool = True,
    epochs: int = 50,
    batch_size: int = 128,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
    **cae_options: Any,
) -> dict[str, Any]:
    """Dia-GAN's RE metric: train CAE32 on generated images, then RE of every real image.

    ``generated``: ``fn(batch_size) -> images`` (``n_fake`` are drawn) or a tensor of generated images.
    ``groups``: optional per-real-image group ids; the result then holds ``re_group<g>`` means (Table 5 reports the
    minor group). Returns ``{"re_mean", "re_group<g>"..., "per_image": (N,) array, "cae_loss": last epoch MSE}``.
    """
    real_images = torch.as_tensor(real_images)
    check_images(real_images, "real images")
    if callable(generated) and not torch.is_tensor(generated):
        fake = generate_uint8(generated, n_fake)
    else:
        fake = torch.as_tensor(generated)
        check_images(fake, "generated images")
        fake = torch.floor((fake.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8) if quantize else fake
    if not quantize and fake.dtype == torch.uint8:
        raise ConfigError("quantize=False needs float generated images, not a generator function")
    if fake.shape[1:] != real_images.shape[1:]:
        raise ShapeError(f"generated images {tuple(fake.shape[1:])} and real images {tuple(real_images.shape[1:])}")
    cae, losses = train_cae(
        fake, epochs=epochs, batch_size=batch_size, seed=seed, device=device, progress=progress, **cae_options
    )
    per_image = reconstruction_errors(cae, real_images)
    out: dict[str, Any] = {"re_mean": float(per_image.mean()), "per_image": per_image, "cae_loss": losses[-1]}
    out["n_fake"] = int(len(fake))
    out["n_real"] = int(len(real_images))
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(per_image):
            raise ShapeError(f"{len(groups)} group ids for {len(per_image)} real images")
        for gid in np.unique(groups):
            out[f"re_group{int(gid)}"] = float(per_image[groups == gid].mean())
    return out
