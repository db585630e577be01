"""Figures: most / least likely images (Figure 1), density vs FID (Figure 2), metrics vs retention or truncation
(Figures 3 and 5) and a shared 2-D map of one class (Figure 12)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ConfigError, MissingDependencyError
from ganlab.core.results import atomic_write_bytes


def _grid(images: torch.Tensor, nrow: int) -> np.ndarray:
    from torchvision.utils import make_grid

    g = make_grid(images.float().clamp(-1, 1) * 0.5 + 0.5, nrow=nrow, padding=2, pad_value=1.0)
    return g.permute(1, 2, 0).cpu().numpy()


def likelihood_sheet(
    dataset: Any,
    scores: np.ndarray,
    path: str | Path,
    classes: Sequence[int] | None = None,
    n: int = 8,
) -> Path:
    """Figure 1: for each class, its ``n`` most likely (a) and ``n`` least likely (b) images under the scorer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.asarray(dataset.labels) if getattr(dataset, "num_classes", 0) else np.zeros(len(dataset), int)
    present = np.unique(labels)
    classes = list(present[:3]) if classes is None else [int(c) for c in classes]
    missing = [c for c in classes if c not in present]
    if missing:
        raise ConfigError(f"classes {missing} are not in the dataset (it has {len(present)} classes)")
    most, least = [], []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        order = idx[np.argsort(scores[idx], kind="stable")]
        k = min(n, len(order))
        most.append(dataset.get_batch(order[::-1][:k])["image"])
        least.append(dataset.get_batch(order[:k])["image"])
    k = min(n, min(len(m) for m in most))
    fig, axes = plt.subplots(1, 2, figsize=(2 * max(3.0, 0.6 * k), 0.7 * len(classes) + 1.0))
    for ax, imgs, title in zip(axes, (most, least), ("(a) most likely", "(b) least likely")):
        ax.imshow(_grid(torch.cat([m[:k] for m in imgs]), nrow=k), interpolation="nearest")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel("classes " + ", ".join(str(c) for c in classes), fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def project_2d(features: np.ndarray, method: str = "umap", seed: int = 0) -> Any:
    """A 2-D projection fitted on ``features`` (Figure 12 uses UMAP; ``pca`` needs no extra package)."""
    if method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise MissingDependencyError(
                "Figure 12 uses UMAP: pip install 'ganlab-instance-selection[umap]' (umap-learn), or set projection=pca"
            ) from exc
        return umap.UMAP(n_components=2, random_state=seed).fit(features)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit(features)
    raise ConfigError(f"unknown projection {method!r}; choose umap or pca")


def manifold_figure(
    panels: dict[str, np.ndarray], reference: np.ndarray, path: str | Path, method: str = "umap"
) -> Path:
    """Figure 12: every panel's features mapped by ONE projection fitted on ``reference`` (the full class)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proj = project_2d(reference, method)
    ref2 = proj.transform(reference)
    lo, hi = ref2.min(0), ref2.max(0)
    pad = 0.05 * (hi - lo + 1e-9)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False)
    for ax, (title, feats) in zip(axes[0], panels.items()):
        p = proj.transform(feats)
        ax.scatter(ref2[:, 0], ref2[:, 1], s=3, c="0.85", label="full data")
        ax.scatter(p[:, 0], p[:, 1], s=4, c="C0")
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def metric_figure(figure: str | None, records: list[dict[str, Any]], metrics: Sequence[str], out_dir: Path) -> None:
    """Figure 3 (``retention``: metrics against the retention ratio) or 5 (``truncation``: P/R and D/C sweeps)."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in records if "fid" in r and r.get("checkpoint", "last") == "last"]
    if figure == "retention":  # Figure 3: metrics against the retention ratio
        fig, axes = plt.subplots(1, len(metrics), figsize=(3 * len(metrics), 2.8))
        rows = sorted(rows, key=lambda r: r["retention_ratio"])
        for ax, m in zip(axes, metrics):
            ax.errorbar([r["retention_ratio"] for r in rows], [r[m] for r in rows], [r[f"{m}_std"] for r in rows])
            ax.set_xlabel("retention ratio (%)")
            ax.set_title(m)
        name = "figure3_retention.png"
    elif figure == "truncation":  # Figure 5: precision/recall and density/coverage along the sweep
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
        for arm in dict.fromkeys(r["arm"] for r in rows):
            pts = sorted((r for r in rows if r["arm"] == arm), key=lambda r: -r["truncation"])
            for ax, (x, y) in zip(axes, (("recall", "precision"), ("coverage", "density"))):
                (line,) = ax.plot([r[x] for r in pts], [r[y] for r in pts], "-", label=arm)
                ax.plot(pts[0][x], pts[0][y], "o", color=line.get_color())  # the base model (threshold 1)
                ax.set_xlabel(x)
                ax.set_ylabel(y)
        axes[0].legend(fontsize=7)
        name = "figure5_truncation.png"
    else:
        raise ConfigError(f"unknown figure {figure!r}; choose retention or truncation")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(Path(out_dir) / name, buf.getvalue())


def density_fid_scatter(records: list[dict[str, Any]], scorers: Sequence[str], path: Path) -> None:
    """Figure 2: per-class density (x) against per-class FID (y), one panel per scorer."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in records if "fid" in r]
    fig, axes = plt.subplots(1, len(scorers), figsize=(3.2 * len(scorers), 3.0), squeeze=False)
    for ax, name in zip(axes[0], scorers):
        ax.scatter([r[f"density_{name}"] for r in rows], [r["fid"] for r in rows], s=8)
        ax.set_xlabel(f"{name} (lower = denser)")
        ax.set_ylabel("per-class FID")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(Path(path), buf.getvalue())
