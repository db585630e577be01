"""The estimator, its balanced and entropy forms and the eq.-5 weights against numpy hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.gold.estimator import (
    ClassHeadError,
    LabelRangeError,
    RunningBalance,
    balance_ratio,
    check_labels,
    conditional_term,
    d_heads,
    entropy_term,
    gold_estimator,
    gold_unlabelled,
    signed_power,
    weighted_mean,
)


def np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


@pytest.fixture
def heads(rng):
    adv = rng.normal(0, 3, 64)
    cls = rng.normal(0, 2, (64, 5))
    y = rng.integers(0, 5, 64)
    return adv, cls, y


def test_eq3_generated_and_real(heads):
    adv, cls, y = heads
    logp = np_log_softmax(cls)[np.arange(64), y]
    t = [torch.tensor(v) for v in (adv, cls, y)]
    np.testing.assert_allclose(gold_estimator(*t).numpy(), adv + logp, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gold_estimator(*t, real=True).numpy(), adv - logp, rtol=1e-5, atol=1e-5)
    # the official training code's log(softmax + 1e-6)
    p = np.exp(np_log_softmax(cls))[np.arange(64), y]
    np.testing.assert_allclose(conditional_term(t[1], t[2], eps=1e-6).numpy(), np.log(p + 1e-6), rtol=1e-5)


def test_eq4_balanced(heads):
    adv, cls, y = heads
    logp = np_log_softmax(cls)[np.arange(64), y]
    ratio = adv.std() / logp.std()  # population standard deviations among the samples
    assert balance_ratio(torch.tensor(adv), torch.tensor(logp)) == pytest.approx(ratio, rel=1e-9)
    t = [torch.tensor(v) for v in (adv, cls, y)]
    np.testing.assert_allclose(gold_estimator(*t, ratio=ratio).numpy(), adv + ratio * logp, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        gold_estimator(*t, real=True, ratio=ratio).numpy(), adv - ratio * logp, rtol=1e-5, atol=1e-5
    )


def test_eq8_eq9_entropy(heads):
    adv, cls, _ = heads
    p = np.exp(np_log_softmax(cls))
    h = -(p * np.log(p)).sum(1)
    np.testing.assert_allclose(entropy_term(torch.tensor(cls)).numpy(), h, rtol=1e-5)
    np.testing.assert_allclose(gold_unlabelled(torch.tensor(adv), torch.tensor(cls)).numpy(), adv + h, rtol=1e-5)
    r = adv.std() / h.std()
    got = gold_unlabelled(torch.tensor(adv), torch.tensor(cls), ratio=balance_ratio(adv, h)).numpy()
    np.testing.assert_allclose(got, adv + r * h, rtol=1e-5)


def test_running_balance_equals_std_over_all_batches(rng):
    rb = RunningBalance()
    m_all, c_all = [], []
    for k in (7, 1, 30, 12):
        m, c = rng.normal(2, 5, k), rng.normal(-1, 0.5, k)
        rb.update(torch.tensor(m), torch.tensor(c))
        m_all.append(m)
        c_all.append(c)
    m, c = np.concatenate(m_all), np.concatenate(c_all)
    assert rb.ratio == pytest.approx(m.std() / c.std(), rel=1e-10)
    rb2 = RunningBalance()
    rb2.load_state_dict(rb.state_dict())
    assert rb2.ratio == rb.ratio


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_signed_power(beta, rng):
    x = rng.normal(0, 2, 50)
    want = np.ones_like(x) if beta == 0 else np.where(x < 0, -(np.abs(x) ** beta), np.abs(x) ** beta)
    np.testing.assert_allclose(signed_power(torch.tensor(x), beta).numpy(), want, rtol=1e-12)


def test_signed_power_rejects_negative_beta():
    with pytest.raises(ConfigError, match="beta"):
        signed_power(torch.ones(3), -1.0)


def test_per_sample_vs_official_batch_mean(rng):
    loss, w = rng.random(16), rng.normal(0, 1, 16)
    got = weighted_mean(torch.tensor(loss), torch.tensor(w), "per_sample").item()
    assert got == pytest.approx((loss * w).mean(), rel=1e-12)
    # the official code multiplies a (B, 1) loss by a (B,) weight: numpy's broadcast gives the (B, B) outer product
    official = np.mean(loss[:, None] * w)
    got = weighted_mean(torch.tensor(loss), torch.tensor(w), "official_batch_mean").item()
    assert got == pytest.approx(official, rel=1e-12)
    assert abs(official - (loss * w).mean()) > 1e-3  # the two really differ
    with pytest.raises(ConfigError):
        weighted_mean(torch.tensor(loss), torch.tensor(w), "mean")


def test_d_heads_forms_and_errors():
    adv, cls = torch.randn(4), torch.randn(4, 3)
    a, c = d_heads((adv[:, None], cls), 3)
    assert torch.equal(a, adv) and torch.equal(c, cls)
    assert torch.equal(d_heads({"adv": adv, "cls": cls})[0], adv)
    with pytest.raises(ClassHeadError, match="class head"):
        d_heads({"adv": adv, "features": torch.randn(4, 2)})
    with pytest.raises(ClassHeadError):
        d_heads(adv)
    with pytest.raises(ClassHeadError):
        d_heads((adv,))
    with pytest.raises(ShapeError, match="3 classes"):
        d_heads({"adv": adv, "cls": cls}, num_classes=10)


def test_check_labels():
    check_labels(np.array([0, 9]), 10)
    with pytest.raises(LabelRangeError, match=r"\[0, 10\)"):
        check_labels(np.array([0, 10]), 10)
    with pytest.raises(LabelRangeError):
        check_labels(torch.tensor([-1, 2]), 10)
