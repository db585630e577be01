"""GOLD rejection sampling (eq. 6, the official drs.py) against numpy hand computations, budget handling, banks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gold_testutils import HeadsD, LabelG

from ganlab.core.errors import ConfigError
from ganlab.gold.rejection import (
    RejectionBudgetError,
    gold_acceptance,
    gold_rejection_sample,
    load_bank,
    rejection_stats,
    save_bank,
    stats_from_terms,
)


def np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_acceptance_equals_the_official_formula(rng):
    adv, log_pc = rng.normal(0, 2, 100), -np.abs(rng.normal(0, 1, 100))
    log_m, w, p, eps = 1.5, 0.7, 0.1, 1e-6
    r = np.minimum(1.0, np.exp(adv + w * log_pc) / np.exp(log_m))
    f = np.log(r + eps) - np.log(1 - r + eps)
    f = f - np.percentile(f, 100 * p)
    want = 1 / (1 + np.exp(-f))
    prob, _, gamma = gold_acceptance(torch.tensor(adv), torch.tensor(log_pc), log_m, w, p, eps)
    np.testing.assert_allclose(prob.numpy(), want, rtol=1e-10)
    assert gamma == pytest.approx(np.percentile(np.log(r + eps) - np.log(1 - r + eps), 10))
    # high p rejects more: the mean acceptance falls with p
    means = [gold_acceptance(torch.tensor(adv), torch.tensor(log_pc), log_m, w, q)[0].mean() for q in (0.1, 0.5, 0.9)]
    assert means[0] > means[1] > means[2]


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, 1.5])
def test_p_outside_the_open_interval(p):
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        gold_acceptance(torch.zeros(3), torch.zeros(3), 0.0, 1.0, p)
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        gold_rejection_sample(LabelG(), HeadsD(), 6, p=p)


def test_stats_are_max_logit_and_std_over_rms():
    G, D = LabelG(3), HeadsD(3, a=1.0, b=2.0)
    s = rejection_stats(G, D, 300, batch_size=50, seed=4)
    # recompute with the same draws: labels then z per batch, from one generator
    g = torch.Generator().manual_seed(4)
    adv, cond = [], []
    for _ in range(6):
        y = torch.randint(0, 3, (50,), generator=g)
        x = (torch.randn(50, 3, generator=g) + 2.0 * torch.nn.functional.one_hot(y, 3)).numpy()
        adv.append(x[:, 0])
        cond.append(np_log_softmax(2.0 * x)[np.arange(50), y.numpy()])
    adv, cond = np.concatenate(adv), np.concatenate(cond)
    assert s["log_m"] == pytest.approx(adv.max(), rel=1e-6)
    assert s["ratio"] == pytest.approx(adv.std() / np.sqrt(np.mean(cond**2)), rel=1e-5)


def test_stats_modes_official_and_paper_against_numpy(rng):
    """official: M = exp(max logit), sigma_C = RMS; paper: sigma_C = std and M = max exp(d_bal) (§3.2)."""
    adv = rng.normal(-1.0, 2.0, 500)
    cond = np.log(rng.uniform(0.05, 1.0, 500))  # log D_C(c|x) <= 0, mean far from 0: RMS != std
    off = stats_from_terms(adv, cond)  # the default
    w_off = np.std(adv) / np.sqrt(np.mean(cond**2))
    assert off["mode"] == "official"
    assert off["ratio"] == pytest.approx(w_off, rel=1e-12) and off["log_m"] == pytest.approx(np.max(adv), rel=1e-12)
    pap = stats_from_terms(adv, cond, "paper")
    w_pap = np.std(adv) / np.std(cond)
    assert pap["ratio"] == pytest.approx(w_pap, rel=1e-12)
    assert np.exp(pap["log_m"]) == pytest.approx(np.max(np.exp(adv + w_pap * cond)), rel=1e-12)
    assert abs(pap["ratio"] - off["ratio"]) > 0.05 * off["ratio"]  # the two modes really differ here
    with pytest.raises(ConfigError, match="official"):
        stats_from_terms(adv, cond, "rms")


def test_rejection_stats_paper_mode_on_a_model():
    G, D = LabelG(3), HeadsD(3, a=1.0, b=2.0)
    s = rejection_stats(G, D, 300, batch_size=50, seed=4, mode="paper")
    g = torch.Generator().manual_seed(4)
    adv, cond = [], []
    for _ in range(6):
        y = torch.randint(0, 3, (50,), generator=g)
        x = (torch.randn(50, 3, generator=g) + 2.0 * torch.nn.functional.one_hot(y, 3)).numpy()
        adv.append(x[:, 0])
        cond.append(np_log_softmax(2.0 * x)[np.arange(50), y.numpy()])
    adv, cond = np.concatenate(adv), np.concatenate(cond)
    w = adv.std() / cond.std()
    assert s["ratio"] == pytest.approx(w, rel=1e-5) and s["mode"] == "paper"
    assert s["log_m"] == pytest.approx(np.max(adv + w * cond), rel=1e-5)
    res = gold_rejection_sample(G, D, 30, p=0.5, n_stats=300, batch_size=50, seed=3, stats_mode="paper")
    assert res.summary()["stats_mode"] == "paper" and res.stats["ratio"] == pytest.approx(w, rel=1e-5)


def test_class_balanced_bank_and_baseline():
    G, D = LabelG(3), HeadsD(3)
    res = gold_rejection_sample(G, D, 30, p=0.5, n_stats=200, batch_size=20, seed=1)
    assert np.bincount(res.labels).tolist() == [10, 10, 10] and res.images.shape == (30, 3)
    assert 0 < res.acceptance_rate < 1 and res.complete
    base = gold_rejection_sample(G, D, 30, reject=False, batch_size=20)
    assert base.acceptance_rate == 1.0 and np.bincount(base.labels).tolist() == [10, 10, 10]


def test_rejection_prefers_high_gold_samples():
    """With D's logit = x[:, 0], accepted samples of every class have a higher mean logit than the proposals."""
    G, D = LabelG(3), HeadsD(3, a=3.0, b=0.0)
    res = gold_rejection_sample(G, D, 600, p=0.9, n_stats=500, batch_size=100, seed=2)
    base = gold_rejection_sample(G, D, 600, reject=False, batch_size=100, seed=2)
    assert res.images[:, 0].mean() > base.images[:, 0].mean() + 0.3


