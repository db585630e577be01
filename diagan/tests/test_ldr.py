"""LDR statistics, score, clipping and probabilities against hand computations; the ring buffer; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ganlab.core.data.samplers import WeightedSampler
from ganlab.core.errors import ConfigError, ShapeError, TrainingDivergedError
from ganlab.diagan.ldr import (
    LDRTracker,
    clip_scores,
    compute_scores,
    discrepancy_score,
    evaluate_ldr,
    ldr_statistics,
    module_mode,
    sampling_probabilities,
)

# three records of four instances, chosen so every statistic is a small exact number
RECORDS = np.array(
    [
        [1.0, -2.0, 0.0, 4.0],
        [3.0, -2.0, 0.0, 0.0],
        [5.0, -2.0, 0.3, 2.0],
    ]
)


def test_statistics_hand_computed():
    ldrm, ldrv = ldr_statistics(RECORDS)
    # means: 9/3, -6/3, 0.3/3, 6/3; ddof=1 variances: (4+0+4)/2, 0, (0.01+0.01+0.04)/2, (4+4+0)/2
    np.testing.assert_allclose(ldrm, [3.0, -2.0, 0.1, 2.0])
    np.testing.assert_allclose(ldrv, [4.0, 0.0, 0.03, 4.0])


def test_score_clipping_probabilities_hand_computed():
    ldrm, ldrv = ldr_statistics(RECORDS)
    s = discrepancy_score(ldrm, ldrv, k=0.5)  # eq. 7: ldrm + 0.5 * sqrt(ldrv)
    np.testing.assert_allclose(s, [3.0 + 1.0, -2.0, 0.1 + 0.5 * np.sqrt(0.03), 2.0 + 1.0])
    clipped = clip_scores(s)
    # min clip to 0.01 first -> the minimum is 0.01 -> everything is capped at 0.01 * 50 = 0.5
    np.testing.assert_allclose(clipped, [0.5, 0.01, 0.1 + 0.5 * np.sqrt(0.03), 0.5])
    p = sampling_probabilities(clipped)
    total = 0.5 + 0.01 + 0.1 + 0.5 * np.sqrt(0.03) + 0.5
    np.testing.assert_allclose(p, np.array([0.5, 0.01, 0.1 + 0.5 * np.sqrt(0.03), 0.5]) / total)
    assert p.sum() == pytest.approx(1.0)


def test_max_cap_is_relative_to_clipped_minimum():
    # no score below min_clip: the cap is 50 x the smallest score itself
    np.testing.assert_allclose(clip_scores(np.array([0.1, 1.0, 10.0])), [0.1, 1.0, 5.0])
    np.testing.assert_allclose(clip_scores(np.array([0.1, 1.0, 10.0]), max_ratio=200), [0.1, 1.0, 10.0])
    # ratio of the result never exceeds max_ratio
    rng = np.random.default_rng(1)
    c = clip_scores(rng.normal(0, 3, 1000))
    assert c.min() >= 0.01 and c.max() / c.min() <= 50 + 1e-9


def test_compute_scores_matches_composition():
    tracker = LDRTracker(4, window=3)
    for i, row in enumerate(RECORDS):
        tracker.add(100 * (i + 1), row)
    sc = compute_scores(tracker.statistics(), k=0.5)
    np.testing.assert_allclose(sc.probs, sampling_probabilities(clip_scores(discrepancy_score(sc.ldrm, sc.ldrv, 0.5))))
    np.testing.assert_array_equal(sc.steps, [100, 200, 300])


@pytest.mark.parametrize("storage", ["memory", "memmap"])
def test_window_keeps_exactly_the_last_records(storage, tmp_path):
    tracker = LDRTracker(5, window=3, storage=storage, path=tmp_path / "rec.f32")
    all_rows = np.arange(7 * 5, dtype=np.float32).reshape(7, 5)
    for i, row in enumerate(all_rows):
        tracker.add(100 * i, row)
    steps, recs = tracker.window_records()
    np.testing.assert_array_equal(steps, [400, 500, 600])
    np.testing.assert_array_equal(np.asarray(recs), all_rows[4:])
    st = tracker.statistics()
    np.testing.assert_allclose(st.ldrm, all_rows[4:].mean(0))
    np.testing.assert_allclose(st.ldrv, all_rows[4:].var(0, ddof=1))
    np.testing.assert_array_equal(st.last, all_rows[-1])
    assert isinstance(tracker.records, np.memmap) == (storage == "memmap")


def test_tracker_state_roundtrip():
    a = LDRTracker(4, window=3)
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(5, 4))
    for i, r in enumerate(rows):
        a.add(i, r)
    b = LDRTracker(4, window=3)
    b.load_state_dict(a.state_dict())
    np.testing.assert_allclose(b.statistics().ldrm, a.statistics().ldrm)
    b.add(10, rows[0])  # continues in order after a reload
    np.testing.assert_array_equal(b.window_records()[0], [3, 4, 10])


def test_bad_input():
    with pytest.raises(ConfigError, match="k must be"):
        discrepancy_score(np.zeros(3), np.zeros(3), k=-0.1)
    with pytest.raises(ConfigError, match="window"):
        LDRTracker(3, window=1)
    t = LDRTracker(3, window=4)
    with pytest.raises(ConfigError, match="phase 1"):
        t.statistics()
    t.add(1, np.zeros(3))
    t.add(2, np.ones(3))
    with pytest.raises(ConfigError, match="only 2 LDR records"):
        t.statistics()
    st = t.statistics(strict=False)  # the documented fallback: the records available
    assert st.num_records == 2 and np.allclose(st.ldrv, 0.5)
    with pytest.raises(ConfigError, match="increasing"):
        t.add(2, np.ones(3))
    with pytest.raises(ShapeError):
        t.add(3, np.ones(4))
    with pytest.raises(TrainingDivergedError):
        clip_scores(np.array([1.0, np.nan]))


def test_weighted_sampler_follows_probabilities():
    ldrm, ldrv = ldr_statistics(RECORDS)
    p = sampling_probabilities(clip_scores(discrepancy_score(ldrm, ldrv, 0.5)))
    sampler = WeightedSampler(p, seed=3)
    n = 20000
    counts = np.bincount(sampler.next_indices(n), minlength=len(p))
    assert stats.chisquare(counts, p * n).pvalue > 1e-3
    # and a clearly different distribution is rejected by the same test
    assert stats.chisquare(counts, np.full(len(p), n / len(p))).pvalue < 1e-6


class _Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return {"adv": self.lin(self.drop(x))[:, 0]}


class _Data:
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def get_batch(self, idx):
        idx = torch.as_tensor(np.asarray(idx))
        return {"index": idx, "image": self.x[idx]}


def test_evaluate_ldr_equals_direct_forward_any_batch_size():
    torch.manual_seed(0)
    d = _Lin()
    x = torch.randn(37, 2)
    direct = (x @ d.lin.weight.T + d.lin.bias)[:, 0].detach().numpy()
    with module_mode(d, train=False):
        for bs in (1, 8, 100):
            out = evaluate_ldr(lambda b: d(b["image"])["adv"], _Data(x), batch_size=bs)
            np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-6)
        sub = evaluate_ldr(lambda b: d(b["image"])["adv"], _Data(x), indices=[3, 5, 7])
        np.testing.assert_allclose(sub, direct[[3, 5, 7]], rtol=1e-5, atol=1e-6)
    assert d.training  # restored


def test_module_mode_train_keeps_dropout_noise():
    torch.manual_seed(0)
    d = _Lin()
    d.eval()
    x = torch.randn(200, 2)
    with module_mode(d, train=True):
        noisy = evaluate_ldr(lambda b: d(b["image"])["adv"], _Data(x))
    clean = evaluate_ldr(lambda b: d(b["image"])["adv"], _Data(x))
    assert not d.training
    assert not np.allclose(noisy, clean)


def test_capacity_serves_two_windows():
    # records at steps 0..9 with capacity 8 and window 3: the phase-1 window before step 6 is steps 3, 4, 5
    t = LDRTracker(2, window=3, capacity=8)
    rows = np.arange(20, dtype=np.float32).reshape(10, 2) ** 2
    for i, r in enumerate(rows):
        t.add(i, r)
    np.testing.assert_array_equal(t.held_records()[0], np.arange(2, 10))
    np.testing.assert_array_equal(t.statistics(before=6).steps, [3, 4, 5])
    np.testing.assert_allclose(t.statistics(before=6).ldrm, rows[3:6].mean(0))
    np.testing.assert_array_equal(t.statistics().steps, [7, 8, 9])
    u = LDRTracker(2, window=3)
    u.load_state_dict(t.state_dict(), before=6)  # what init_from does with a phase-1 checkpoint
    np.testing.assert_allclose(u.statistics().ldrv, rows[3:6].var(0, ddof=1))


def test_recording_is_fp32_under_autocast():
    # issue 11 defect 5: a caller's autocast (the trainer's amp; CPU autocast is bfloat16) must not reach the logits
    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 1)
    x = torch.randn(50, 64) * 3
    fp32 = (x.double() @ lin.weight.double().T + lin.bias.double())[:, 0].detach().numpy()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        rounded = lin(x)[:, 0].float().numpy()
    assert np.abs(rounded - fp32).max() > 1e-3  # bfloat16 would be visible at this tolerance
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = evaluate_ldr(lambda b: lin(b["image"])[:, 0], _Data(x), batch_size=16)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, fp32, rtol=1e-5, atol=1e-5)
