"""Neighbourhoods against sklearn's brute-force cosine neighbours, duplicates, radii, fingerprints, bad k."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from ganlab.core.errors import GanlabError, ShapeError
from ganlab.icgan.features import FeatureMismatchError, InstanceFeatures
from ganlab.icgan.neighbours import Neighbourhoods, compute_neighbourhoods


def _features(n=400, d=32, seed=0):
    rng = np.random.default_rng(seed)
    return InstanceFeatures.from_arrays(
        np.abs(rng.normal(size=(n, d))).astype(np.float32) * rng.uniform(0.5, 3, (n, 1))
    )


def test_equal_sklearn_cosine_neighbours_with_self_excluded():
    feats = _features()
    nb = compute_neighbourhoods(feats, 10, batch_size=64)
    sk = NearestNeighbors(n_neighbors=10, metric="cosine", algorithm="brute").fit(np.asarray(feats.raw, np.float64))
    dist, idx = sk.kneighbors()  # X=None: self excluded
    np.testing.assert_array_equal(nb.indices, idx)
    # Euclidean distance between unit vectors = sqrt(2 (1 - cos)) = sqrt(2 * cosine distance)
    np.testing.assert_allclose(nb.distances, np.sqrt(2 * dist), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nb.radii, np.sqrt(2 * dist[:, -1]), rtol=1e-5, atol=1e-6)
    assert not (nb.indices == np.arange(len(feats))[:, None]).any()


def test_duplicates_leave_exactly_k_and_never_self():
    base = _features(50, 8).raw
    raw = np.concatenate([base, base, base])  # every instance has two exact duplicates
    nb = compute_neighbourhoods(InstanceFeatures.from_arrays(raw), 4)
    assert nb.indices.shape == (150, 4)
    assert not (nb.indices == np.arange(150)[:, None]).any()
    for i in range(150):
        others = {(i + 50) % 150, (i + 100) % 150}
        assert others <= set(nb.indices[i, :2].tolist())  # the duplicates come first (distance 0)
        assert len(set(nb.indices[i].tolist())) == 4
    np.testing.assert_allclose(nb.distances[:, :2], 0.0, atol=1e-6)


def test_k_at_least_n_is_refused_before_any_search():
    feats = _features(10, 4)
    with pytest.raises(ShapeError, match="k=10"):
        compute_neighbourhoods(feats, 10)
    with pytest.raises(ShapeError):
        compute_neighbourhoods(feats, 0)


def test_save_load_roundtrip_and_foreign_files_refused(tmp_path, digits):
    feats = _features()
    nb = compute_neighbourhoods(feats, 5)
    path = nb.save(tmp_path / "nb.npz")
    back = Neighbourhoods.load(path, feats)
    np.testing.assert_array_equal(back.indices, nb.indices)
    np.testing.assert_allclose(back.radii, nb.radii)
    other = _features(seed=1)
    with pytest.raises(FeatureMismatchError, match="features"):
        Neighbourhoods.load(path, other)
    with pytest.raises(FeatureMismatchError, match="dataset"):
        Neighbourhoods.load(path, None, digits)  # 400 neighbourhoods for 1797 items
    assert issubclass(FeatureMismatchError, GanlabError)


def test_truncated_neighbourhoods_are_the_nearest_of_a_larger_search():
    feats = _features()
    big, small = compute_neighbourhoods(feats, 12), compute_neighbourhoods(feats, 4)
    np.testing.assert_array_equal(big.truncated(4).indices, small.indices)
    np.testing.assert_allclose(big.truncated(4).radii, small.radii, rtol=1e-6)
    deg = small.in_degree()
    assert deg.sum() == 400 * 4 and deg.shape == (400,)
    np.testing.assert_array_equal(deg, np.bincount(small.indices.ravel(), minlength=400))


def test_large_features_are_normalised_into_a_temporary_memmap(tmp_path, monkeypatch):
    import ganlab.icgan.neighbours as nbmod
    from ganlab.icgan.features import save_features

    feats = _features(300, 16)
    folder = save_features(feats, tmp_path / "f")
    loaded = InstanceFeatures.load(folder)
    monkeypatch.setattr(nbmod, "LARGE_BYTES", 0)
    nb = compute_neighbourhoods(loaded, 6)
    np.testing.assert_array_equal(nb.indices, compute_neighbourhoods(feats, 6).indices)
    assert sorted(p.name for p in folder.iterdir()) == ["features.json", "features.npy"]  # the copy is gone
