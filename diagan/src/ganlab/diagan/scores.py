"""Figure 3 and the score table of a finished run: ``ganlab diagan scores RUN``.

Reads the run's resolved config and its LDR diagnosis (``ldr/scores.npz`` written at the phase change, or the
records in the latest checkpoint for a run without phase 2), then writes to ``RUN/scores/``:

- ``scores.csv``: index, label, group, LDRM, LDRV, score (eq. 7), clipped score and P_s per instance;
- ``lowest.png`` / ``highest.png``: the training images with the lowest / highest scores (Fig. 3a, b);
- ``generated.png``: samples of the final generator (Fig. 3c);
- ``histograms.png`` / ``histograms.npz``: smoothed intensity histograms of 100 images per group (Fig. 3d) and
  ``summary.json`` with their total-variation distances to the generated samples' histogram.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import CheckpointError, ConfigError
from ganlab.core.results import atomic_write_bytes, atomic_write_text, records_to_csv
from ganlab.diagan.analysis import histogram_distance, intensity_histogram
from ganlab.diagan.ldr import LDRTracker, Scores, compute_scores


def _latest_checkpoint(run: Path) -> Path:
    ckpts = sorted((run / "checkpoints").glob("step_*.pt"))
    if not ckpts:
        raise CheckpointError(f"{run} has no checkpoints/step_*.pt; is it a ganlab training run?")
    return ckpts[-1]


def load_scores(run: Path, k: float | None = None, state: dict[str, Any] | None = None) -> tuple[Scores, np.ndarray]:
    """(scores, instance indices) of a run: its phase-change scores, else computed from the checkpointed records."""
    path = run / "ldr" / "scores.npz"
    if path.is_file() and k is None:
        arrays = np.load(path)
        return Scores.from_arrays(arrays), np.asarray(arrays["indices"])
    if state is None:
        state = torch.load(_latest_checkpoint(run), map_location="cpu", weights_only=False)
    method = state.get("method") or {}
    if "tracker" not in method:
        raise ConfigError(f"{run} holds no LDR records: train it with the diagan method (phase1_steps: null records)")
    tr = method["tracker"]
    opts = state["config"]["method"]["options"]
    window = int(opts.get("window", 50))
    tracker = LDRTracker(int(tr["num_instances"]), window=window, capacity=max(len(tr["steps"]), window))
    tracker.load_state_dict(tr)
    kk = float(k if k is not None else opts.get("k", 0.3))
    scores = compute_scores(
        tracker.statistics(strict=False), kk, opts.get("min_clip", 1e-2), opts.get("max_ratio", 50.0)
    )
    indices = np.asarray(method.get("record_indices", np.arange(tracker.num_instances)))
    return scores, indices


def score_report(run: str | Path, *, k: float | None = None, n: int = 64, n_hist: int = 100, seed: int = 0) -> dict:
    """Write the score table, image sheets and histograms of ``run`` (see the module docstring); returns a summary."""
    from ganlab.core.config import from_dict, read_yaml
    from ganlab.core.data import get_dataset
    from ganlab.core.images import images_to_png
    from ganlab.core.train.checkpoint import load_models
    from ganlab.core.train.config import ExperimentConfig

    run = Path(run)
    if not (run / "config.yaml").is_file():
        raise ConfigError(f"{run} is not a run directory (no config.yaml)")
    cfg = from_dict(ExperimentConfig, read_yaml(run / "config.yaml"))
    state = torch.load(_latest_checkpoint(run), map_location="cpu", weights_only=False)
    scores, indices = load_scores(run, k, state)
    d = cfg.data
    ds = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    out = run / "scores"
    out.mkdir(exist_ok=True)

    labels = np.asarray(ds.labels)[indices]
    groups = None if ds.groups is None else np.asarray(ds.groups)[indices]
    table = {
        "index": indices,
        "label": labels,
        **({"group": groups} if groups is not None else {}),
        "ldrm": scores.ldrm,
        "ldrv": scores.ldrv,
        "score": scores.score,
        "clipped": scores.clipped,
        "prob": scores.probs,
    }
    order = np.argsort(scores.score, kind="stable")
    rows = [{c: (v[i].item() if hasattr(v[i], "item") else v[i]) for c, v in table.items()} for i in order]
    atomic_write_text(out / "scores.csv", records_to_csv(rows))

    low, high = indices[order[:n]], indices[order[::-1][:n]]
    summary: dict[str, Any] = {"k": scores.k, "num_instances": int(len(indices)), "records": scores.steps.tolist()}
    images_low, images_high = ds.get_batch(low)["image"], ds.get_batch(high)["image"]
    atomic_write_bytes(out / "lowest.png", images_to_png(images_low))
    atomic_write_bytes(out / "highest.png", images_to_png(images_high))

    G, _, _, _ = load_models(_latest_checkpoint(run), ema=True, critic="__none__")  # a backbone or your own G
    gen = torch.Generator().manual_seed(seed)
    m, k = max(n, n_hist), int(getattr(G, "num_classes", 0) or 0)
    y = torch.randint(0, k, (m,), generator=gen) if k else None  # a conditional G draws uniform classes
    with torch.no_grad():
        fakes = G(torch.randn(m, G.z_dim, generator=gen), y=y)
    atomic_write_bytes(out / "generated.png", images_to_png(fakes[:n]))

    if fakes.ndim == 4:
        h_low = intensity_histogram(ds.get_batch(indices[order[:n_hist]])["image"])
        h_high = intensity_histogram(ds.get_batch(indices[order[::-1][:n_hist]])["image"])
        h_gen = intensity_histogram(fakes[:n_hist])
        np.savez(out / "histograms.npz", lowest=h_low, highest=h_high, generated=h_gen)
        summary["tv_lowest_vs_generated"] = histogram_distance(h_low, h_gen)
        summary["tv_highest_vs_generated"] = histogram_distance(h_high, h_gen)
        _plot_histograms(out / "histograms.png", h_low, h_high, h_gen)
    if groups is not None:
        for g in np.unique(groups):
            summary[f"score_mean_group{int(g)}"] = float(scores.score[groups == g].mean())
            summary[f"ldrv_mean_group{int(g)}"] = float(scores.ldrv[groups == g].mean())
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary


def _plot_histograms(path: Path, low: np.ndarray, high: np.ndarray, gen: np.ndarray) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
    ax.plot(low, color="tab:blue", label="lowest scores")
    ax.plot(high, color="tab:red", label="highest scores")
    ax.plot(gen, color="tab:green", label="generated")
    ax.set_xlabel("intensity level (channels concatenated)")
    ax.set_ylabel("frequency")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
