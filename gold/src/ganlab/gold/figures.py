"""The paper's figures as PNG files (matplotlib, Agg backend); every function takes plain arrays / records.

- Figure 1: (a) histograms of the marginal and conditional terms of generated samples, (b) the mean GOLD of
  generated samples during training, (c) fitting capacity during training; baseline vs re-weighting.
- Figure 2: sample sheets of the top marginal / conditional / GOLD values, generated (one row per class) and real.
- Figure 3: the synthetic active-learning rounds: queries, generated samples, the eq.-9 estimator field.
- Figure 4: fitting capacity against the number of labels, GOLD vs random queries (mean +- std over trials).
- Figure 6: FID during the unstable 10-label run, baseline vs re-weighting.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.results import atomic_write_bytes

__all__ = ["figure1", "figure2", "figure3", "figure4", "figure6", "top_sheet"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def _curves(ax, series: Mapping[str, Sequence[Sequence[float]]], ylabel: str) -> None:
    """``series``: name -> list over seeds of (x, y) pairs lists; plots mean +- std over seeds."""
    for name, runs in series.items():
        runs = [np.asarray(r, dtype=np.float64) for r in runs if len(r)]
        if not runs:
            continue
        n = min(len(r) for r in runs)
        xs = runs[0][:n, 0]
        ys = np.stack([r[:n, 1] for r in runs])
        m, s = ys.mean(0), ys.std(0)
        ax.plot(xs, m, label=name)
        if len(runs) > 1:
            ax.fill_between(xs, m - s, m + s, alpha=0.2)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()


def figure1(
    path: str | Path,
    marginal: np.ndarray,
    conditional: np.ndarray,
    gold_curves: Mapping[str, Sequence[Sequence[float]]],
    capacity_curves: Mapping[str, Sequence[Sequence[float]]],
    x_label: str = "epoch",
) -> Path:
    """(a) term histograms, (b) GOLD mean curves, (c) fitting-capacity curves (each curve: [(x, y), ...] per seed)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].hist(np.asarray(marginal), bins=50, alpha=0.6, label="marginal")
    axes[0].hist(np.asarray(conditional), bins=50, alpha=0.6, label="conditional")
    axes[0].set_title("(a) GOLD terms of generated samples")
    axes[0].legend()
    _curves(axes[1], gold_curves, "mean GOLD of generated samples")
    axes[1].set_xlabel(x_label)
    axes[1].set_title("(b) GOLD estimator")
    _curves(axes[2], capacity_curves, "fitting capacity")
    axes[2].set_xlabel(x_label)
    axes[2].set_title("(c) fitting capacity")
    return _save(fig, path)


def top_sheet(images: torch.Tensor, scores: np.ndarray, labels: np.ndarray | None, k: int) -> torch.Tensor:
    """The ``k`` highest-scoring images of each class (rows by class), or the overall top ``k * 10`` without labels."""
    scores = np.asarray(scores)
    if labels is None:
        return images[np.argsort(-scores, kind="stable")[: k * 10]]
    rows = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        top = idx[np.argsort(-scores[idx], kind="stable")[:k]]
        pad = images.new_ones((k - len(top), *images.shape[1:]))
        rows.append(torch.cat([images[top], pad]))
    return torch.cat(rows)


def figure2(path: str | Path, panels: Mapping[str, torch.Tensor], nrow: int) -> Path:
    """One image grid per panel (e.g. "generated: marginal", ..., "real: GOLD"), side by side."""
    from torchvision.utils import make_grid

    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.4))
    axes = np.atleast_1d(axes)
    for ax, (title, imgs) in zip(axes, panels.items()):
        grid = make_grid(imgs.clamp(-1, 1), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
        arr = grid.permute(1, 2, 0).numpy()
        ax.imshow(arr[:, :, 0] if arr.shape[2] == 1 or (arr[:, :, 0] == arr[:, :, 1]).all() else arr, cmap="gray")
        ax.set_title(title)
        ax.axis("off")
    return _save(fig, path)


def figure3(path: str | Path, rounds: Sequence[Mapping[str, Any]], data: np.ndarray, data_y: np.ndarray) -> Path:
    """Rows: labelled set + queries over the data, generated samples, the estimator field; one column per round.

    Each round: ``labelled`` (L, 2), ``labelled_y``, ``queried`` (Q, 2) or None, ``images`` (N, 2), ``labels``,
    ``grid`` (P, 2), ``field`` (P,).
    """
    plt = _plt()
    n = len(rounds)
    fig, axes = plt.subplots(3, n, figsize=(3.2 * n, 9.3), squeeze=False)
    for j, rd in enumerate(rounds):
        ax = axes[0, j]
        ax.scatter(data[:, 0], data[:, 1], c=data_y, s=2, alpha=0.15, cmap="coolwarm")
        ax.scatter(
            rd["labelled"][:, 0], rd["labelled"][:, 1], c=rd["labelled_y"], s=40, cmap="coolwarm", edgecolors="k"
        )
        if rd.get("queried") is not None and len(rd["queried"]):
            q = np.asarray(rd["queried"])
            ax.scatter(q[:, 0], q[:, 1], marker="*", s=200, c="gold", edgecolors="k")
        ax.set_title(f"round {j + 1}: {len(rd['labelled'])} labels")
        ax = axes[1, j]
        ax.scatter(rd["images"][:, 0], rd["images"][:, 1], c=rd["labels"], s=2, alpha=0.4, cmap="coolwarm")
        ax.set_xlim(axes[0, j].get_xlim())
        ax.set_ylim(axes[0, j].get_ylim())
        ax.set_title("generated")
        ax = axes[2, j]
        g = np.asarray(rd["grid"])
        side = int(round(np.sqrt(len(g))))
        ax.contourf(
            g[:, 0].reshape(side, side),
            g[:, 1].reshape(side, side),
            np.asarray(rd["field"]).reshape(side, side),
            levels=20,
        )
        ax.set_title("GOLD (eq. 9)")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path)


