"""Ensembles: per-batch generator choice frequencies (chi-square), weights actually used, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from mg_testutils import TinyG

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.multigan_boosting.ensemble import Ensemble, as_conditional
from ganlab.multigan_boosting.synthetic import SyntheticSource


def _counts(ens: Ensemble, n: int = 6000) -> np.ndarray:
    return np.bincount([ens.choose() for _ in range(n)], minlength=len(ens))


def test_weighted_choice_frequencies_pass_chi_square():
    w = [0.5, 0.3, 0.2]
    c = _counts(Ensemble([TinyG(seed=i) for i in range(3)], w, seed=3))
    assert scipy.stats.chisquare(c, np.array(w) * c.sum()).pvalue > 1e-3
    # and they are not uniform (the public code's inverted `if` made weighted runs uniform)
    assert scipy.stats.chisquare(c).pvalue < 1e-6


def test_three_quarter_one_quarter_and_uniform():
    c = _counts(Ensemble([TinyG(), TinyG(seed=1)], [3, 1], seed=0), 4000)
    assert scipy.stats.chisquare(c, [3000, 1000]).pvalue > 1e-3
    u = _counts(Ensemble([TinyG(seed=i) for i in range(4)], seed=1), 4000)
    assert scipy.stats.chisquare(u).pvalue > 1e-3


def test_zero_weight_generator_never_chosen():
    c = _counts(Ensemble([TinyG(), TinyG(seed=1)], [1.0, 0.0]), 500)
    assert c[1] == 0


def test_generator_chosen_per_generated_batch():
    gens = [TinyG(seed=0), TinyG(seed=1)]
    src = SyntheticSource(Ensemble(gens, [0.5, 0.5], seed=0), 3, gen_batch_size=8, seed=0)
    picks = []
    for G in gens:
        G.register_forward_hook(lambda m, i, o, G=G: picks.append(gens.index(G)))
    for _ in range(40):
        src.generate(8)
    assert len(picks) == 40 and 0 < sum(picks) < 40


@pytest.mark.parametrize(
    "weights,match",
    [([1.0], "1 ensemble weights for 2 generators"), ([1.0, -0.5], ">= 0"), ([0.0, 0.0], "positive finite sum")],
)
def test_bad_weights(weights, match):
    with pytest.raises(ConfigError, match=match):
        Ensemble([TinyG(), TinyG(seed=1)], weights)


def test_class_mismatch_and_missing_attributes():
    with pytest.raises(ShapeError, match="different numbers of classes"):
        Ensemble([TinyG(3), TinyG(4)])
    with pytest.raises(ConfigError, match="at least one"):
        Ensemble([])
    with pytest.raises(ShapeError, match="generates 3 classes but 5"):
        as_conditional(TinyG(3), 5)
