"""The diagnosis measurements against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ganlab.core.errors import DatasetError
from ganlab.diagan import analysis


def test_high_quality_counts_match_brute_force():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 2)) * 3
    samples = centers[rng.integers(0, 5, 400)] + rng.normal(0, 0.2, (400, 2))
    counts = analysis.high_quality_counts(samples, centers, sigma=0.1, threshold=4.0)
    d = np.linalg.norm(samples[:, None] - centers[None], axis=2)
    expect = np.bincount(d.argmin(1)[d.min(1) <= 0.4], minlength=5)
    np.testing.assert_array_equal(counts, expect)


def test_per_group_mean_and_spearman():
    v = np.array([1.0, 3.0, 10.0, 20.0, 5.0])
    g = np.array([0, 0, 2, 2, 0])
    np.testing.assert_allclose(analysis.per_group_mean(v, g, 4), [3.0, np.nan, 15.0, np.nan])
    x, y = np.array([1, 2, 3, 4.0]), np.array([10, 8, 9, 1.0])
    assert analysis.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert np.isnan(analysis.spearman(x, np.ones(4)))


def test_mode_report_detects_anticorrelation():
    # modes with many good samples get low LDRM: Spearman must be -1
    centers = np.array([[0.0, 0], [5, 0], [0, 5]])
    samples = np.concatenate([np.repeat(centers[:1], 30, 0), np.repeat(centers[1:2], 20, 0), centers[2:3]])
    labels = np.array([0, 1, 2] * 10)
    ldrm = np.array([-1.0, 0.0, 2.0] * 10)
    rep = analysis.mode_ldrm_report(ldrm, labels, samples, centers, sigma=0.1, min_count=10)
    assert rep["spearman_ldrm_vs_hq"] == pytest.approx(-1.0)
    assert rep["modes_covered"] == 2 and rep["mode_hq_counts"] == [30, 20, 1]


def test_group_statistics_and_missing_groups():
    out = analysis.group_statistics({"ldrv": np.array([1.0, 2.0, 3.0, 10.0])}, np.array([0, 0, 0, 1]))
    assert out == {"ldrv_major": 2.0, "ldrv_minor": 10.0}

    class NoGroups:
        name = "digits"
        groups = None

    with pytest.raises(DatasetError, match="no.*groups|has none"):
        analysis.require_groups(NoGroups(), "the reconstruction error of minor samples")


def test_color_of_red_green_blank():
    x = -torch.ones(3, 3, 8, 8)
    x[0, 0, 2:5, 2:5] = 1.0  # red digit
    x[1, 1, 2:5, 2:5] = 1.0  # green digit
    np.testing.assert_array_equal(analysis.color_of(x), [0, 1, -1])
    assert analysis.minor_occurrence(x) == pytest.approx(1 / 3)


def test_intensity_histogram_counts_levels():
    x = torch.full((2, 3, 4, 4), -1.0)
    x[:, 1] = 1.0
    h = analysis.intensity_histogram(x, smooth=0)
    assert h.shape == (768,)
    assert h[0] == 1.0 and h[256 + 255] == 1.0 and h[512] == 1.0 and h.sum() == pytest.approx(3.0)
    assert analysis.histogram_distance(h, h) == 0.0
