"""Evaluation against the ORIGINAL training distribution (Section 4.1): FID and P/R/D/C with K = 5.

"Using the distribution produced after instance selection would unfairly favour the evaluation of instance
selection": the reference here is always a full dataset. :func:`evaluate_generator` refuses a subset view
(``SubsetDataset``) as reference unless ``allow_subset_reference=True`` is passed explicitly, and
:func:`reference_dataset` rebuilds the dataset from the training config, where selection never enters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError


def reference_dataset(data_cfg: Any) -> Any:
    """The full, unselected dataset named by a training config's ``data`` section."""
    from ganlab.core.data import get_dataset

    return get_dataset(
        data_cfg.name, root=data_cfg.root, split=data_cfg.split, resolution=data_cfg.resolution, **data_cfg.options
    )


def check_reference(reference: Any, allow_subset_reference: bool = False) -> None:
    """Refuse a subset (e.g. the kept instances) as the evaluation reference."""
    from ganlab.core.data import SubsetDataset

    if isinstance(reference, SubsetDataset) and not allow_subset_reference:
        raise ConfigError(
            "the evaluation reference is a subset of the data; the paper evaluates against the original, unselected "
            "training distribution (pass the full dataset, or allow_subset_reference=True to do otherwise on purpose)"
        )


def fake_source(
    G: torch.nn.Module,
    *,
    num_classes: int,
    z_dim: int,
    device: Any,
    psi: float | None = None,
    truncation_mode: str = "scale",
    seed: int = 0,
    labels: int | None = None,
) -> Callable[[int], torch.Tensor]:
    """``fn(batch_size) -> images`` with uniform class labels (or the fixed class ``labels``) for a conditional G.

    Truncation (Figure 5) at threshold ``psi``: ``scale`` draws z = psi * N(0, I), what BigGAN-PyTorch's
    ``--sample_trunc_curves`` (the official code's fork) sweeps (its ``z_.var`` is passed to ``normal_`` as the
    standard deviation), so psi = 1 is the untruncated model; ``resample`` redraws entries outside [-psi, psi].
    """
    from ganlab.core.sampling import truncated_normal

    if truncation_mode not in ("scale", "resample"):
        raise ConfigError(f"truncation_mode must be 'scale' or 'resample', got {truncation_mode!r}")
    gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def fn(batch_size: int) -> torch.Tensor:
        if truncation_mode == "scale" or psi is None:
            z = torch.randn(batch_size, z_dim, generator=gen) * (1.0 if psi is None else float(psi))
        else:
            z = truncated_normal(batch_size, z_dim, psi, generator=gen)
        y = None
        if num_classes:
            if labels is None:
                y = torch.randint(0, num_classes, (batch_size,), generator=gen)
            else:
                y = torch.full((batch_size,), int(labels), dtype=torch.long)
            y = y.to(device)
        return G(z.to(device), y=y).float().clamp(-1, 1)

    return fn


def prdc_metrics(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    from ganlab.core.metrics.prdc import prdc

    return {key: float(v) for key, v in prdc(real, fake, k=k).items()}


def evaluate_features(
    real: np.ndarray, fake: np.ndarray, *, k: int = 5, n_prdc: int | None = 10_000
) -> dict[str, float]:
    """FID on all features; P/R/D/C (K = ``k``) on the first ``n_prdc`` of each (10k in the paper)."""
    from ganlab.core.metrics.fid import fid_from_features

    out = {"fid": float(fid_from_features(real, fake))}
    rp, fp = (real, fake) if n_prdc is None else (real[:n_prdc], fake[:n_prdc])
    out.update(prdc_metrics(rp, fp, k=k))
    return out


def evaluate_generator(
    G: torch.nn.Module,
    reference: Any,
    extractor: Any,
    *,
    n_fake: int,
    real_features: np.ndarray | None = None,
    num_classes: int = 0,
    z_dim: int = 128,
    device: Any = "cpu",
    psi: float | None = None,
    truncation_mode: str = "scale",
    seed: int = 0,
    k: int = 5,
    n_prdc: int | None = 10_000,
    batch_size: int = 100,
    allow_subset_reference: bool = False,
    cache_dir: Any = None,
) -> dict[str, float]:
    """FID/P/R/D/C of ``G`` against the full ``reference`` dataset in ``extractor``'s feature space."""
    from ganlab.core.features import extract_features
    from ganlab.core.metrics.fid import fid_from_features

    check_reference(reference, allow_subset_reference)
    if real_features is None:
        real_features = extract_features(
            extractor, reference, batch_size=batch_size, cache_dir=cache_dir, progress=False
        )
    # P/R/D/C compare equally many real and fake samples (10k each in the paper)
    rng = np.random.default_rng(seed)
    real_prdc = real_features[rng.permutation(len(real_features))]
    was_training = G.training
    G.eval()
    try:
        fn = fake_source(
            G, num_classes=num_classes, z_dim=z_dim, device=device, psi=psi, truncation_mode=truncation_mode, seed=seed
        )
        fake = extract_features(extractor, fn, n=n_fake, batch_size=batch_size, device=device, progress=False)
    finally:
        G.train(was_training)
    n_p = min(len(real_prdc), len(fake), n_prdc or len(fake))
    out = {"fid": float(fid_from_features(real_features, fake))}
    out.update(prdc_metrics(real_prdc[:n_p], fake[:n_p], k=k))
    return out
