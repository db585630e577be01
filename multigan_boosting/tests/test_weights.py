"""Algorithm 1 against a numpy hand computation; blockwise = naive; bad input."""

import numpy as np
import pytest
import torch

from ganlab.core.errors import GanlabError
from ganlab.multigan_boosting.weights import (
    AlgorithmOneError,
    apply_transform,
    class_distance_sums,
    sample_weights,
    union_features,
)


def _hand(real, ry, fake, fy, transform, equalize=False):
    """Algorithm 1 written out with numpy loops over classes and pairs (float64)."""
    n = len(real)
    w = np.zeros(n)
    for k in np.unique(ry):
        r_idx = np.flatnonzero(ry == k)
        g = fake[fy == k]
        d = np.array([sum(np.sqrt(((real[i] - gj) ** 2).sum()) for gj in g) for i in r_idx])
        wk = (d - d.min()) / d.max()
        mu, sd = wk.mean(), np.sqrt(((wk - wk.mean()) ** 2).mean())
        if transform == "A_mu":
            wk = np.array([0.0 if v < mu else v for v in wk])
        elif transform == "A_sigma":
            wk = np.array([0.0 if v < mu - sd else v for v in wk])
        elif transform == "B":
            wk = np.array([1.0 / (1.0 + np.exp(-2.0 * (v - mu) / sd)) for v in wk])
        w[r_idx] = wk
    if not equalize:
        return w, w / w.sum()
    p = np.zeros(n)
    for k in np.unique(ry):
        m = ry == k
        p[m] = w[m] / w[m].sum() * m.sum() / n
    return w, p


@pytest.fixture
def feats():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(90, 16))
    ry = rng.integers(0, 3, 90)
    fake = rng.normal(size=(60, 16)) + 0.3
    fy = np.repeat(np.arange(3), 20)
    return real, ry, fake, fy


@pytest.mark.parametrize("transform", ["A_mu", "A_sigma", "B", "C"])
@pytest.mark.parametrize("equalize", [False, True])
def test_algorithm1_equals_hand_computation(feats, transform, equalize):
    real, ry, fake, fy = feats
    w_ref, p_ref = _hand(real, ry, fake, fy, transform, equalize)
    res = sample_weights(real, ry, fake, fy, transform, equalize_class_mass=equalize, block_size=7)
    np.testing.assert_allclose(res.weights, w_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(res.probs, p_ref, rtol=1e-4, atol=1e-8)
    assert res.probs.sum() == pytest.approx(1.0)
    if transform.startswith("A"):
        assert (res.weights == 0).any()  # the threshold actually zeroes part of every class


def test_equalized_mass_follows_real_class_shares(feats):
    real, ry, fake, fy = feats
    res = sample_weights(real, ry, fake, fy, "A_mu", equalize_class_mass=True)
    for k in range(3):
        assert res.per_class[k]["mass"] == pytest.approx(np.mean(ry == k))


def test_blockwise_equals_naive_cdist():
    g = torch.Generator().manual_seed(1)
    r, f = torch.randn(300, 32, generator=g), torch.randn(170, 32, generator=g)
    naive = torch.cdist(r.double(), f.double()).sum(1).numpy()
    for block in (1, 64, 1000):
        np.testing.assert_allclose(class_distance_sums(r, f, block_size=block), naive, rtol=1e-5)
    np.testing.assert_allclose(class_distance_sums(r, f, dtype=torch.float64), naive, rtol=1e-12)


def test_transform_b_is_sigmoid_and_c_identity():
    w = np.array([0.0, 0.1, 0.5, 0.9])
    out, mu, sd = apply_transform(w, "B")
    assert out == pytest.approx(1 / (1 + np.exp(-2 * (w - w.mean()) / w.std())))
    assert apply_transform(w, "C")[0] == pytest.approx(w)


def test_class_without_samples_is_a_clear_error(feats):
    real, ry, fake, fy = feats
    keep = fy != 2
    with pytest.raises(AlgorithmOneError, match=r"class\(es\) \[2\] have none"):
        sample_weights(real, ry, fake[keep], fy[keep])
    assert issubclass(AlgorithmOneError, GanlabError)


def test_bad_inputs(feats):
    real, ry, fake, fy = feats
    with pytest.raises(AlgorithmOneError, match="unknown weight transform"):
        sample_weights(real, ry, fake, fy, "D")
    with pytest.raises(AlgorithmOneError, match="-d but synthetic"):
        sample_weights(real, ry, fake[:, :8], fy)
    with pytest.raises(GanlabError, match="labels"):
        sample_weights(real, ry[:-1], fake, fy)


def test_union_vs_previous():
    a = (torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))
    b = (torch.ones(2, 2), torch.tensor([0, 1]))
    f, y = union_features([a, b], "union")
    assert f.shape == (6, 2) and y.tolist() == [0, 1, 0, 1, 0, 1]
    f, y = union_features([a, b], "previous")
    assert f.shape == (2, 2) and bool((f == 1).all())


def test_distance_blocks_never_hold_the_full_matrix(monkeypatch):
    """Every temporary distance block is at most block_size x n_fake (the full n_real x n_fake never exists)."""
    shapes = []
    real_addmm = torch.addmm

    def spy(*args, **kwargs):
        out = real_addmm(*args, **kwargs)
        shapes.append(tuple(out.shape))
        return out

    monkeypatch.setattr(torch, "addmm", spy)
    r, f = torch.randn(1000, 8), torch.randn(300, 8)
    class_distance_sums(r, f, block_size=128)
    assert shapes and max(s[0] for s in shapes) == 128 and {s[1] for s in shapes} == {300}
    assert len(shapes) == 8  # ceil(1000 / 128) blocks
