"""The extremes sheet of the score comparison: which score, which end, which method, and the right images."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ganlab.benchmarks.scores import _extremes, score_methods

N = 40


class ColourDigits:
    """28-px images, image k filled with the colour (2k, 255 - 2k, 128): a colour no grey label text can take."""

    shape = (3, 28, 28)

    def colour(self, k):
        return np.array([2 * k, 255 - 2 * k, 128], dtype=np.uint8)

    def get_batch(self, idx):
        cols = torch.tensor(np.stack([self.colour(int(k)) for k in idx]), dtype=torch.float32)
        return {"image": (cols / 127.5 - 1)[:, :, None, None].expand(-1, -1, 28, 28).contiguous()}


def test_score_methods_lists_every_method_sharing_a_training():
    records = [
        {"setting": "digits", "seed": 0, "method": "diagan", "status": "done", "scores": ["diagan/ldrm"]},
        {"setting": "digits", "seed": 0, "method": "diagan+drs", "status": "done", "scores": ["diagan/ldrm"]},
        {"setting": "digits", "seed": 0, "method": "gold", "status": "failed", "scores": ["gold/real"]},
        {"setting": "digits", "seed": 1, "method": "topk", "status": "done", "scores": ["diagan/ldrm"]},
        {"setting": "gauss", "seed": 0, "method": "icgan", "status": "done", "scores": ["icgan/radius"]},
    ]
    assert score_methods(records, "digits", 0) == {"diagan/ldrm": ["diagan", "diagan+drs"]}


def test_extremes_sheet_rows_hold_each_score_lowest_then_highest_images(tmp_path):
    rng = np.random.default_rng(3)
    density = rng.permutation(N).astype(float)
    ldrm = rng.normal(size=N)
    ldrm[:5] = np.nan  # unscored instances never appear
    path = tmp_path / "extremes.png"
    rows = _extremes(
        ColourDigits(),
        {"is/density": density, "diagan/ldrm": ldrm},
        path,
        n=4,
        methods={"is/density": ["instance_selection"], "diagan/ldrm": ["diagan", "diagan+drs"]},
        title="digits: extremes",
    )
    # rows in name order, labelled with the score and its methods; the ends as an independent sort gives them
    assert [(r["score"], r["methods"]) for r in rows] == [
        ("diagan/ldrm", "diagan, diagan+drs"),
        ("is/density", "instance_selection"),
    ]
    finite = np.flatnonzero(np.isfinite(ldrm))
    by_ldrm = finite[np.argsort(ldrm[finite])]
    assert rows[0]["lowest"] == by_ldrm[:4].tolist() and rows[0]["highest"] == by_ldrm[-4:].tolist()
    assert rows[1]["lowest"] == [int(k) for k in np.argsort(density)[:4]]
    assert rows[1]["highest"] == [int(k) for k in np.argsort(density)[-4:]]
    sheet = np.asarray(Image.open(path).convert("RGB"))
    # every shown image is there exactly as often as it is shown, each one nearest-upscaled 28 -> 84 px
    shown = [k for r in rows for k in r["lowest"] + r["highest"]]
    for k in set(range(N)):
        count = int(np.all(sheet == ColourDigits().colour(k), axis=2).sum())
        assert count == 84 * 84 * shown.count(k), k
    # the label column (left of the first image) carries text in both rows: dark pixels beside each strip
    first_x = int(np.argmax(np.any(np.all(sheet == ColourDigits().colour(rows[0]["lowest"][0]), axis=2), axis=0)))
    assert first_x > 60
    for r in rows:
        ys = np.flatnonzero(np.any(np.all(sheet == ColourDigits().colour(r["lowest"][0]), axis=2), axis=1))
        label = sheet[ys.min() : ys.max() + 1, :first_x]
        assert (label.max(axis=2) < 128).sum() > 20, r["score"]


def test_no_sheet_for_vectors_or_too_few_scored_instances(tmp_path):
    class Points:
        shape = (2,)

    assert _extremes(Points(), {"a": np.arange(40.0)}, tmp_path / "a.png") == []
    assert _extremes(ColourDigits(), {"a": np.arange(10.0)}, tmp_path / "b.png", n=8) == []
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()
