"""The figures of a suite run (PNG, from finished cells): a bar chart of every metric per setting with std error
bars, a precision–recall scatter per setting, the minority-group share on Colored MNIST, modes covered against the
high-quality fraction on 2-D mixtures, and one sample sheet per setting with a row per method."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.benchmarks.stats import mean_std
from ganlab.core.fileio import atomic_write_bytes

__all__ = ["write_plots"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _values(records: list[dict[str, Any]], setting: str, method: str, key: str) -> list[float]:
    return [
        r["metrics"].get(key, math.nan)
        for r in records
        if r["setting"] == setting and r["method"] == method and r.get("status") == "done"
    ]


def write_plots(root: Path, suite: Any, records: list[dict[str, Any]]) -> list[Path]:
    plt = _plt()
    out: list[Path] = []
    for setting in suite.settings:
        methods = [m for m in suite.methods if setting in suite.settings_of(m) and _values(records, setting, m, "x")]
        metrics = [
            k
            for k in dict.fromkeys(
                k for r in records if r["setting"] == setting and r.get("status") == "done" for k in r["metrics"]
            )
            if k not in ("eval_s", "acceptance")
        ]
        if not methods or not metrics:
            continue
        cols = min(3, len(metrics))
        rows = math.ceil(len(metrics) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
        for ax, key in zip(axes.flat, metrics):
            stats = [mean_std(_values(records, setting, m, key)) for m in methods]
            ax.bar(range(len(methods)), [s[0] for s in stats], yerr=[s[1] for s in stats], capsize=3, color="#4c72b0")
            ax.set_xticks(range(len(methods)), methods, rotation=60, ha="right", fontsize=7)
            ax.set_title(key + (" (lower is better)" if key == "fid" else ""), fontsize=9)
        for ax in list(axes.flat)[len(metrics) :]:
            ax.axis("off")
        fig.suptitle(f"{suite.name} / {setting}: mean ± std over seeds", fontsize=10)
        fig.tight_layout()
        out.append(_save(fig, root / "plots" / f"{setting}_metrics.png"))
        for xk, yk, name in (("recall", "precision", "precision_recall"), ("high_quality", "modes_covered", "modes")):
            if xk in metrics and yk in metrics:
                fig, ax = plt.subplots(figsize=(5, 4))
                for m in methods:
                    x, y = mean_std(_values(records, setting, m, xk)), mean_std(_values(records, setting, m, yk))
                    ax.errorbar(x[0], y[0], xerr=x[1], yerr=y[1], fmt="o", capsize=3, label=m)
                ax.set_xlabel(xk)
                ax.set_ylabel(yk)
                ax.legend(fontsize=6, loc="best")
                ax.set_title(f"{setting}: {yk} vs {xk}", fontsize=9)
                out.append(_save(fig, root / "plots" / f"{setting}_{name}.png"))
        if "minority_share" in metrics:
            fig, ax = plt.subplots(figsize=(5, 3.5))
            stats = [mean_std(_values(records, setting, m, "minority_share")) for m in methods]
            ax.bar(range(len(methods)), [s[0] for s in stats], yerr=[s[1] for s in stats], capsize=3, color="#55a868")
            groups = getattr(_dataset(root, suite, setting), "groups", None)
            if groups is not None:
                ax.axhline(float(np.mean(groups == 1)), color="k", ls="--", lw=1, label="share in the data")
                ax.legend(fontsize=7)
            ax.set_xticks(range(len(methods)), methods, rotation=60, ha="right", fontsize=7)
            ax.set_title(f"{setting}: share of minority-group samples", fontsize=9)
            out.append(_save(fig, root / "plots" / f"{setting}_minority.png"))
        sheet = _sample_sheet(root, suite, setting, methods)
        if sheet is not None:
            out.append(sheet)
    return out


def _dataset(root: Path, suite: Any, setting: str) -> Any:
    from ganlab.benchmarks.protocol import SettingContext

    return SettingContext(suite, setting, root).dataset


def _sample_sheet(root: Path, suite: Any, setting: str, methods: list[str]) -> Path | None:
    from PIL import Image

    found = [(m, root / setting / m / f"seed{suite.seeds[0]}" / "samples.png") for m in methods]
    found = [(m, p) for m, p in found if p.is_file()]
    if not found:
        return None
    plt = _plt()
    cols = min(4, len(found))
    rows = math.ceil(len(found) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 4.2 * rows), squeeze=False)  # ~2x native pixels
    for ax, (m, p) in zip(axes.flat, found):
        with Image.open(p) as img:
            ax.imshow(np.asarray(img.convert("RGB")))
        ax.set_title(m, fontsize=8)
        ax.axis("off")
    for ax in list(axes.flat)[len(found) :]:
        ax.axis("off")
    fig.suptitle(f"{suite.name} / {setting}: samples (seed {suite.seeds[0]})", fontsize=10)
    return _save(fig, root / "sheets" / f"{setting}.png")
