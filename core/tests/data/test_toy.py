"""2-D toy datasets against their definitions (Dia-GAN §3 and reference notes; GOLD's make_blobs set)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from ganlab.core.data import get_dataset
from ganlab.core.errors import DatasetError


def _points(ds) -> np.ndarray:
    return ds.get_batch(np.arange(len(ds)))["image"].numpy().astype(np.float64)


def test_gaussians25_definition():
    ds = get_dataset("gaussians25")
    x, y = _points(ds), ds.labels
    assert x.shape == (10_000, 2) and ds.shape == (2,) and ds.num_classes == 25
    assert np.bincount(y, minlength=25).tolist() == [400] * 25
    # label rule 5*(i+2)+(j+2) for the centre (2i, 2j), recovered from the data by rounding
    ij = np.rint(x * 2.828 / 2.0).astype(int)
    np.testing.assert_array_equal(y, 5 * (ij[:, 0] + 2) + (ij[:, 1] + 2))
    for k in range(25):
        i, j = divmod(k, 5)
        pts = x[y == k]
        centre = np.array([2.0 * (i - 2), 2.0 * (j - 2)]) / 2.828
        se = 0.05 / 2.828 / np.sqrt(len(pts))
        np.testing.assert_allclose(pts.mean(0), centre, atol=5 * se)
        np.testing.assert_allclose(pts.std(0, ddof=1), 0.05 / 2.828, rtol=0.2)
    np.testing.assert_allclose(ds.centers[y], np.rint(x * 2.828 / 2.0) * 2.0 / 2.828)
    assert ds.sigma == pytest.approx(0.05 / 2.828)
    # pooled per-axis std over all modes: the closed form within-mode sigma
    resid = x - ds.centers[y]
    np.testing.assert_allclose(resid.std(0), 0.05 / 2.828, rtol=0.05)


def test_gaussians25_shuffled_and_seeded():
    a, b = get_dataset("gaussians25"), get_dataset("gaussians25")
    np.testing.assert_array_equal(_points(a), _points(b))
    assert a.fingerprint == b.fingerprint
    assert len(set(a.labels[:25].tolist())) > 5  # not laid out mode by mode
    assert get_dataset("gaussians25", seed=2).fingerprint != a.fingerprint


def test_ring8_definition():
    ds = get_dataset("ring8")
    x, y = _points(ds), ds.labels
    assert ds.num_classes == 8 and np.bincount(y).tolist() == [1250] * 8
    angle = np.mod(np.rint(np.arctan2(x[:, 1], x[:, 0]) / (2 * np.pi / 8)), 8).astype(int)
    np.testing.assert_array_equal(angle, y)
    np.testing.assert_allclose(np.linalg.norm(ds.centers, axis=1), 2.0)
    for k in range(8):
        pts = x[y == k]
        centre = 2.0 * np.array([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)])
        np.testing.assert_allclose(pts.mean(0), centre, atol=5 * 0.02 / np.sqrt(len(pts)))
        np.testing.assert_allclose(pts.std(0, ddof=1), 0.02, rtol=0.1)


@pytest.mark.parametrize("rho", [0.99, 0.95, 0.9])
def test_gaussian_minor_groups(rho):
    ds = get_dataset("gaussian_minor", rho=rho)
    x = _points(ds)
    n_minor = {0.99: 100, 0.95: 500, 0.9: 1000}[rho]
    assert np.bincount(ds.groups).tolist() == [10_000 - n_minor, n_minor]
    r = np.linalg.norm(x, axis=1)
    assert r[ds.groups == 1].min() >= r[ds.groups == 0].max()  # the minor group is the far tail
    np.testing.assert_allclose(x.mean(0), 0.0, atol=5 * 3.0 / 100)
    np.testing.assert_allclose(x.std(0), 3.0, rtol=0.05)
    assert ds.num_classes == 0 and not ds.labels.any()
    assert ds[0].keys() >= {"index", "image", "label", "group"}


def test_clusters6_matches_make_blobs_and_gold_seeding():
    tr, te = get_dataset("clusters6"), get_dataset("clusters6", split="test")
    ref_x, ref_c = make_blobs(n_samples=2000, centers=6, cluster_std=0.5, random_state=1)
    np.testing.assert_allclose(np.concatenate([_points(tr), _points(te)]), ref_x, atol=1e-5)
    np.testing.assert_array_equal(np.concatenate([tr.labels, te.labels]), ref_c % 2)
    assert tr.num_classes == 2 and len(tr) == len(te) == 1000
    # GOLD seeds numpy's global state with 1 and lets make_blobs use it: the same draw
    np.random.seed(1)  # noqa: NPY002  (reproducing GOLD's global seeding on purpose)
    glob_x, _ = make_blobs(n_samples=2000, centers=6, cluster_std=0.5)
    np.testing.assert_allclose(glob_x, ref_x)
    x, m = _points(tr), tr.modes
    assert np.all(np.abs(tr.centers) <= 10)
    for c in range(6):
        np.testing.assert_allclose(x[m == c].std(0, ddof=1), 0.5, rtol=0.25)


def test_toy_bad_input():
    with pytest.raises(DatasetError, match=r"\(0.5, 1\)"):
        get_dataset("gaussian_minor", rho=1.0)
    with pytest.raises(DatasetError, match="split"):
        get_dataset("gaussians25", split="test")
