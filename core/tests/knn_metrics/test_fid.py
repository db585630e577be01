import warnings

import numpy as np
import pytest

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import NonFiniteError
from ganlab.core.metrics.fid import FeatureStats, fid_from_features, frechet_distance, trace_sqrt_product


def _eigvals_fid(mu1, s1, mu2, s2):
    # torch-fidelity's formula: tr sqrt(S1 S2) = sum sqrt(eigvals(S1 S2)) over complex eigenvalues.
    tr = np.sqrt(np.linalg.eigvals(s1 @ s2).astype(np.complex128)).real.sum()
    d = mu1 - mu2
    return d @ d + np.trace(s1) + np.trace(s2) - 2 * tr


def _feats(seed, n=800, d=64, offset=0.0):
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + 0.3 * rng.standard_normal((d, d))
    return rng.standard_normal((n, d)) @ mix + offset + rng.standard_normal(d)


def test_matches_cleanfid_and_eigvals_formula():
    from cleanfid.fid import frechet_distance as cleanfid_fd

    a, b = _feats(0), _feats(1, offset=0.5)
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    ours = frechet_distance(mu1, s1, mu2, s2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy deprecates sqrtm(disp=...)
        ref = cleanfid_fd(mu1, s1, mu2, s2)
    assert abs(ours - ref) <= 1e-9 * ref
    assert abs(ours - _eigvals_fid(mu1, s1, mu2, s2)) <= 1e-9 * ref
    assert fid_from_features(a, b) == pytest.approx(ours, rel=1e-12)


def test_closed_form_for_commuting_covariances():
    # Diagonal covariances: FID = |dmu|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    expected = 9.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    assert frechet_distance(mu1, np.diag(a), mu1, np.diag(a)) == pytest.approx(0.0, abs=1e-12)


def test_singular_covariance_uses_eigen_fallback():
    # Fewer samples than dimensions: rank-deficient covariances (Cholesky fails), the eigenvalue route still agrees.
    a, b = _feats(2, n=20, d=40), _feats(3, n=25, d=40)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    assert trace_sqrt_product(s1, s2) == pytest.approx(ref, rel=1e-6)
    assert np.isfinite(fid_from_features(a, b))


def test_feature_stats_streaming_and_merge(tmp_path):
    x = _feats(4, n=1000, d=16, offset=1e4)  # a large offset would cancel in a naive E[xx^T] - mu mu^T
    stats = FeatureStats()
    for s in range(0, 1000, 128):
        stats.update(x[s : s + 128])
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov(), np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(stats.cov(ddof=0), np.cov(x, rowvar=False, ddof=0), rtol=1e-9, atol=1e-9)
    part_a, part_b = FeatureStats().update(x[:300]), FeatureStats().update(x[300:] + 0.0)
    merged = part_a.merge(part_b)
    assert merged.n == 1000
    np.testing.assert_allclose(merged.cov(), np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)
    stats.save(tmp_path / "stats.npz")
    loaded = FeatureStats.load(tmp_path / "stats.npz")
    np.testing.assert_array_equal(loaded.cov(), stats.cov())
    assert fid_from_features(loaded, x) == pytest.approx(0.0, abs=1e-6)


def test_bad_input():
    a = _feats(5, n=50, d=8)
    with pytest.raises(ShapeError, match="same feature extractor"):
        fid_from_features(a, a[:, :6])
    bad = a.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        fid_from_features(a, bad)
    with pytest.raises(ShapeError, match="8-d"):
        FeatureStats().update(a).update(a[:, :4])
    with pytest.raises(ShapeError):
        frechet_distance(np.zeros(3), np.eye(4), np.zeros(3), np.eye(3))
