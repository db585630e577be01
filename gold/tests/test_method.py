"""The gold training method inside the core trainer: losses against hand computations, schedule, bad input, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gold_testutils import image_config, toy_config

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.core.train.trainer import Trainer
from ganlab.gold.estimator import ClassHeadError, LabelRangeError
from ganlab.gold.method import random_crop, resolve_steps


def _trainer(cfg, **kw):
    cfg.train.steps = resolve_steps(cfg)
    return Trainer(cfg, **kw)


def np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def np_softplus(x):
    return np.logaddexp(0.0, x)


def _hand_d_loss(D, real, fake, lam, reweight, weighting, mask_real):
    with torch.no_grad():
        r, f = D(real["image"]), D(fake["image"])
    adv_r, cls_r = r["adv"].double().numpy(), r["cls"].double().numpy()
    adv_f, cls_f = f["adv"].double().numpy(), f["cls"].double().numpy()
    y, yf = real["label"].numpy(), fake["label"].numpy()
    m = mask_real.astype(np.float64)
    ce_r = -np_log_softmax(cls_r)[np.arange(len(y)), y]
    ce_f = -np_log_softmax(cls_f)[np.arange(len(yf)), yf]
    p_f = np.exp(np_log_softmax(cls_f))[np.arange(len(yf)), yf]
    w = adv_f + np.log(p_f + 1e-6) if reweight else np.ones_like(adv_f)
    fake_term = np.mean(np_softplus(adv_f)[:, None] * w) if weighting == "official" else np.mean(np_softplus(adv_f) * w)
    n = max(m.sum(), 1)
    return np.mean(np_softplus(-adv_r)) + (ce_r * m).sum() / n + fake_term + lam * (ce_f * w * m).sum() / n


@pytest.mark.parametrize(
    ("options", "reweight", "weighting"),
    [
        ({}, False, "per_sample"),
        ({}, True, "per_sample"),
        ({"weighting": "official_batch_mean"}, True, "official"),
        ({"num_labelled": 6, "val_size": 10}, True, "per_sample"),
    ],
)
def test_d_loss_equals_the_hand_computation(tmp_path, options, reweight, weighting):
    cfg = toy_config(tmp_path, lambda_c=0.3, **options)
    tr = _trainer(cfg)
    m = tr.method
    if reweight:
        tr.step = m.start_step  # the re-weighted half
    real = m.next_real(tr)
    with torch.no_grad():
        fake = m.sample_fake(tr, len(real["image"]))
    loss, logs = m.d_loss(tr, real, fake)
    want = _hand_d_loss(tr.D, real, fake, 0.3, reweight, weighting, real["labelled"].numpy())
    assert loss.item() == pytest.approx(want, rel=1e-5)
    assert logs["reweighting"] == float(reweight)
    if "num_labelled" in options:
        assert 0 < int(real["labelled"].sum()) < len(real["labelled"])  # labelled and pool items in one batch


def test_g_loss_is_unweighted_with_the_unscaled_class_term(tmp_path):
    tr = _trainer(toy_config(tmp_path, lambda_c=0.3))
    tr.step = tr.method.start_step
    with torch.no_grad():
        fake = tr.method.sample_fake(tr, 32)
    loss, _ = tr.method.g_loss(tr, fake)
    with torch.no_grad():
        o = tr.D(fake["image"])
    adv, cls, y = o["adv"].double().numpy(), o["cls"].double().numpy(), fake["label"].numpy()
    want = np.mean(np_softplus(-adv)) - np.mean(np_log_softmax(cls)[np.arange(32), y])
    assert loss.item() == pytest.approx(want, rel=1e-5)


class _FixedHeadsD(torch.nn.Module):
    """D with fixed outputs on a 2-sample batch: logits (0, ln 3), class logits ((0, 0), (ln 3, 0))."""

    def forward(self, x, y=None, feat=None):
        adv = torch.tensor([0.0, np.log(3.0)]) + 0 * x.sum()
        return {"adv": adv, "cls": torch.tensor([[0.0, 0.0], [np.log(3.0), 0.0]])}


@pytest.mark.parametrize("mode", ["official", "paper"])
def test_g_class_loss_lambda_c_switch_on_a_hand_computed_example(tmp_path, mode):
    """G's loss = mean softplus(-adv) + s * mean CE with s = 1 (official) or lambda_c = 0.3 (the paper's eq. 1).

    By hand: softplus(-0) = ln 2, softplus(-ln 3) = ln(4/3); CE of (0, 0) at class 0 = ln 2, of (ln 3, 0) at class 1
    = -ln(1/4) = ln 4. So the adversarial mean is ln(8/3) / 2 and the class mean ln(8) / 2.
    """
    tr = _trainer(toy_config(tmp_path, lambda_c=0.3, g_class_loss=mode))
    tr.D = _FixedHeadsD()
    fake = {"image": torch.zeros(2, 2), "label": torch.tensor([0, 1])}
    loss, logs = tr.method.g_loss(tr, fake)
    scale = 1.0 if mode == "official" else 0.3
    assert logs["g_loss_adv"].item() == pytest.approx(np.log(8 / 3) / 2, rel=1e-6)
    assert logs["g_loss_cls"].item() == pytest.approx(np.log(8) / 2, rel=1e-6)
    assert loss.item() == pytest.approx(np.log(8 / 3) / 2 + scale * np.log(8) / 2, rel=1e-6)


def test_g_class_loss_paper_mode_refuses_a_second_weight(tmp_path):
    from ganlab.gold.api import train

    with pytest.raises(ConfigError, match="g_class_weight"):
        train(toy_config(tmp_path, g_class_loss="paper", g_class_weight=0.5))
    with pytest.raises(ConfigError, match="g_class_loss"):
        train(toy_config(tmp_path, g_class_loss="eq1"))


def test_schedule_starts_reweighting_after_half_the_epochs(tmp_path):
    cfg = toy_config(tmp_path, epochs=4)
    tr = _trainer(cfg)
    spe = tr.method.steps_per_epoch
    assert tr.cfg.train.steps == 4 * spe and tr.method.start_step == 2 * spe
    tr.fit()
    on = [(r["step"], r["reweighting"]) for r in tr.run_dir.read_metrics() if "reweighting" in r]
    assert all(v == float(s > 2 * spe) for s, v in on)  # log record at step s covers step s (0-based s - 1)
    assert np.isfinite([r["gold_mean"] for r in tr.run_dir.read_metrics() if "gold_mean" in r]).all()


def test_resume_is_exact(tmp_path):
    opts = {"epochs": 4, "estimator": "balanced"}
    full = _trainer(toy_config(tmp_path / "a", **opts))
    full.fit()
    half = _trainer(toy_config(tmp_path / "b", **opts))
    half.fit(stop_at=half.method.start_step + 1)  # stops inside the re-weighted half
    again = _trainer(toy_config(tmp_path / "b", **opts), resume=True)
    again.fit()
    for p, q in zip(full.unwrap(full.G).parameters(), again.unwrap(again.G).parameters()):
        assert torch.equal(p, q)
    assert again.method.balance.n == full.method.balance.n


def test_random_crop_is_a_crop_of_the_upsampled_batch():
    x = torch.randn(3, 1, 10, 10)
    out = random_crop(x, torch.Generator().manual_seed(0))
    up = torch.nn.functional.interpolate(x, size=(11, 11), mode="bilinear", align_corners=False)
    for i in range(3):
        crops = [up[i, :, a : a + 10, b : b + 10] for a in range(2) for b in range(2)]
        assert any(torch.allclose(out[i], c) for c in crops)


def test_instance_scores_cover_the_dataset(tmp_path):
    tr = _trainer(toy_config(tmp_path))
    scores = tr.method.instance_scores(tr)
    assert set(scores) >= {"gold_real", "gold_unlabelled", "marginal", "conditional"}
    assert all(v.shape == (len(tr.dataset),) and np.isfinite(v).all() for v in scores.values())
    np.testing.assert_allclose(scores["gold_real"], scores["marginal"] - scores["conditional"], atol=1e-6)


def test_fitting_capacity_during_training_and_best_model(tmp_path):
    cfg = toy_config(
        tmp_path,
        epochs=2,
        num_labelled=4,
        val_size=20,
        eval_every=1,
        select_best=True,
        capacity={"epochs": 1, "samples_per_epoch": 256},
    )
    tr = _trainer(cfg)
    tr.fit()
    hist = tr.method.history
    assert [h["epoch"] for h in hist] == [1, 2] and all(0 <= h["cap_val"] <= 1 for h in hist)
    best = tr.method.restore_best(tr)
    assert best["cap_val"] == max(h["cap_val"] for h in hist)


# ------------------------------------------------------------------------------------------------- bad input
def test_d_without_class_head(tmp_path):
    from ganlab.gold.api import train

    cfg = image_config(tmp_path)
    cfg.model.options["acgan"] = False  # a projection D: no class head
    with pytest.raises(ClassHeadError, match="class head"):
        train(cfg)
    assert not (tmp_path / "img").exists()  # nothing written


def test_labels_outside_the_class_range(tmp_path):
    from ganlab.core.data import get_dataset
    from ganlab.gold.api import train

    ds = get_dataset("clusters6", n_train=300, n_test=100)
    ds.labels = ds.labels.copy()
    ds.labels[5] = 7
    cfg = toy_config(tmp_path)
    with pytest.raises(LabelRangeError, match=r"\[0, 2\)"):
        train(cfg, dataset=ds)
    assert not (tmp_path / "toy").exists()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"beta_d": -1.0}, "beta_d"),
        ({"start_epoch": 2}, "beyond the last epoch"),
        ({"start_epoch": 5}, "beyond the last epoch"),
        ({"label_fraction": 1.5}, "label_fraction"),
    ],
)
def test_bad_options_are_rejected_before_any_file(tmp_path, options, match):
    from ganlab.gold.api import train

    with pytest.raises(ConfigError, match=match):
        train(toy_config(tmp_path, **options))
    assert not (tmp_path / "toy").exists()


def test_non_ns_loss_and_unlabelled_data(tmp_path):
    from ganlab.gold.api import train

    cfg = toy_config(tmp_path)
    cfg.loss.name = "hinge"
    with pytest.raises(ConfigError, match="non-saturating"):
        train(cfg)
    cfg = toy_config(tmp_path)
    cfg.data.name, cfg.data.options = "gaussian_minor", {"n": 200}  # unlabelled
    cfg.model.options["num_classes"] = 2
    with pytest.raises(DatasetError, match="unlabelled|labels"):
        train(cfg)


def test_steps_must_match_epochs(tmp_path):
    cfg = toy_config(tmp_path)
    cfg.train.steps = 3
    with pytest.raises(ConfigError, match="needs train.steps"):
        Trainer(cfg)
