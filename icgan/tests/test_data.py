"""IC-GAN's sampling: uniform real neighbours (chi-square), never self, G's conditionings independent of the real
batch, labels from a random neighbour, flips at 1/2, nnclass_balance, determinism and exact resume."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ganlab.core.data.samplers import InfiniteSampler
from ganlab.icgan.data import ConditioningDraws, NeighbourSampler


def _nns(n=40, k=6, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(np.delete(np.arange(n), i), size=k, replace=False) for i in range(n)])


def test_real_neighbours_are_uniform_over_the_neighbourhood_chi_square():
    nns = _nns()
    draws = ConditioningDraws(nns, seed=3)
    inst = np.full(4000, 7)
    counts = {}
    for _ in range(5):
        r = draws.real(inst)
        assert (r.instance_idx == 7).all()
        for j in r.image_idx:
            counts[j] = counts.get(j, 0) + 1
    assert set(counts) == set(nns[7].tolist()) and 7 not in counts  # only neighbours, never self
    obs = np.array([counts[j] for j in nns[7]])
    assert stats.chisquare(obs).pvalue > 1e-3
    # flips are fair coins
    r = draws.real(np.arange(40).repeat(100))
    for flips in (r.feat_flip, r.image_flip):
        assert stats.binomtest(int(flips.sum()), len(flips), 0.5).pvalue > 1e-3


def test_fake_conditionings_are_uniform_and_independent_of_the_real_batch():
    nns = _nns()
    a = ConditioningDraws(nns, seed=5)
    b = ConditioningDraws(nns, seed=5)
    fa, fb, real = [], [], []
    for step in range(50):
        real.append(a.real(np.arange(step % 40, step % 40 + 1).repeat(16) % 40).instance_idx)  # only `a` draws reals
        fa.append(a.fake(16).instance_idx)
        fb.append(b.fake(16).instance_idx)
    fa, fb, real = map(np.concatenate, (fa, fb, real))
    np.testing.assert_array_equal(fa, fb)  # the real draws do not touch G's stream at all
    assert stats.chisquare(np.bincount(fa, minlength=40)).pvalue > 1e-3  # uniform over instances
    table = np.histogram2d(real // 10, fa // 10, bins=4)[0]  # contingency of (real, fake) instances per step
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_cc_labels_come_from_a_random_neighbour_of_the_instance():
    nns = _nns()
    labels = np.arange(40) % 5
    pool = np.full(1, 3)
    draws = ConditioningDraws(nns, labels, seed=1, pool=pool)
    lab = np.concatenate([draws.fake(500).labels for _ in range(8)])
    expected = np.bincount(labels[nns[3]], minlength=5) / nns.shape[1] * len(lab)
    obs = np.bincount(lab, minlength=5)
    keep = expected > 0
    assert (obs[~keep] == 0).all()
    assert stats.chisquare(obs[keep], expected[keep]).pvalue > 1e-3


def test_nnclass_balance_draws_classes_uniformly_and_instances_from_neighbours():
    nns = _nns()
    labels = np.r_[np.zeros(30, int), np.ones(8, int), np.full(2, 2)]  # long-tailed
    draws = ConditioningDraws(nns, labels, seed=2, balance="nnclass_balance", num_classes=3)
    f = draws.fake(6000)
    assert stats.chisquare(np.bincount(f.labels, minlength=3)).pvalue > 1e-3
    r = draws.real(np.arange(40))
    np.testing.assert_array_equal(r.image_idx, np.arange(40))  # the drawn index is the real image
    assert all(r.instance_idx[i] in nns[i] for i in range(40))


def test_sampler_is_deterministic_rank_aware_and_resumes_exactly():
    nns = _nns()

    def make(rank=0, world=1):
        base = InfiniteSampler(40, seed=9, rank=rank, world_size=world)
        return NeighbourSampler(base, ConditioningDraws(nns, seed=9, rank=rank, world_size=world))

    s1, s2 = make(), make()
    seq1 = [s1.next_indices(8) for _ in range(3)]
    np.testing.assert_array_equal(np.concatenate(seq1), np.concatenate([s2.next_indices(8) for _ in range(3)]))
    state = s1.state_dict()
    cont = [s1.next_indices(8) for _ in range(3)]
    s3 = make()
    s3.load_state_dict(state)
    np.testing.assert_array_equal(np.concatenate(cont), np.concatenate([s3.next_indices(8) for _ in range(3)]))
    r0, r1 = make(0, 2), make(1, 2)
    a, b = r0.next_indices(8), r1.next_indices(8)
    assert not np.array_equal(r0.last.instance_idx, r1.last.instance_idx)  # disjoint shares of the stream
    assert set(r0.last.instance_idx) | set(r1.last.instance_idx) == set(InfiniteSampler(40, seed=9).next_indices(16))
    assert a.shape == b.shape == (8,)


def test_bad_balance_is_refused():
    from ganlab.core.errors import ConfigError, DatasetError

    with pytest.raises(ConfigError):
        ConditioningDraws(_nns(), balance="class_balance")
    with pytest.raises(DatasetError):
        ConditioningDraws(_nns(), balance="nnclass_balance")
