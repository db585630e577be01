"""The scorers against independent references: scipy's Gaussian, sklearn's PCA and NearestNeighbors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from sklearn.decomposition import PCA

from ganlab.core.errors import ConfigError, DatasetError, RegistryError, ShapeError
from ganlab.instance_selection.scoring import (
    SCORERS,
    gaussian_scores,
    knn_scores,
    ppca_num_components,
    ppca_scores,
    score_instances,
)


def _data(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return (rng.normal(size=(n, d)) @ mix * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d)).astype(np.float32)


def _scipy_gaussian(x: np.ndarray, reg: float = 1e-5) -> np.ndarray:
    x = x.astype(np.float64)
    mu = x.mean(0)
    cov = (x - mu).T @ (x - mu) / len(x) + reg * np.eye(x.shape[1])  # MLE covariance + reg I
    return scipy.stats.multivariate_normal(mu, cov).logpdf(x)


@pytest.mark.parametrize("n,d", [(300, 12), (40, 64), (3, 20), (1, 5)])
def test_gaussian_equals_scipy_logpdf(n, d):
    x = _data(n, d)
    ref = np.atleast_1d(_scipy_gaussian(x))
    got = gaussian_scores(x)
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-6 * np.abs(ref).max())
    # the ranking (which is what selection uses) is the same
    if n > 2:
        assert (np.argsort(got) == np.argsort(ref)).all()


def test_gaussian_defined_when_class_smaller_than_dimension():
    """n < d makes the MLE covariance singular; the 1e-5 I regularisation must keep the likelihood finite."""
    x = _data(10, 200, seed=3)
    got = gaussian_scores(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, _scipy_gaussian(x), rtol=1e-7)


def test_gaussian_reg_covar_changes_scores():
    x = _data(20, 30)
    np.testing.assert_allclose(gaussian_scores(x, reg_covar=1e-2), _scipy_gaussian(x, 1e-2), rtol=1e-8)
    with pytest.raises(ConfigError):
        gaussian_scores(x, reg_covar=0.0)


@pytest.mark.parametrize("n,d", [(400, 16), (60, 90)])
@pytest.mark.parametrize("rule", ["paper", "official"])
def test_ppca_equals_sklearn_pca_score_samples(n, d, rule):
    x = _data(n, d, seed=1)
    x64 = x.astype(np.float64)
    full = PCA(n_components=min(n, d), svd_solver="full").fit(x64)
    below = int(np.sum(np.cumsum(full.explained_variance_ratio_) < 0.95))
    q = below + 1 if rule == "paper" else below  # official: the count strictly below 95%
    assert ppca_num_components(full.explained_variance_, 0.95, rule) == q
    ref = PCA(n_components=q, svd_solver="full").fit(x64).score_samples(x64)
    got = ppca_scores(x, component_rule=rule)
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())


def test_ppca_paper_rule_reaches_the_target_variance():
    ev = np.array([50.0, 30.0, 14.0, 4.0, 2.0])  # cumulative: 0.5, 0.8, 0.94, 0.98, 1.0
    assert ppca_num_components(ev, 0.95, "paper") == 4
    assert ppca_num_components(ev, 0.95, "official") == 3
    assert ppca_num_components(np.array([99.0, 1.0]), 0.95, "official") == 1  # count 0 raised to 1


def test_ppca_fixed_components_and_errors():
    x = _data(100, 10)
    ref = PCA(n_components=3, svd_solver="full").fit(x.astype(np.float64)).score_samples(x.astype(np.float64))
    np.testing.assert_allclose(ppca_scores(x, n_components=3), ref, rtol=1e-8)
    with pytest.raises(ConfigError):
        ppca_scores(x, variance=1.5)
    with pytest.raises(ConfigError):
        ppca_scores(x, component_rule="nope")
    with pytest.raises(ShapeError):
        ppca_scores(x[:1])


def test_ppca_all_components_is_the_full_covariance_model():
    # issue 10: n > d and 95% of the variance needs all d components -> sklearn's full-covariance Gaussian
    z = np.random.default_rng(0).standard_normal((1000, 2)) * [1.0, 0.8] + 3
    assert ppca_num_components(PCA(2, svd_solver="full").fit(z).explained_variance_, 0.95, "paper") == 2
    ref = PCA(2, svd_solver="full").fit(z).score_samples(z)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(ppca_scores(z), ref, rtol=1e-8)
    np.testing.assert_allclose(ppca_scores(z, n_components=2), ref, rtol=1e-8)
    # the really degenerate case keeps the error, and says why: n <= d with all n components
    x = _data(5, 8)
    with pytest.raises(ShapeError, match="too small"):
        ppca_scores(x, n_components=5)


def test_knn_equals_sklearn_nearest_neighbors():
    from sklearn.neighbors import NearestNeighbors

    x = _data(200, 8, seed=2)
    for k in (1, 5):
        nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(x.astype(np.float64))
        dist, _ = nn.kneighbors(x.astype(np.float64))  # self at distance 0 comes first
        np.testing.assert_allclose(knn_scores(x, k=k), -dist[:, k], rtol=1e-4, atol=1e-4)


def test_knn_needs_k_plus_one_instances():
    with pytest.raises(ShapeError, match="K\\+1"):
        knn_scores(_data(5, 3), k=5)
    x = _data(40, 3)
    labels = np.array([0] * 35 + [1] * 5)
    with pytest.raises(ShapeError, match="class 1"):
        score_instances(x, labels, "knn")


def test_score_instances_fits_one_model_per_class():
    x = _data(90, 6)
    labels = np.repeat([2, 0, 1], 30)
    np.random.default_rng(0).shuffle(labels)
    got = score_instances(x, labels, "gaussian")
    for c in (0, 1, 2):
        m = labels == c
        np.testing.assert_allclose(got[m], _scipy_gaussian(x[m]), rtol=1e-8)
    np.testing.assert_allclose(score_instances(x, None, "gaussian"), _scipy_gaussian(x), rtol=1e-8)
    ref = PCA(n_components=4, svd_solver="full").fit(x[labels == 1].astype(np.float64))
    got = score_instances(x, labels, "ppca", n_components=4)
    np.testing.assert_allclose(got[labels == 1], ref.score_samples(x[labels == 1].astype(np.float64)), rtol=1e-8)


def test_score_instances_accepts_memmap(tmp_path):
    x = _data(120, 5)
    mm = np.lib.format.open_memmap(tmp_path / "f.npy", mode="w+", dtype=np.float32, shape=x.shape)
    mm[:] = x
    labels = np.arange(120) % 4
    np.testing.assert_allclose(score_instances(mm, labels), score_instances(x, labels))


def test_bad_inputs():
    x = _data(50, 4)
    with pytest.raises(RegistryError, match="gaussian"):
        score_instances(x, None, "gausian")
    with pytest.raises(ShapeError):
        score_instances(x, np.zeros(49, dtype=int))
    with pytest.raises(ShapeError):
        score_instances(x[0], None)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        score_instances(bad, None)
    assert set(SCORERS.names()) == {"gaussian", "knn", "ppca"}


@pytest.mark.parametrize("scorer", ["gaussian", "ppca"])
def test_scoring_holds_one_class_in_float64_at_a_time(monkeypatch, scorer):
    import ganlab.instance_selection.scoring as scoring

    sizes = []
    real = scoring._as_float64

    def spy(x, device):
        sizes.append(len(x))
        return real(x, device)

    monkeypatch.setattr(scoring, "_as_float64", spy)
    x = _data(600, 8)
    labels = np.repeat(np.arange(6), 100)
    score_instances(x, labels, scorer)
    assert sizes and max(sizes) <= 100
    sizes.clear()
    monkeypatch.setattr(scoring, "_CHUNK", 128)  # a global fit streams row chunks
    score_instances(x, None, scorer)
    assert max(sizes) <= 128
