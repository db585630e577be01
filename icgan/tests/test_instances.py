"""Stored instances: the k-means instance is the brute-force nearest real point of each centroid; random and all;
uniform draws with replacement; neighbour labels; bad counts refused; save / load."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ganlab.core.errors import ShapeError
from ganlab.core.knn import kmeans
from ganlab.icgan.features import FeatureMismatchError, InstanceFeatures
from ganlab.icgan.instances import StoredInstances, kmeans_indices, select_instances
from ganlab.icgan.neighbours import compute_neighbourhoods


def _feats(n=600, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, d)) * 3
    return InstanceFeatures.from_arrays(centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d)))


def test_kmeans_instance_is_the_nearest_real_point_of_each_centroid():
    feats = _feats()
    unit = feats.unit()
    idx = kmeans_indices(unit, 20, n_iter=25, seed=1234)
    centroids, _ = kmeans(unit, 20, n_iter=25, seed=1234, metric="l2")  # the same faiss run
    d2 = ((centroids[:, None, :].astype(np.float64) - unit[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(idx, d2.argmin(1))


def test_selections_and_bad_counts():
    feats = _feats(100)
    with pytest.raises(ShapeError, match="at most 100"):
        select_instances(feats, 101)
    with pytest.raises(ShapeError):
        select_instances(feats, 0)
    rnd = select_instances(feats, 30, method="random", seed=3)
    assert len(set(rnd.indices.tolist())) == 30
    np.testing.assert_allclose(rnd.features, feats.get(rnd.indices).numpy())
    assert len(select_instances(feats, 5, method="all")) == 100


def test_draws_are_uniform_with_replacement_and_carry_neighbour_labels(tmp_path):
    feats = _feats(200)
    labels = np.arange(200) % 4
    nb = compute_neighbourhoods(feats, 5)
    stored = select_instances(feats, 10, method="random", neighbourhoods=nb, labels=labels)
    np.testing.assert_array_equal(stored.neighbour_labels, labels[nb.indices[stored.indices]])
    pos, lab = stored.draw(5000, np.random.default_rng(0))
    assert stats.chisquare(np.bincount(pos, minlength=10)).pvalue > 1e-3
    assert all(lab[i] in stored.neighbour_labels[pos[i]] for i in range(100))
    path = stored.save(tmp_path / "s.npz")
    back = StoredInstances.load(path, feats)
    np.testing.assert_array_equal(back.indices, stored.indices)
    with pytest.raises(FeatureMismatchError):
        StoredInstances.load(path, _feats(200, seed=1))
