"""Samplers: uniform epochs, weighted frequencies (chi-square), distributed shares, exact resume."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import torch
from scipy import stats

from ganlab.core.data.samplers import InfiniteSampler, WeightedSampler
from ganlab.core.errors import CheckpointError, DatasetError


def _roundtrip(state):
    """Through torch.save/torch.load, as a checkpoint would store it."""
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


# ------------------------------------------------------------------------------------------ InfiniteSampler
def test_infinite_each_epoch_is_a_permutation_and_epochs_differ():
    s = InfiniteSampler(17, seed=3)
    draws = np.concatenate([s.next_indices(5) for _ in range(17 * 3 // 5 + 1)])[: 17 * 3]
    epochs = draws.reshape(3, 17)
    for e in epochs:
        assert sorted(e.tolist()) == list(range(17))
    assert not np.array_equal(epochs[0], epochs[1])
    assert s.epoch == pytest.approx(s.position / 17)


def test_infinite_subset_indices_only():
    keep = np.array([2, 5, 7, 11, 13])
    s = InfiniteSampler(20, seed=0, indices=keep)
    draws = s.next_indices(5 * 4)
    for e in draws.reshape(4, 5):
        assert sorted(e.tolist()) == keep.tolist()
    assert len(s) == 5


def test_infinite_deterministic_for_seed():
    a = InfiniteSampler(100, seed=7).next_indices(250)
    b = InfiniteSampler(100, seed=7).next_indices(250)
    c = InfiniteSampler(100, seed=8).next_indices(250)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_infinite_stream_independent_of_call_sizes():
    s1, s2 = InfiniteSampler(30, seed=1), InfiniteSampler(30, seed=1)
    a = np.concatenate([s1.next_indices(k) for k in (7, 1, 13, 29, 50)])
    b = s2.next_indices(100)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_infinite_distributed_shares(world_size):
    n, k, rounds = 23, 4, 9
    single = InfiniteSampler(n, seed=5)
    ranks = [InfiniteSampler(n, seed=5, rank=r, world_size=world_size) for r in range(world_size)]
    for _ in range(rounds):
        shares = [s.next_indices(k) for s in ranks]
        expected = single.next_indices(k * world_size)
        # union (in rank order) is the single-process draw; the shares are disjoint slices of it
        np.testing.assert_array_equal(np.concatenate(shares), expected)
    assert all(s.position == single.position for s in ranks)
    assert len(ranks[0]) == n // world_size


def test_infinite_state_dict_resumes_exact_stream():
    s = InfiniteSampler(40, seed=2, indices=np.arange(0, 40, 2))
    s.next_indices(33)
    state = _roundtrip(s.state_dict())
    expected = s.next_indices(57)
    t = InfiniteSampler(40, seed=2, indices=np.arange(0, 40, 2))
    t.load_state_dict(state)
    np.testing.assert_array_equal(t.next_indices(57), expected)


def test_infinite_resume_on_another_world_size():
    s = InfiniteSampler(50, seed=4)
    s.next_indices(30)
    state = s.state_dict()
    expected = s.next_indices(20)
    shares = []
    for r in range(2):
        t = InfiniteSampler(50, seed=4, rank=r, world_size=2)
        t.load_state_dict(state)
        shares.append(t.next_indices(10))
    np.testing.assert_array_equal(np.concatenate(shares), expected)


def test_infinite_errors():
    with pytest.raises(DatasetError, match="rank"):
        InfiniteSampler(10, rank=2, world_size=2)
    with pytest.raises(DatasetError, match=r"\[0, 10\)"):
        InfiniteSampler(10, indices=[3, 10])
    with pytest.raises(DatasetError, match="at least one"):
        InfiniteSampler(10, indices=[])
    state = InfiniteSampler(10, seed=1).state_dict()
    with pytest.raises(CheckpointError, match="seed"):
        InfiniteSampler(10, seed=2).load_state_dict(state)
    with pytest.raises(CheckpointError, match="pool"):
        InfiniteSampler(10, seed=1, indices=[1, 2]).load_state_dict(state)


def test_infinite_as_dataloader_sampler():
    s = InfiniteSampler(12, seed=0)
    loader = torch.utils.data.DataLoader(list(range(12)), batch_size=4, sampler=s)
    seen = torch.cat(list(loader)).tolist()
    assert sorted(seen) == list(range(12))


# ------------------------------------------------------------------------------------------ WeightedSampler
def _chi2_pvalue(draws: np.ndarray, weights: np.ndarray) -> float:
    counts = np.bincount(draws, minlength=weights.size)
    expected = weights / weights.sum() * draws.size
    return stats.chisquare(counts, expected).pvalue


def test_weighted_frequencies_match_weights():
    w = np.random.default_rng(0).uniform(0.2, 5.0, size=30)
    s = WeightedSampler(w, seed=11)
    draws = s.next_indices(200_000)
    assert _chi2_pvalue(draws, w) > 1e-3
    np.testing.assert_allclose(s.probabilities, w / w.sum())
    # and a wrong hypothesis is rejected: the test has power
    assert _chi2_pvalue(draws, np.ones_like(w)) < 1e-6


def test_weighted_zero_weight_never_drawn_and_dia_gan_range():
    # Dia-GAN's clipped scores span [0.01, 0.5]: a 50x max/min ratio
    w = np.array([0.01, 0.5, 0.0, 0.2, 0.0, 0.05])
    draws = WeightedSampler(w, seed=0).next_indices(100_000)
    assert not np.isin(draws, [2, 4]).any()
    nz = w > 0
    counts = np.bincount(draws, minlength=w.size)[nz]
    assert stats.chisquare(counts, w[nz] / w[nz].sum() * draws.size).pvalue > 1e-3


def test_weighted_set_weights_mid_training():
    w1 = np.ones(10)
    w2 = np.arange(1, 11, dtype=float) ** 2
    s = WeightedSampler(w1, seed=3)
    before = s.next_indices(50_000)
    s.set_weights(w2)
    after = s.next_indices(100_000)
    assert _chi2_pvalue(before, w1) > 1e-3
    assert _chi2_pvalue(after, w2) > 1e-3
    # earlier draws are untouched by set_weights: same as a sampler that never changed
    np.testing.assert_array_equal(before, WeightedSampler(w1, seed=3).next_indices(50_000))


def test_weighted_deterministic_and_call_size_independent():
    w = np.random.default_rng(1).random(50) + 0.1
    a = WeightedSampler(w, seed=9)
    b = WeightedSampler(w, seed=9)
    pieces = np.concatenate([a.next_indices(k) for k in (1, 64, 70_000, 3)])
    np.testing.assert_array_equal(pieces, b.next_indices(70_068))
    other = WeightedSampler(w, seed=10).next_indices(100)
    assert not np.array_equal(other, WeightedSampler(w, seed=9).next_indices(100))


@pytest.mark.parametrize("world_size", [2, 4])
def test_weighted_distributed_shares(world_size):
    w = np.random.default_rng(2).random(40) + 0.05
    single = WeightedSampler(w, seed=6)
    ranks = [WeightedSampler(w, seed=6, rank=r, world_size=world_size) for r in range(world_size)]
    k = 16
    for step in range(30):
        if step == 10:  # weights replaced on every process at the same step
            w2 = np.random.default_rng(3).random(40)
            single.set_weights(w2)
            for s in ranks:
                s.set_weights(w2)
        shares = [s.next_indices(k) for s in ranks]
        np.testing.assert_array_equal(np.concatenate(shares), single.next_indices(k * world_size))


def test_weighted_state_dict_resumes_after_set_weights():
    w = np.linspace(0.1, 1.0, 25)
    s = WeightedSampler(w, seed=4, epoch_size=100)
    s.next_indices(777)
    s.set_weights(w[::-1].copy())
    s.next_indices(5)
    state = _roundtrip(copy.deepcopy(s.state_dict()))
    expected = s.next_indices(70_000)  # crosses a block of uniforms
    t = WeightedSampler(w, seed=4)  # built with the original weights, as a resumed run would be
    t.load_state_dict(state)
    np.testing.assert_array_equal(t.weights, w[::-1])
    np.testing.assert_array_equal(t.next_indices(70_000), expected)
    assert len(t) == 100 and t.epoch == pytest.approx(t.position / 100)


def test_weighted_errors():
    with pytest.raises(DatasetError, match=">= 0"):
        WeightedSampler([1.0, -0.1])
    with pytest.raises(DatasetError, match="finite"):
        WeightedSampler([1.0, np.nan])
    with pytest.raises(DatasetError, match="sum to 0"):
        WeightedSampler([0.0, 0.0])
    s = WeightedSampler([1.0, 2.0])
    with pytest.raises(DatasetError, match="3 weights"):
        s.set_weights([1.0, 2.0, 3.0])
    with pytest.raises(CheckpointError):
        s.load_state_dict(InfiniteSampler(2).state_dict())
