import sys

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from ganlab.core.errors import MissingDependencyError, ShapeError
from ganlab.core.knn import NonFiniteError, kmeans, kmeans_instances, knn


def _sk(metric):
    return "euclidean" if metric == "l2" else "cosine"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((600, 24)).astype(np.float32), rng.standard_normal((250, 24)).astype(np.float32)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_self_search_matches_sklearn(data, metric):
    x, _ = data
    nn = NearestNeighbors(algorithm="brute", metric=_sk(metric)).fit(x)
    ref_d, ref_i = nn.kneighbors(None, 7)  # sklearn excludes each point itself when X is None
    d, i = knn(x, k=7, metric=metric, exclude_self=True, batch_size=128)
    np.testing.assert_array_equal(i, ref_i)
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-5)
    assert d.dtype == np.float32 and i.dtype == np.int64

    ref_d, ref_i = nn.kneighbors(x, 7)  # with self: distance 0 first
    d, i = knn(x, k=7, metric=metric)
    np.testing.assert_array_equal(i, ref_i)
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(i[:, 0], np.arange(len(x)))


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_query_against_database_matches_sklearn(data, metric):
    x, q = data
    ref_d, ref_i = NearestNeighbors(algorithm="brute", metric=_sk(metric)).fit(x).kneighbors(q, 5)
    d, i = knn(q, x, k=5, metric=metric, batch_size=37)
    np.testing.assert_array_equal(i, ref_i)
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-5)
    assert np.all(np.diff(d, axis=1) >= 0)


def test_float64_and_torch_inputs(data):
    import torch

    x, q = data
    d64, i64 = knn(q.astype(np.float64), x.astype(np.float64), k=3)
    dt, it = knn(torch.from_numpy(q), torch.from_numpy(x), k=3)
    np.testing.assert_array_equal(i64, it)
    np.testing.assert_allclose(d64, dt, rtol=1e-6)


def test_duplicates_exclude_self_keeps_k_neighbours():
    x = np.zeros((6, 3), np.float32)
    x[3:] = 1.0
    d, i = knn(x, k=2, exclude_self=True)
    assert d.shape == (6, 2)
    np.testing.assert_array_equal(d, 0.0)
    for row in range(6):
        assert row not in i[row]
        assert set(i[row]) <= ({0, 1, 2} if row < 3 else {3, 4, 5})


def test_k_too_large_is_a_clear_error(data):
    x, _ = data
    with pytest.raises(ShapeError, match="k=10"):
        knn(x[:10], k=10)
    with pytest.raises(ShapeError, match="k=10"):
        knn(x[:10], k=10, exclude_self=True)
    with pytest.raises(ShapeError, match="positive"):
        knn(x, k=0)


def test_bad_inputs(data):
    x, q = data
    with pytest.raises(ShapeError, match="features"):
        knn(q[:, :5], x)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        knn(bad)
    with pytest.raises(ShapeError, match="2-D"):
        knn(x[0])
    with pytest.raises(ShapeError, match="metric"):
        knn(x, metric="manhattan")
    with pytest.raises(ShapeError, match="exclude_self"):
        knn(q, x, exclude_self=True)


def test_missing_faiss_is_a_clear_error(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` raise ImportError
    with pytest.raises(MissingDependencyError, match="pip install faiss-cpu"):
        knn(data[0], k=3)
    with pytest.raises(MissingDependencyError):
        kmeans(data[0], 4)


def test_kmeans_recovers_separated_blobs():
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((5, 8)) * 20
    labels = np.repeat(np.arange(5), 80)
    x = (centres[labels] + rng.standard_normal((400, 8))).astype(np.float32)
    cent, assign = kmeans(x, 5, n_iter=25, seed=1)
    assert cent.shape == (5, 8) and assign.shape == (400,) and assign.dtype == np.int64
    # one cluster per blob: the label -> cluster map is a bijection
    pairs = set(zip(labels.tolist(), assign.tolist()))
    assert len(pairs) == 5 and len({p[1] for p in pairs}) == 5
    ref = KMeans(5, n_init=5, random_state=0).fit(x)
    np.testing.assert_allclose(np.sort(cent[:, 0]), np.sort(ref.cluster_centers_[:, 0]), atol=1e-3)
    # assignments are the nearest centroid
    brute = ((x[:, None, :] - cent[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(assign, brute)
    # deterministic for a seed
    np.testing.assert_array_equal(kmeans(x, 5, n_iter=25, seed=1)[0], cent)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_kmeans_instances_are_the_real_rows_nearest_each_centroid(metric):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    idx = kmeans_instances(x, 7, seed=2, metric=metric)
    cent, _ = kmeans(x, 7, seed=2, metric=metric)
    ref = NearestNeighbors(algorithm="brute", metric=_sk(metric)).fit(x).kneighbors(cent, 1)[1][:, 0]
    np.testing.assert_array_equal(idx, ref)
    if metric == "cosine":
        np.testing.assert_allclose(np.linalg.norm(cent, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ShapeError, match="n_clusters"):
        kmeans(x, 301)
