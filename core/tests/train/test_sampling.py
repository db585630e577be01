"""Truncation, DRS and top-k against closed forms and independent references (scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlab.core.errors import GanlabError
from ganlab.core.sampling import DRS, drs_acceptance, drs_sample, truncated_normal
from ganlab.core.train.method import METHODS
from ganlab.core.train.topk import TopKMethod, topk_fraction


@pytest.mark.parametrize("method", ["resample", "scipy"])
@pytest.mark.parametrize("psi", [0.5, 1.0, 2.0])
def test_truncated_normal_bounds_and_law(method, psi):
    z = truncated_normal(4000, 5, psi, generator=torch.Generator().manual_seed(1), method=method)
    assert z.shape == (4000, 5) and z.dtype == torch.float32
    assert float(z.abs().max()) <= psi
    # the law is the unit normal truncated to [-psi, psi]: KS test and the closed-form variance
    ks = stats.kstest(z.flatten().numpy(), stats.truncnorm(-psi, psi).cdf)
    assert ks.pvalue > 1e-3
    var = 1 - 2 * psi * stats.norm.pdf(psi) / (2 * stats.norm.cdf(psi) - 1)
    assert float(z.var()) == pytest.approx(var, rel=0.05)


def test_truncated_normal_is_seeded_and_untruncated_without_psi():
    a = truncated_normal(10, 3, 1.0, generator=torch.Generator().manual_seed(3))
    b = truncated_normal(10, 3, 1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    g = torch.Generator().manual_seed(4)
    plain = torch.randn(10, 3, generator=torch.Generator().manual_seed(4))
    assert torch.equal(truncated_normal(10, 3, None, generator=g), plain)
    with pytest.raises(GanlabError, match="psi must be > 0"):
        truncated_normal(2, 2, -1.0)


def test_drs_acceptance_hand_math():
    logits = torch.tensor([-3.0, -1.0, 0.0, 0.5, 2.0])
    log_m = 2.0
    prob, f, gamma = drs_acceptance(logits, log_m, percentile=80, eps=1e-6)
    shifted = np.array([-5.0, -3.0, -2.0, -1.5, 0.0])
    f_ref = shifted - np.log(1 - np.exp(shifted - 1e-6))
    assert np.allclose(f.numpy(), f_ref, rtol=1e-9)
    assert gamma == pytest.approx(np.percentile(f_ref, 80))
    assert np.allclose(prob.numpy(), 1 / (1 + np.exp(-(f_ref - np.percentile(f_ref, 80)))))
    # gamma = 0: sigmoid(F) = e^l / (1 - e^(l-eps) + e^l), i.e. e^l up to eps (plain rejection sampling)
    p0, _, _ = drs_acceptance(logits, log_m, gamma=0.0)
    assert np.allclose(p0.numpy(), np.exp(shifted) / (1 - np.exp(shifted - 1e-6) + np.exp(shifted)))
    assert np.allclose(p0.numpy()[:-1], np.exp(shifted[:-1]), rtol=1e-5)
    with pytest.raises(GanlabError, match="exceeds log M"):
        drs_acceptance(logits, 0.0)


def _gauss_setup(scale: float):
    """Proposals N(0, 1); target N(0, scale^2); the 'discriminator' returns the exact log density ratio."""

    def sample_fn(n):
        return torch.randn(n, 1, generator=gen, dtype=torch.float64)

    def logit_fn(x):
        x = x[:, 0]
        return torch.from_numpy(stats.norm.logpdf(x.numpy(), scale=scale) - stats.norm.logpdf(x.numpy()))

    gen = torch.Generator().manual_seed(0)
    return sample_fn, logit_fn


def test_drs_with_gamma_zero_is_exact_rejection_sampling():
    scale = 0.5
    sample_fn, logit_fn = _gauss_setup(scale)
    drs = DRS(sample_fn, logit_fn, batch_size=256, burn_in=50, gamma=0.0, generator=torch.Generator().manual_seed(1))
    out = drs.sample(4000)[:, 0].numpy()
    assert len(out) == 4000
    # M = max p_d/p_g = 1/scale at x = 0, so the acceptance rate is 1/M = scale
    assert drs.log_m == pytest.approx(math.log(1 / scale), abs=0.01)
    assert drs.acceptance_rate == pytest.approx(scale, abs=0.03)
    assert stats.kstest(out, stats.norm(scale=scale).cdf).pvalue > 1e-3


def test_drs_percentile_accepts_the_expected_mass():
    # With gamma the 80th percentile of F, the expected acceptance per batch is mean(sigmoid(F - gamma)).
    sample_fn, logit_fn = _gauss_setup(0.7)
    drs = DRS(sample_fn, logit_fn, batch_size=256, burn_in=5, generator=torch.Generator().manual_seed(2))
    drs.burn_in()
    x = sample_fn(200_000)
    prob, _, _ = drs_acceptance(logit_fn(x), max(drs.log_m, float(logit_fn(x).max())), percentile=80)
    expected = float(prob.mean())
    drs.sample(3000)
    assert drs.acceptance_rate == pytest.approx(expected, abs=0.03)
    assert 0.2 < drs.acceptance_rate < 1.0


def test_drs_updates_m_online_and_keeps_dicts():
    calls = []

    def sample_fn(n):
        k = len(calls)
        calls.append(k)
        return {"image": torch.full((n, 1), float(k)), "label": torch.arange(n)}

    def logit_fn(batch):
        return batch["image"][:, 0]  # each batch has a larger logit than the burn-in saw

    drs = DRS(sample_fn, logit_fn, batch_size=8, burn_in=2, generator=torch.Generator().manual_seed(0))
    assert drs.burn_in() == 1.0
    out = drs.sample(5)
    assert drs.log_m >= 2.0 and set(out) == {"image", "label"} and len(out["label"]) == 5
    assert drs_sample(sample_fn, logit_fn, 3, batch_size=8, burn_in=1)["image"].shape == (3, 1)


def test_topk_fraction():
    assert topk_fraction(0) == 1.0
    assert topk_fraction(10) == pytest.approx(0.99**10)
    assert topk_fraction(68) == pytest.approx(0.99**68)  # 0.5047 > 0.5
    assert topk_fraction(69) == 0.5 and topk_fraction(1000) == 0.5
    assert topk_fraction(3, decay=0.5, min_fraction=0.1) == 0.125


class _Run:
    """Just what TopKMethod.g_loss reads."""

    def __init__(self, step, n, batch):
        from ganlab.core.losses import get_loss
        from ganlab.core.train.config import ExperimentConfig

        self.step, self.dataset, self.num_classes = step, range(n), 0
        self.cfg = ExperimentConfig()
        self.cfg.train.batch_size = batch
        self.loss = get_loss("ns")
        self.D = lambda x, y=None, feat=None: {"adv": x[:, 0]}


def test_topk_method_keeps_the_best_rated_fakes():
    assert METHODS.get("topk") is TopKMethod
    m = TopKMethod()
    logits = torch.tensor([[0.3], [-2.0], [1.5], [0.0], [-1.0], [2.5], [0.7], [-0.2], [1.0], [-3.0]])
    # 100 items, batch 10 -> 10 G steps per epoch; step 700 is epoch 70 -> fraction 0.5 -> k = 5
    loss, logs = m.g_loss(_Run(700, 100, 10), {"image": logits})
    top5 = torch.tensor([2.5, 1.5, 1.0, 0.7, 0.3])
    assert loss.item() == pytest.approx(torch.nn.functional.softplus(-top5).mean().item())
    assert logs["topk_fraction"] == 0.5
    # epoch 10: fraction 0.99^10 = 0.904 -> k = int(9.04) = 9
    loss9, _ = m.g_loss(_Run(105, 100, 10), {"image": logits})
    top9 = logits[:, 0].sort(descending=True).values[:9]
    assert loss9.item() == pytest.approx(torch.nn.functional.softplus(-top9).mean().item())
