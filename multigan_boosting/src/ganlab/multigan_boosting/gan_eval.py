"""GAN metrics of Slim (2020): intra-class MS-SSIM (§4.3, Tables 2 and 4), the "5k" FID (footnote 8, Appendix A.2),
and the t-SNE sheets of Figure 1 (real vs generated features) and Figure 2 (weight distribution within a class).

Every number is returned as a record that names its protocol, so a 5k FID is never mistaken for a 50k one.

* **5k FID**: 5,000 generated images, class-sequential (500 per class for 10 classes, in batches of 50 as the public
  ``sample.py`` does when 5,000 is not a multiple of its batch 64), each batch from one generator of the ensemble
  (chosen uniformly or with the ensemble weights), against 5,000 test images; Fréchet distance of the two feature
  Gaussians. Train-vs-test CIFAR-10 under this protocol is 10.31 in the report (small-sample bias: not comparable
  with 50k FIDs).
* **MS-SSIM**: core's 32×32-capable MS-SSIM (TF semantics), 200 random distinct same-class pairs per class, mean
  and std over classes, ×100.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError

__all__ = [
    "class_sequential_samples",
    "fid_5k",
    "intra_class_msssim",
    "tsne",
    "tsne_samples_figure",
    "tsne_weights_figure",
]

FID_PROTOCOL = (
    "'5k' protocol, n={n}: {n} generated (class-sequential, {per} per class, batch {b}, one generator per batch) "
    "vs {m} test"
)
MSSSIM_PROTOCOL = "intra-class MS-SSIM x100: {p} random same-class pairs per class, TF-style 32x32 windows"


@torch.no_grad()
def class_sequential_samples(
    generators: Any,
    n: int = 5000,
    *,
    batch_size: int = 50,
    weights: Sequence[float] | None = None,
    psi: float | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``n`` images, ``n / K`` per class in class order, in batches of ``batch_size`` that never straddle a class,
    each batch from one generator (an ``Ensemble`` or a list / single conditional G). Returns (images, labels, the
    generator index of every image)."""
    from ganlab.multigan_boosting.ensemble import Ensemble
    from ganlab.multigan_boosting.synthetic import truncated_normal

    ens = generators if isinstance(generators, Ensemble) else None
    if ens is None:
        gens = list(generators) if isinstance(generators, (list, tuple)) else [generators]
        ens = Ensemble(gens, weights, seed=seed)
    k = ens.num_classes
    if n % k or (n // k) % batch_size:
        raise ConfigError(f"{n} samples must be {k} classes x a multiple of batch {batch_size} (5000 = 10 x 10 x 50)")
    dev = torch.device(device) if device is not None else ens.device
    g = torch.Generator().manual_seed(int(seed))
    images, labels, owners = [], [], []
    for c in range(k):
        for _ in range(n // k // batch_size):
            i = ens.choose()
            G = ens.generators[i]
            z = truncated_normal((batch_size, G.z_dim), psi, g)
            y = torch.full((batch_size,), c, dtype=torch.long)
            images.append(G(z.to(dev), y=y.to(dev)).float().cpu())
            labels.append(y)
            owners.append(np.full(batch_size, i))
    return torch.cat(images), torch.cat(labels), np.concatenate(owners)


def fid_5k(
    generators: Any,
    test_images: torch.Tensor,
    extractor: Any,
    *,
    n: int = 5000,
    n_test: int = 5000,
    batch_size: int = 50,
    weights: Sequence[float] | None = None,
    psi: float | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """The report's "5k" FID of a generator or ensemble against the first ``n_test`` test images."""
    from ganlab.core.features import extract_features, get_extractor
    from ganlab.core.metrics.fid import fid_from_features

    ext = get_extractor(extractor) if isinstance(extractor, str) else extractor
    if len(test_images) < n_test:
        raise ConfigError(f"the 5k FID needs {n_test} test images, got {len(test_images)}")
    x, y, owner = class_sequential_samples(
        generators, n, batch_size=batch_size, weights=weights, psi=psi, seed=seed, device=device
    )
    dev = device if device is not None else "cpu"
    fake = extract_features(ext, x, device=dev, progress=False, quantize=True)
    real = extract_features(ext, test_images[:n_test], device=dev, progress=False)
    counts = np.bincount(y.numpy()).tolist()
    return {
        "metric": "fid_5k",
        "value": float(fid_from_features(real, fake)),
        "protocol": FID_PROTOCOL.format(n=n, per=n // len(counts), b=batch_size, m=n_test),
        "extractor": getattr(ext, "name", str(extractor)),
        "psi": psi,
        "per_class_counts": counts,
        "per_generator_counts": np.bincount(owner).tolist(),
    }


def intra_class_msssim(images: torch.Tensor, labels: Any, n_pairs: int = 200, seed: int = 0) -> dict[str, Any]:
    """The report's MS-SSIM diversity (×100, lower = more diverse) with its protocol; images in [-1, 1]."""
    from ganlab.core.metrics.msssim import intra_class_ms_ssim

    res = intra_class_ms_ssim(images, labels, n_pairs=n_pairs, seed=seed, data_range=2.0)
    return {
        "metric": "ms_ssim_x100",
        "value": res["mean"],
        "std": res["std"],
        "protocol": MSSSIM_PROTOCOL.format(p=n_pairs),
        "per_class": {str(k): v for k, v in res["per_class"].items()},
    }


# ------------------------------------------------------------------------------------------------------ t-SNE
def tsne(features: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-d scikit-learn t-SNE of (n, d) features (PCA init); perplexity capped below n."""
    from sklearn.manifold import TSNE

    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[0] < 4:
        raise ConfigError(f"t-SNE needs (n >= 4, d) features, got shape {f.shape}")
    p = min(perplexity, (f.shape[0] - 1) / 3.0)
    return TSNE(n_components=2, perplexity=p, init="pca", random_state=seed).fit_transform(f)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tsne_samples_figure(
    real_features: np.ndarray,
    real_labels: Any,
    fake_features: np.ndarray,
    fake_labels: Any,
    path: str | Path,
    *,
    seed: int = 0,
    title: str = "t-SNE of classifier features",
) -> Path:
    """Figure 1: one joint t-SNE of real and generated features, two panels (real | generated), coloured by class."""
    plt = _plt()
    n_real = len(real_features)
    emb = tsne(np.concatenate([np.asarray(real_features), np.asarray(fake_features)]), seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), sharex=True, sharey=True)
    for ax, part, lab, name in (
        (axes[0], emb[:n_real], np.asarray(real_labels), "real"),
        (axes[1], emb[n_real:], np.asarray(fake_labels), "generated"),
    ):
        sc = ax.scatter(part[:, 0], part[:, 1], c=lab, cmap="tab10", s=4, vmin=0, vmax=9)
        ax.set_title(name)
    fig.colorbar(sc, ax=axes, label="class")
    fig.suptitle(title)
    return _save(fig, path)


def tsne_weights_figure(
    features: np.ndarray,
    panels: dict[str, np.ndarray],
    path: str | Path,
    *,
    seed: int = 0,
    title: str = "t-SNE of one class, coloured by Algorithm 1 weight",
) -> Path:
    """Figure 2: a class's real features in t-SNE, one panel per weight vector (e.g. A_mu thresholded and C)."""
    plt = _plt()
    emb = tsne(features, seed=seed)
    fig, axes = plt.subplots(len(panels), 1, figsize=(6, 5 * len(panels)), squeeze=False)
    for ax, (name, w) in zip(axes[:, 0], panels.items(), strict=True):
        sc = ax.scatter(emb[:, 0], emb[:, 1], c=np.asarray(w), cmap="viridis", s=6)
        fig.colorbar(sc, ax=ax, label="weight")
        ax.set_title(name)
    fig.suptitle(title)
    return _save(fig, path)


def weights_histogram(weights: np.ndarray, labels: Any, path: str | Path, title: str = "Algorithm 1 weights") -> Path:
    """Per-class histograms of the weights (one line per class)."""
    plt = _plt()
    w, y = np.asarray(weights), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(float(w.min()), float(w.max()) + 1e-12, 31)
    for k in np.unique(y):
        ax.hist(w[y == k], bins=bins, histtype="step", label=str(k))
    ax.set_xlabel("weight")
    ax.set_ylabel("real images")
    ax.legend(title="class", fontsize=6, ncol=2)
    ax.set_title(title)
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    import io

    from ganlab.core.fileio import atomic_write_bytes

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    _plt().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path
