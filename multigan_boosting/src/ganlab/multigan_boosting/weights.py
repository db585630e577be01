"""Algorithm 1 of Slim (2020, §5.1): per-instance sampling weights of the real set for the next boosted GAN.

For every class k and every real image r of class k, the distance sum to the previous GANs' class-k samples

    d_k(r) = Σ_{g ∈ D_G,k} ||φ(r) − φ(g)||₂        (φ: the 256-d pooled features of the filter ResNet-20-w64)

is normalised within the class, w = (d − d_min) / d_max (min and max over the real class-k items; the report's
"s ∈ D_G,k" is a typo, d_k lives on D_R,k — reference notes §1.5), and a transform f(w; μ_k, σ_k) is applied:

* ``A_mu``:    w ← 0 where w < μ_k;
* ``A_sigma``: w ← 0 where w < μ_k − σ_k;
* ``B``:       w ← sigmoid(2 (w − μ_k) / σ_k);
* ``C``:       identity.

The weights are used as sampling probabilities of the real set (not as loss weights): P(r) = w(r) / Σ w.

Open points of the report, as options (defaults: the reading the reference notes argue for):

* ``synthetic``: which previous GANs' samples form D_G — ``"union"`` of all previous GANs (default; for the first
  boosted GAN it is the base GAN alone, as in the report), or ``"previous"`` (only the last one).
  The choice is made by the caller that collects the synthetic features (:mod:`ganlab.multigan_boosting.boost`).
* ``equalize_class_mass``: False (default, Algorithm 1 as written: w goes straight into the sampler, so a class's
  share is Σ_k w / Σ w); True rescales every class to its share of the real set (exact class balance).

The distance sums are computed in blocks of real rows with the ``||a||² + ||b||² − 2ab`` expansion, so memory is
O(block × n_fake_k) and never the full n_real × n_fake matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import GanlabError, ShapeError

__all__ = [
    "TRANSFORMS",
    "SYNTHETIC_SETS",
    "AlgorithmOneError",
    "ReweightResult",
    "apply_transform",
    "class_distance_sums",
    "extract_features",
    "normalise_distances",
    "sample_weights",
]

TRANSFORMS = ("A_mu", "A_sigma", "B", "C")
SYNTHETIC_SETS = ("union", "previous")


class AlgorithmOneError(GanlabError, ValueError):
    """Bad input to Algorithm 1 (a class without synthetic samples, mismatched features, an unknown transform)."""


def check_transform(name: str) -> str:
    if name not in TRANSFORMS:
        raise AlgorithmOneError(f"unknown weight transform {name!r}; choose one of {', '.join(TRANSFORMS)}")
    return name


def check_synthetic(name: str) -> str:
    if name not in SYNTHETIC_SETS:
        raise AlgorithmOneError(f"unknown synthetic set {name!r}; choose one of {', '.join(SYNTHETIC_SETS)}")
    return name


# ------------------------------------------------------------------------------------------------ distances
def class_distance_sums(
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
    block_size: int = 2048,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """d(r) = Σ_g ||real_r − fake_g||₂ for every row of ``real`` (float64 numpy, shape (n_real,)).

    Blocks of ``block_size`` real rows against all fake rows: peak memory ≈ block_size × n_fake × itemsize.
    Squared distances are clamped at 0 before the square root (rounding of the expansion can go slightly negative).
    """
    dev = torch.device(device) if device is not None else None
    r = torch.as_tensor(real)
    g = torch.as_tensor(fake)
    if r.ndim != 2 or g.ndim != 2 or r.shape[1] != g.shape[1]:
        raise AlgorithmOneError(
            f"features must be (n, dim) with the same dim; got {tuple(r.shape)} and {tuple(g.shape)}"
        )
    if g.shape[0] == 0:
        raise AlgorithmOneError("no synthetic features to measure distances to")
    dev = dev or g.device
    r = r.to(device=dev, dtype=dtype)
    g = g.to(device=dev, dtype=dtype)
    g_sq = (g * g).sum(1)
    out = torch.empty(r.shape[0], dtype=torch.float64, device=dev)
    for s in range(0, r.shape[0], block_size):
        rb = r[s : s + block_size]
        # ||a||² + ||b||² − 2 a·b in one addmm; the block is (block, n_fake)
        d2 = torch.addmm(g_sq.unsqueeze(0), rb, g.T, beta=1.0, alpha=-2.0)
        d2.add_((rb * rb).sum(1, keepdim=True)).clamp_(min=0)
        out[s : s + rb.shape[0]] = d2.sqrt_().sum(1, dtype=torch.float64)
        del d2  # free this block before the next one is allocated (peak = one block, not two)
    return out.cpu().numpy()


def normalise_distances(d: np.ndarray) -> np.ndarray:
    """w = (d − d_min) / d_max within one class (the denominator is d_max, not d_max − d_min, as in the report)."""
    d = np.asarray(d, dtype=np.float64)
    d_max = d.max()
    if d_max <= 0:  # every real item coincides with every synthetic one: no information, all weights 0
        return np.zeros_like(d)
    return (d - d.min()) / d_max


def apply_transform(w: np.ndarray, name: str) -> tuple[np.ndarray, float, float]:
    """f(w; μ_k, σ_k) for one class; returns (transformed w, μ_k, σ_k). σ_k is the population std (ddof 0)."""
    check_transform(name)
    w = np.asarray(w, dtype=np.float64)
    mu, sigma = float(w.mean()), float(w.std())
    if name == "A_mu":
        return np.where(w < mu, 0.0, w), mu, sigma
    if name == "A_sigma":
        return np.where(w < mu - sigma, 0.0, w), mu, sigma
    if name == "B":
        if sigma == 0:  # all weights equal: the sigmoid's limit is the constant 1/2
            return np.full_like(w, 0.5), mu, sigma
        return 1.0 / (1.0 + np.exp(-2.0 * (w - mu) / sigma)), mu, sigma
    return w.copy(), mu, sigma


# ----------------------------------------------------------------------------------------------- Algorithm 1
@dataclass
class ReweightResult:
    """Algorithm 1's output for the whole real set (arrays aligned with the real set's positions)."""

    transform: str
    distances: np.ndarray  # d_k(r)
    normalised: np.ndarray  # (d − d_min) / d_max
    weights: np.ndarray  # f(w), Algorithm 1's w
    probs: np.ndarray  # the sampling distribution over the real set (sums to 1)
    equalize_class_mass: bool
    per_class: dict[int, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        p = self.probs
        return {
            "transform": self.transform,
            "equalize_class_mass": self.equalize_class_mass,
            "n_real": int(p.size),
            "zero_weight_fraction": float(np.mean(self.weights == 0)),
            "max_prob_ratio_to_uniform": float(p.max() * p.size),
            "effective_sample_size": float(1.0 / np.sum(p * p)),
            "per_class": {str(k): v for k, v in self.per_class.items()},
        }


def sample_weights(
    real_features: Any,
    real_labels: Any,
    fake_features: Any,
    fake_labels: Any,
    transform: str = "C",
    *,
    equalize_class_mass: bool = False,
    block_size: int = 2048,
    device: torch.device | str | None = None,
) -> ReweightResult:
    """Algorithm 1: the sampling probabilities of the real set given φ of the real set and of D_G.

    ``fake_features`` / ``fake_labels`` are the synthetic set (the previous GAN's samples, or the union of all
    previous GANs' samples — the caller chooses). Every class present in the real set needs synthetic samples.
    """
    check_transform(transform)
    rf, gf = _as_2d(real_features, "real_features"), _as_2d(fake_features, "fake_features")
    ry, gy = _as_labels(real_labels, rf.shape[0], "real"), _as_labels(fake_labels, gf.shape[0], "fake")
    if rf.shape[1] != gf.shape[1]:
        raise AlgorithmOneError(f"real features are {rf.shape[1]}-d but synthetic ones {gf.shape[1]}-d")
    classes = np.unique(ry.numpy())
    missing = [int(k) for k in classes if not bool((gy == int(k)).any())]
    if missing:  # checked for all classes before any distance is computed
        raise AlgorithmOneError(
            f"Algorithm 1 needs synthetic samples of every real class, but class(es) {missing} have none "
            f"({gf.shape[0]} synthetic samples in classes {sorted(set(gy.tolist()))}); generate class-balanced samples"
        )
    n = rf.shape[0]
    dist, norm, w = np.zeros(n), np.zeros(n), np.zeros(n)
    per_class: dict[int, dict[str, float]] = {}
    for k in classes.tolist():
        ri = torch.nonzero(ry == k).flatten()
        gi = torch.nonzero(gy == k).flatten()
        d = class_distance_sums(rf[ri], gf[gi], block_size=block_size, device=device)
        wk = normalise_distances(d)
        fk, mu, sigma = apply_transform(wk, transform)
        idx = ri.numpy()
        dist[idx], norm[idx], w[idx] = d, wk, fk
        per_class[int(k)] = {"n_real": int(idx.size), "n_fake": int(gi.numel()), "mu": mu, "sigma": sigma}
    probs = np.zeros(n)
    if equalize_class_mass:
        for k, st in per_class.items():
            idx = (ry == k).numpy()
            s = w[idx].sum()
            # a class whose weights are all 0 keeps its share uniformly (it cannot be sampled otherwise)
            probs[idx] = (w[idx] / s if s > 0 else 1.0 / st["n_real"]) * (st["n_real"] / n)
    else:
        total = w.sum()
        if not total > 0:
            raise AlgorithmOneError(f"every weight is 0 after transform {transform!r}; nothing could be sampled")
        probs = w / total
    for k in per_class:
        per_class[k]["mass"] = float(probs[(ry == k).numpy()].sum())
    return ReweightResult(transform, dist, norm, w, probs, equalize_class_mass, per_class)


def _as_2d(x: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).detach().cpu()
    if t.ndim != 2 or t.shape[0] == 0:
        raise AlgorithmOneError(f"{name} must be a non-empty (n, dim) array; got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise AlgorithmOneError(f"{name} contains NaN or inf")
    return t


def _as_labels(y: Any, n: int, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)).reshape(-1).long()
    if t.numel() != n:
        raise ShapeError(f"{n} {name} features but {t.numel()} {name} labels")
    return t


# -------------------------------------------------------------------------------------------------- features
@torch.no_grad()
def extract_features(
    classifier: torch.nn.Module, images: torch.Tensor, batch_size: int = 500, device: torch.device | str | None = None
) -> torch.Tensor:
    """φ(x): the classifier's pooled features (``classifier.features``) of images in [-1, 1], in eval mode (CPU)."""
    if not hasattr(classifier, "features"):
        raise AlgorithmOneError("the feature network needs a .features(x) method (e.g. core's resnet20_w64)")
    dev = torch.device(device) if device is not None else next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    out = [
        classifier.features(images[s : s + batch_size].to(dev)).float().cpu() for s in range(0, len(images), batch_size)
    ]
    classifier.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 0)


def union_features(parts: Sequence[tuple[Any, Any]], synthetic: str = "union") -> tuple[torch.Tensor, torch.Tensor]:
    """D_G from the previous GANs' (features, labels), oldest first: all of them, or only the last one."""
    check_synthetic(synthetic)
    if not parts:
        raise AlgorithmOneError("Algorithm 1 needs the samples of at least one previous GAN")
    chosen = parts if synthetic == "union" else parts[-1:]
    feats = torch.cat([torch.as_tensor(np.asarray(f)) if not isinstance(f, torch.Tensor) else f for f, _ in chosen])
    labels = torch.cat([torch.as_tensor(np.asarray(y)).reshape(-1).long() for _, y in chosen])
    return feats, labels
