"""Splits, the official epoch layout and the active-learning queries against independent hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gold_testutils import HeadsD

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.gold.query import query_scores, random_query, select_queries, top_k
from ganlab.gold.split import Split, class_balanced_split, epoch_layout, load_split, save_split


def test_class_balanced_split_follows_the_official_pick(rng):
    labels = rng.integers(0, 4, 500)
    s = class_balanced_split(labels, 4, init_size=10, val_size=20, seed=7)
    # the official pick_samples: walk the shuffled order class by class, taking the first init // C of each
    order = np.random.default_rng(7).permutation(500)
    want = []
    for c in range(4):
        want += [i for i in order if labels[i] == c][: 10 // 4]
    assert sorted(want) == s.labelled.tolist()
    rest = [i for i in order if i not in set(want)]
    want_val = []
    for c in range(4):
        want_val += [i for i in rest if labels[i] == c][:5]
    assert sorted(want_val) == s.val.tolist()
    assert np.bincount(labels[s.val], minlength=4).tolist() == [5, 5, 5, 5]
    assert sorted(np.concatenate([s.labelled, s.val, s.pool]).tolist()) == list(range(500))
    s.check(500)


def test_split_errors_and_growth(tmp_path):
    labels = np.repeat(np.arange(2), 10)
    with pytest.raises(ConfigError, match="one item of each"):
        class_balanced_split(labels, 2, init_size=1, val_size=0)
    with pytest.raises(ConfigError, match="exceed"):
        class_balanced_split(labels, 2, init_size=10, val_size=12)
    s = class_balanced_split(labels, 2, init_size=4, val_size=4, seed=0)
    grown = s.add(s.pool[:2])
    assert grown.labelled.size == 6 and grown.pool.size == s.pool.size - 2
    with pytest.raises(DatasetError, match="not in the pool"):
        s.add(s.labelled[:1])
    save_split(grown, tmp_path / "s.npz")
    back = load_split(tmp_path / "s.npz")
    assert back.labelled.tolist() == grown.labelled.tolist() and back.pool.tolist() == grown.pool.tolist()
    with pytest.raises(DatasetError, match="disjoint"):
        Split([0, 1], [1], [2]).check(3)


@pytest.mark.parametrize("n", [4, 900, 5000, 9999, 10000, 60000])
def test_epoch_layout_is_the_official_repetition(n):
    # official: ConcatDataset([labelled + pool] * (per_epoch // n)) when n < per_epoch, batches of 128
    reps = 10000 // n if n < 10000 else 1
    lay = epoch_layout(n, 128, 10000)
    assert (lay.repeats, lay.items, lay.steps) == (reps, n * reps, math.ceil(n * reps / 128))


def test_top_k_is_sorted_descending(rng):
    s = rng.normal(size=50)
    s[[3, 9]] = 5.0  # a tie: the earlier position first
    got = top_k(s, 6)
    assert got.tolist() == sorted(range(50), key=lambda i: (-s[i], i))[:6]
    assert np.all(np.diff(s[got]) <= 0)
    with pytest.raises(ConfigError):
        top_k(s, 51)


def test_random_query_returns_dataset_positions(rng):
    pool = np.arange(100, 200)
    q = random_query(pool, 10, rng)
    assert len(set(q.tolist())) == 10 and set(q.tolist()) <= set(pool.tolist())


def test_query_scores_eq8_eq9():
    x = torch.tensor([[0.5, 0.1, -1.0], [2.0, 2.0, 2.0], [-1.0, 3.0, 0.0], [0.0, 0.0, 1.0]])
    D = HeadsD(3, a=1.0, b=1.0)
    z = x.double().numpy() - x.double().numpy().max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    h = -(p * np.log(p)).sum(1)
    adv = x[:, 0].numpy()
    np.testing.assert_allclose(query_scores(D, x, balanced=False), adv + h, atol=1e-6)
    np.testing.assert_allclose(query_scores(D, x, balanced=True), adv + adv.std() / h.std() * h, atol=1e-5)


def test_select_queries_takes_the_top_gold_pool_items():
    class Data:
        def __init__(self, x):
            self.x, self.labels, self.num_classes, self.shape = x, np.zeros(len(x), int), 3, (3,)
            self.name, self.class_names, self.fingerprint, self.groups = "d", None, "f", None

        def __len__(self):
            return len(self.x)

        def get_batch(self, idx):
            idx = np.asarray(idx)
            return {
                "image": self.x[idx],
                "index": torch.as_tensor(idx),
                "label": torch.zeros(len(idx), dtype=torch.long),
            }

    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    ds, pool = Data(x), np.arange(5, 40)
    q, sc = select_queries("gold", HeadsD(3), ds, pool, 4)
    full = query_scores(HeadsD(3), x[pool], balanced=False)
    assert q.tolist() == pool[np.argsort(-full, kind="stable")[:4]].tolist()
    np.testing.assert_allclose(sc, np.sort(full)[::-1][:4], rtol=1e-6)
    with pytest.raises(ConfigError, match="unknown query"):
        select_queries("entropy", HeadsD(3), ds, pool, 4)