def figure4(path: str | Path, panels: Mapping[str, Mapping[str, Sequence[Sequence[float]]]]) -> Path:
    """One panel per dataset: query name -> per-trial [(n_labels, fitting capacity), ...]."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items()):
        _curves(ax, series, "fitting capacity")
        ax.set_xlabel("number of labels")
        ax.set_title(title)
    return _save(fig, path)


def figure6(path: str | Path, series: Mapping[str, Sequence[Sequence[float]]]) -> Path:
    """FID against epochs (per seed [(epoch, fid), ...]) for the baseline and the re-weighted run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    _curves(ax, series, "FID (in-domain LeNet features)")
    ax.set_xlabel("epoch")
    return _save(fig, path)


def reweight_figures(folder: Path, names: Sequence[str], trainer: Any, curves: Mapping[str, Any], ds: Any, n: int):
    """Figures 1, 2 and 6 of a re-weighting experiment (those in ``names``): ``trainer`` gives the G/D scored
    (``n`` samples), ``curves`` the GOLD, capacity and FID curves per variant."""
    from ganlab.gold.scoring import score_generated, score_real

    G, D = trainer.G_ema, trainer.unwrap(trainer.D)
    if "figure1" in names:
        s = score_generated(G, D, n, seed=0, device=trainer.device)
        figure1(folder / "figure1.png", s["marginal"], s["conditional"], curves["gold"], curves["capacity"])
    if "figure2" in names and len(ds.shape) == 3:
        s = score_generated(G, D, n, seed=0, device=trainer.device, keep_images=True)
        b = ds.get_batch(np.arange(min(len(ds), n)))
        r = score_real(D, b["image"], b["label"], device=trainer.device)
        k = 8
        panels = {
            "generated: marginal": top_sheet(s["images"], s["marginal"], s["labels"], k),
            "generated: conditional": top_sheet(s["images"], s["conditional"], s["labels"], k),
            "generated: GOLD": top_sheet(s["images"], s["gold"], s["labels"], k),
            "real: marginal": top_sheet(b["image"], r["marginal"], None, k),
            "real: conditional": top_sheet(b["image"], -r["conditional"], None, k),
            "real: GOLD": top_sheet(b["image"], r["gold_real"], None, k),
        }
        figure2(folder / "figure2.png", panels, nrow=k)
    if "figure6" in names:
        figure6(folder / "figure6.png", curves["fid"])


def active_figures(
    folder: Path, names: Sequence[str], per_seed: Sequence[Mapping[str, Any]], runs: Path, ds: Any, data_name: str
) -> None:
    """Figure 4 (fitting capacity against labels, per query) from the records, and Figure 3 (queries, samples, GOLD
    field per round) from the first GOLD-query run's round snapshots under ``runs``."""
    series: dict[str, dict[Any, list]] = {}
    for r in per_seed:
        series.setdefault(r["variant"], {}).setdefault(r["seed"], []).append((r["n_labelled"], r["cap_test"]))
    if "figure4" in names:
        figure4(folder / "figure4.png", {data_name: {q: list(s.values()) for q, s in series.items()}})
    first = next((r for r in per_seed if str(r["variant"]).startswith("gold")), None)
    if "figure3" not in names or first is None or len(ds.shape) != 1:
        return
    out = runs / f"{first['variant']}_seed{first['seed']}"
    snaps = []
    for r in json.loads((out / "active.json").read_text())["rounds"]:
        path = out / f"round_{r['round']:02d}" / "snapshot.npz"
        if not path.is_file():
            return
        with np.load(path) as f:
            s = {k: f[k] for k in f.files}
        q = r.get("queried")
        s["queried"] = None if q is None else ds.get_batch(np.asarray(q))["image"].numpy()
        snaps.append(s)
    b = ds.get_batch(np.arange(len(ds)))
    figure3(folder / "figure3.png", snaps, b["image"].numpy(), ds.labels)
