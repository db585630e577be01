"""Seeded draws of the evaluation protocol, against scipy's chi-square test and hand-computed permutations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.draws import draw_instances, draw_labels, reference_indices


def test_random_reference_is_the_sorted_head_of_a_default_rng_permutation():
    expected = np.sort(np.random.default_rng(7).permutation(50)[:12])
    np.testing.assert_array_equal(reference_indices(50, "random", 12, seed=7), expected)
    np.testing.assert_array_equal(reference_indices(50, "first", 12), np.arange(12))
    np.testing.assert_array_equal(reference_indices(5, "all"), np.arange(5))
    assert not np.array_equal(reference_indices(50, "random", 12, seed=8), expected)
    with pytest.raises(ConfigError, match="asks for 60 images but the split has 50"):
        reference_indices(50, "random", 60)


def test_class_balanced_reference_takes_equal_shares():
    labels = np.repeat([0, 1, 2, 3], [100, 40, 10, 50])
    idx = reference_indices(len(labels), "class_balanced", 30, seed=1, labels=labels)
    assert len(idx) == 30 and len(np.unique(idx)) == 30 and np.all(np.diff(idx) > 0)
    counts = np.bincount(labels[idx], minlength=4)
    assert sorted(counts) == [7, 7, 8, 8]  # 30 = 4 * 7 + 2 left over, given to two classes
    again = reference_indices(len(labels), "class_balanced", 30, seed=1, labels=labels)
    np.testing.assert_array_equal(idx, again)
    # within a class the draw is uniform: over many seeds every image of class 0 is picked about equally often
    hits = np.zeros(100)
    for s in range(400):
        hits += np.isin(np.arange(100), reference_indices(len(labels), "class_balanced", 40, seed=s, labels=labels))
    assert chisquare(hits).pvalue > 1e-3
    with pytest.raises(ConfigError, match="class 2 has 10 images"):
        reference_indices(len(labels), "class_balanced", 60, labels=labels)


def test_label_draws_follow_their_distribution():
    uniform = draw_labels(20000, "uniform", seed=0, num_classes=5)
    assert chisquare(np.bincount(uniform, minlength=5)).pvalue > 1e-3
    np.testing.assert_array_equal(uniform, np.random.default_rng(0).integers(0, 5, size=20000))
    train = np.repeat(np.arange(4), [700, 200, 80, 20])
    drawn = draw_labels(20000, "train_distribution", seed=1, num_classes=4, train_labels=train)
    expected = 20000 * np.array([700, 200, 80, 20]) / 1000
    assert chisquare(np.bincount(drawn, minlength=4), expected).pvalue > 1e-3
    # and it is not uniform
    assert chisquare(np.bincount(drawn, minlength=4)).pvalue < 1e-6


def test_instance_draws():
    labels = np.repeat([0, 1, 2], [90, 9, 1])
    rng_labels = np.random.default_rng(5).permutation(labels)  # stored instances in any order
    uni = draw_instances(30000, "uniform", seed=2, instance_labels=rng_labels)
    assert chisquare(np.bincount(uni, minlength=100)).pvalue > 1e-3
    bal = draw_instances(30000, "class_balanced", seed=3, instance_labels=rng_labels)
    assert chisquare(np.bincount(rng_labels[bal], minlength=3)).pvalue > 1e-3
    in_class_1 = bal[rng_labels[bal] == 1]  # uniform among the instances of a class
    assert chisquare(np.unique(in_class_1, return_counts=True)[1]).pvalue > 1e-3
    target = np.array([10, 30, 60])
    lt = draw_instances(30000, "long_tail", seed=4, instance_labels=rng_labels, target_counts=target)
    assert chisquare(np.bincount(rng_labels[lt], minlength=3), 30000 * target / 100).pvalue > 1e-3
    with pytest.raises(ConfigError, match="no stored instance"):
        draw_instances(5, "long_tail", instance_labels=np.array([0, 0]), target_counts=np.array([1, 1]))
    with pytest.raises(ConfigError, match="needs target class counts"):
        draw_instances(5, "long_tail", instance_labels=rng_labels)
