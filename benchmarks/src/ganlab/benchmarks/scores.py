"""Per-instance scores side by side: every method that scores training instances (instance-selection density,
Dia-GAN LDRM / LDRV / score, GOLD on real samples, IC-GAN neighbourhood radius) exports them through
``Method.instance_scores`` or its part; here they meet. Per setting: the Spearman rank correlation between every
pair of scores (on the instances both score, averaged over seeds) as CSV, Markdown and a heat map, and a sheet of the
training images each score ranks lowest and highest.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ganlab.core.fileio import atomic_write_bytes, atomic_write_text
from ganlab.core.results import records_to_csv, records_to_markdown

__all__ = ["load_scores", "score_methods", "spearman_matrix", "write_score_comparison"]


def load_scores(records: list[dict[str, Any]], setting: str, seed: int) -> dict[str, np.ndarray]:
    """Every score exported by the done cells of one setting and seed (one copy per training run)."""
    out: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for r in records:
        if r["setting"] != setting or r["seed"] != seed or r.get("status") != "done" or not r.get("scores"):
            continue
        if r["train_dir"] in seen:
            continue
        seen.add(r["train_dir"])
        path = Path(r["train_dir"]) / "instance_scores.npz"
        if path.is_file():
            with np.load(path) as z:
                for name in z.files:
                    out.setdefault(name, z[name])
    return out


def spearman_matrix(scores: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Names and the matrix of Spearman correlations, each pair over the instances both define (NaN-free)."""
    from scipy.stats import spearmanr

    names = sorted(scores)
    m = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            ok = np.isfinite(scores[a]) & np.isfinite(scores[b])
            rho = spearmanr(scores[a][ok], scores[b][ok]).statistic if ok.sum() > 2 else math.nan
            m[i, j] = m[j, i] = rho
    return names, m


def _heatmap(names: list[str], m: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(names), 1.0 + 0.6 * len(names)))
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="coolwarm")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for i in range(len(names)):
        for j in range(len(names)):
            if math.isfinite(m[i, j]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def score_methods(records: list[dict[str, Any]], setting: str, seed: int) -> dict[str, list[str]]:
    """For every score of one setting and seed, the methods whose training exported it (several methods can share
    one training, e.g. a method and the same method with rejection sampling)."""
    out: dict[str, list[str]] = {}
    for r in records:
        if r["setting"] != setting or r["seed"] != seed or r.get("status") != "done":
            continue
        for name in r.get("scores") or []:
            if r["method"] not in out.setdefault(name, []):
                out[name].append(r["method"])
    return out


def _rgb(array: np.ndarray) -> np.ndarray:
    return np.repeat(array[:, :, None], 3, axis=2) if array.ndim == 2 else array


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _extremes(
    dataset: Any,
    scores: dict[str, np.ndarray],
    path: Path,
    n: int = 8,
    methods: dict[str, list[str]] | None = None,
    title: str = "",
) -> list[dict[str, Any]]:
    """A labelled sheet: per score one row, its name and the methods that export it on the left, then the n training
    images it ranks lowest and, after a gap, the n it ranks highest (headed "n lowest" / "n highest"). Returns the
    rows drawn (score, methods, the dataset indices of both ends)."""
    from PIL import Image, ImageDraw

    from ganlab.core.images import image_grid

    if len(getattr(dataset, "shape", ())) != 3:
        return []
    rows: list[dict[str, Any]] = []
    strips: list[tuple[np.ndarray, np.ndarray]] = []
    for name in sorted(scores):
        s = scores[name]
        ok = np.flatnonzero(np.isfinite(s))
        if len(ok) < 2 * n:
            continue
        order = ok[np.argsort(s[ok], kind="stable")]
        low, high = order[:n], order[-n:]
        images = dataset.get_batch(np.concatenate([low, high]))["image"]
        strips.append((_rgb(image_grid(images[:n], nrow=n)), _rgb(image_grid(images[n:], nrow=n))))
        label = ", ".join((methods or {}).get(name, [])) or "?"
        rows.append({"score": name, "methods": label, "lowest": low.tolist(), "highest": high.tolist()})
    if not rows:
        return rows
    big, small = _font(15), _font(12)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def width(text: str, font: Any) -> int:
        return int(measure.textbbox((0, 0), text, font=font)[2])

    label_w = 16 + max(max(width(r["score"], big), width("methods: " + r["methods"], small)) for r in rows)
    strip_h, strip_w = strips[0][0].shape[:2]
    gap, top, pad = 28, 58 if title else 30, 8
    canvas = Image.new("RGB", (label_w + 2 * strip_w + gap + pad, top + len(rows) * (strip_h + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, 6), title, fill="black", font=big)
    x_low, x_high = label_w, label_w + strip_w + gap
    draw.text((x_low + 4, top - 22), f"{n} lowest  (score increases to the right)", fill="black", font=small)
    draw.text((x_high + 4, top - 22), f"{n} highest", fill="black", font=small)
    for i, (row, (lo, hi)) in enumerate(zip(rows, strips)):
        y = top + i * (strip_h + pad)
        canvas.paste(Image.fromarray(lo), (x_low, y))
        canvas.paste(Image.fromarray(hi), (x_high, y))
        draw.text((pad, y + strip_h // 2 - 18), row["score"], fill="black", font=big)
        by = ("methods: " if "," in row["methods"] else "method: ") + row["methods"]
        draw.text((pad, y + strip_h // 2 + 2), by, fill=(90, 90, 90), font=small)
    draw.line([(x_high - gap // 2, top - 4), (x_high - gap // 2, canvas.height - pad)], fill=(160, 160, 160), width=2)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return rows


def write_score_comparison(root: Path, suite: Any, records: list[dict[str, Any]]) -> list[str]:
    """Write the comparison files; returns Markdown lines for the summary."""
    from ganlab.benchmarks.protocol import SettingContext

    lines: list[str] = []
    for setting in suite.settings:
        per_seed = [load_scores(records, setting, s) for s in suite.seeds]
        names = sorted(set().union(*[set(p) for p in per_seed])) if per_seed else []
        if not names:
            continue
        mats = []
        for scores in per_seed:
            if set(scores) == set(names):
                mats.append(spearman_matrix(scores)[1])
        if not mats:
            continue
        m = np.nanmean(np.stack(mats), axis=0) if len(mats) > 1 else mats[0]
        rows = [{"score": a, **{b: round(float(m[i, j]), 3) for j, b in enumerate(names)}} for i, a in enumerate(names)]
        base = root / "scores" / setting
        atomic_write_text(base.with_name(f"{setting}_spearman.csv"), records_to_csv(rows))
        title = f"{setting}: Spearman between per-instance scores (mean over {len(mats)} seeds)"
        atomic_write_text(base.with_name(f"{setting}_spearman.md"), records_to_markdown(rows, title))
        _heatmap(names, m, title, base.with_name(f"{setting}_spearman.png"))
        seed = suite.seeds[0]
        _extremes(
            SettingContext(suite, setting, root).dataset,
            per_seed[0],
            base.with_name(f"{setting}_extremes.png"),
            methods=score_methods(records, setting, seed),
            title=f"{setting}: the training images each score ranks lowest and highest (seed {seed})",
        )
        lines += [f"### {setting}", "", records_to_markdown(rows).strip(), "",
                  f"Sheet `scores/{setting}_extremes.png`: one row per score, labelled with the score and the methods "
                  "that export it: the 8 training images it ranks lowest, then the 8 it ranks highest "
                  f"(seed {seed}).", ""]  # fmt: skip
    return lines
