import contextlib
import io

import numpy as np
import pytest
from prdc import compute_prdc

from ganlab.core.errors import ShapeError
from ganlab.core.metrics import prdc as prdc_mod
from ganlab.core.metrics._checks import NonFiniteError
from ganlab.core.metrics.prdc import manifold_radii, partial_recall, prdc, precision_recall


def _reference(real, fake, k):
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints the sample counts
        return {key: float(v) for key, v in compute_prdc(real, fake, k).items()}


def _manifold_data(seed, n, m, d, scale=1.1, shift=0.05):
    # Low-dimensional structure plus noise, so that precision/recall/density/coverage are all strictly inside (0, 1).
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((8, d)) / np.sqrt(8)
    real = rng.standard_normal((n, 8)) @ w + 0.3 * rng.standard_normal((n, d))
    fake = (rng.standard_normal((m, 8)) * scale) @ w + shift + 0.3 * rng.standard_normal((m, d))
    return real.astype(np.float32), fake.astype(np.float32)


@pytest.mark.parametrize(("n", "m", "d", "k"), [(400, 300, 16, 5), (900, 1100, 128, 3), (700, 500, 512, 5)])
def test_equals_prdc_package(n, m, d, k, monkeypatch):
    monkeypatch.setattr(prdc_mod, "_ROWS", 256)  # several tiles in both directions
    monkeypatch.setattr(prdc_mod, "_COLS", 192)
    real, fake = _manifold_data(n + d, n, m, d)
    ours, ref = prdc(real, fake, k=k), _reference(real, fake, k)
    assert ours == ref  # identical, not approximately equal
    assert 0 < ours["precision"] < 1 and 0 < ours["recall"] < 1 and 0 < ours["coverage"] < 1
    assert precision_recall(real, fake, k=k) == {"precision": ref["precision"], "recall": ref["recall"]}


def test_float64_features_equal_prdc_package():
    real, fake = _manifold_data(1, 300, 300, 32)
    real, fake = real.astype(np.float64) * 3, fake.astype(np.float64) * 3
    assert prdc(real, fake, k=4) == _reference(real, fake, 4)


def test_uncertain_pairs_are_resolved_exactly(monkeypatch):
    # A fake exactly on a real ball's boundary (d == r in float32): strict '<' excludes it, '<=' includes it.
    real = np.array([[0, 0], [3, 0], [0, 4], [10, 10], [10, 13], [14, 10]], np.float32)
    fake = np.array([[3, 4], [0.5, 0.5], [40, 40], [11, 11], [10, 16]], np.float32)
    radii = manifold_radii(real, 1)
    np.testing.assert_allclose(radii, [3, 3, 4, 3, 3, 4])
    strict = prdc(real, fake, k=1)
    assert strict == _reference(real, fake, 1)
    loose = prdc(real, fake, k=1, strict=False)
    assert loose["density"] > strict["density"]  # (10, 16) lies exactly on the boundary of the ball of (10, 13)


def test_float32_near_tie_decided_as_the_prdc_package():
    # issue 11: the real-fake distance and the fake radius agree to one float32 step; the package rounds the squared
    # distance to float32 and takes a float32 root, rounding the float64 distance instead flips the strict '<'
    fake = np.array([[0, 0, 0], [9.556448, 16.130161, 5.382202], [128.66934, 148.39049, 116.14661]], np.float32)
    real = np.array([[-9.556447, -16.13016, -5.3822036], [500, 500, 500], [-500, 500, 500]], np.float32)
    ref = _reference(real, fake, 1)
    assert ref["recall"] == pytest.approx(1 / 3)
    assert prdc(real, fake, k=1) == ref
    assert partial_recall(real, fake, k=1) == ref["recall"]
    # hand check of the pair that decides it: real 0 vs the ball of fake 0 (radius = distance to fake 1)
    d2, r2 = (float(np.sum(v.astype(np.float64) ** 2)) for v in (real[0], fake[1]))
    assert np.sqrt(np.float32(d2)) < np.sqrt(np.float32(r2))  # the package's rounding: inside
    assert not np.float32(np.sqrt(d2)) < np.float32(np.sqrt(r2))  # the old rounding: outside (recall 0)


def test_partial_recall_is_recall_of_the_subset():
    real, fake = _manifold_data(5, 800, 600, 64)
    subset = real[::3]
    assert partial_recall(subset, fake, k=3) == _reference(subset, fake, 3)["recall"]
    assert partial_recall(real, fake, k=5) == prdc(real, fake, k=5)["recall"]


def test_radii_are_kth_neighbour_distances():
    real, _ = _manifold_data(6, 200, 10, 8)
    d = np.sqrt(((real[:, None, :].astype(np.float64) - real[None]) ** 2).sum(-1))
    np.testing.assert_allclose(manifold_radii(real, 4), np.sort(d, axis=1)[:, 4], rtol=1e-12)


def test_bad_input():
    real, fake = _manifold_data(7, 50, 50, 8)
    with pytest.raises(ShapeError, match="k=5"):
        prdc(real[:5], fake, k=5)
    with pytest.raises(ShapeError, match="k=5"):
        prdc(real, fake[:3], k=5)
    with pytest.raises(ShapeError, match="same feature extractor"):
        prdc(real, fake[:, :4])
    bad = fake.copy()
    bad[1, 1] = np.inf
    with pytest.raises(NonFiniteError):
        prdc(real, bad)
    with pytest.raises(ShapeError, match="radii_real"):
        prdc(real, fake, radii_real=np.ones(3))


def _brute_radii(x, k):
    d = np.sqrt(((x[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1))
    return np.sort(d, axis=1)[:, k]


def test_radii_with_duplicates_and_without_spare_candidates(monkeypatch):
    rng = np.random.default_rng(8)
    x = np.repeat(rng.standard_normal((30, 6)).astype(np.float32), 4, axis=0)  # every point has 3 exact copies
    np.testing.assert_array_equal(manifold_radii(x, 3), 0.0)
    np.testing.assert_allclose(manifold_radii(x, 5), _brute_radii(x, 5), rtol=1e-12)
    # no spare candidates: rows whose bound cannot exclude a hidden closer point are redone by brute force
    monkeypatch.setattr(prdc_mod, "_EXTRA_CANDIDATES", 0)
    monkeypatch.setattr(prdc_mod, "_ROWS", 16)
    y = rng.standard_normal((150, 5)).astype(np.float32)
    np.testing.assert_allclose(manifold_radii(y, 4), _brute_radii(y, 4), rtol=1e-12)
    np.testing.assert_allclose(manifold_radii(x, 5), _brute_radii(x, 5), rtol=1e-12)
