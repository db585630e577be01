import itertools

import numpy as np
import pytest

from ganlab.core.errors import ShapeError
from ganlab.core.metrics._checks import NonFiniteError
from ganlab.core.metrics.inception_score import inception_score
from ganlab.core.metrics.kid import kid


def test_is_of_confident_uniform_predictions_is_the_number_of_classes():
    # Every sample certain of one class, classes balanced within each split: IS = exp(H(marginal)) = C.
    c, splits = 7, 10
    labels = np.tile(np.arange(c), 10 * splits)
    logits = np.full((labels.size, c), -60.0)
    logits[np.arange(labels.size), labels] = 60.0
    mean, std = inception_score(logits, splits=splits)
    assert mean == pytest.approx(c, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_is_of_identical_predictions_is_one():
    logits = np.tile(np.random.default_rng(0).standard_normal(5), (100, 1))
    assert inception_score(logits, splits=10)[0] == pytest.approx(1.0, abs=1e-12)


def test_is_matches_entropy_closed_form():
    # IS = exp(H(p_bar) - mean_i H(p_i)) on each split.
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((60, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    scores = []
    for part in np.split(p, 3):
        marg = part.mean(0)
        scores.append(np.exp(-(marg * np.log(marg)).sum() + (part * np.log(part)).sum(1).mean()))
    mean, std = inception_score(logits, splits=3)
    assert mean == pytest.approx(np.mean(scores), rel=1e-12)
    assert std == pytest.approx(np.std(scores), rel=1e-9)
    assert inception_score(p, splits=3, from_probs=True)[0] == pytest.approx(mean, rel=1e-9)


def test_is_bad_input():
    with pytest.raises(ShapeError, match="splits"):
        inception_score(np.zeros((5, 3)), splits=10)
    with pytest.raises(NonFiniteError):
        inception_score(np.full((20, 3), np.nan))


def _mmd_by_pairs(x, y, d):
    k = lambda a, b: (a @ b / d + 1.0) ** 3
    m = len(x)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_equals_the_unbiased_mmd_when_subsets_are_the_whole_sets():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.3
    mean, std = kid(x, y, num_subsets=3, subset_size=12)  # each subset is a permutation of the whole set
    assert mean == pytest.approx(_mmd_by_pairs(x, y, 5), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_matches_cleanfid_and_is_seeded():
    from cleanfid.fid import kernel_distance

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((40, 16)), rng.standard_normal((50, 16)) * 1.2
    ours = kid(x, y, num_subsets=4, subset_size=40)[0]
    # clean-fid draws random subsets; with subset size = min(N, M) of the smaller set it is exact on that set,
    # so compare on equal sizes where every subset is a permutation.
    assert kid(x, y[:40], num_subsets=2, subset_size=100)[0] == pytest.approx(
        kernel_distance(y[:40], x, num_subsets=2, max_subset_size=100), rel=1e-10
    )
    assert ours == kid(x, y, num_subsets=4, subset_size=40)[0]
    assert ours != kid(x, y, num_subsets=4, subset_size=40, seed=1)[0]
    same = rng.standard_normal((400, 8))
    assert abs(kid(same[:200], same[200:], num_subsets=20, subset_size=100)[0]) < 0.05


def test_kid_bad_input():
    x = np.ones((10, 4))
    with pytest.raises(ShapeError, match="same feature extractor"):
        kid(x, np.ones((10, 5)))
    with pytest.raises(ShapeError, match="at least 2"):
        kid(x[:1], x)