def test_budget_checked_before_work_and_partial_kept():
    G, D = LabelG(3), HeadsD(3)
    with pytest.raises(RejectionBudgetError, match="exceed the budget") as info:
        gold_rejection_sample(G, D, 300, p=0.5, batch_size=10, max_batches_per_class=5)
    assert info.value.partial is None
    with pytest.raises(RejectionBudgetError, match="kept the") as info:
        gold_rejection_sample(G, D, 150, p=0.5, n_stats=100, batch_size=10, max_batches_per_class=5, seed=0)
    part = info.value.partial
    assert part is not None and not part.complete and 0 < len(part.labels) < 150
    assert np.bincount(part.labels, minlength=3)[0] < 50  # the first class already ran out
    with pytest.raises(ConfigError, match="multiple"):
        gold_rejection_sample(G, D, 31, p=0.5)


def test_bank_roundtrip(tmp_path):
    class ImgG(torch.nn.Module):
        z_dim, num_classes = 4, 2

        def forward(self, z, y=None):
            return torch.tanh(z[:, :1, None, None].expand(-1, 1, 8, 8) + y[:, None, None, None])

    class ImgD(torch.nn.Module):
        def forward(self, x, y=None):
            return x.mean((1, 2, 3)), torch.stack([x.mean((1, 2, 3)), -x.mean((1, 2, 3))], 1)

    G, D = ImgG(), ImgD()
    G.p = torch.nn.Parameter(torch.zeros(1))
    res = gold_rejection_sample(G, D, 20, p=0.5, n_stats=50, batch_size=10)
    save_bank(res, tmp_path / "b.npz", tmp_path / "b.png")
    x, y = load_bank(tmp_path / "b.npz")
    assert (tmp_path / "b.png").stat().st_size > 0 and y.tolist() == res.labels.tolist()
    assert torch.allclose(x, res.images, atol=1 / 127.5 + 1e-6)  # stored as uint8 levels
