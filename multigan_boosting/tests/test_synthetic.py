"""On-the-fly synthetic source: the filter against a numpy hand computation, truncation, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from mg_testutils import ConstantClassifier, LinearClassifier, TinyG

from ganlab.core.errors import ConfigError, ShapeError
from ganlab.multigan_boosting.synthetic import (
    FilterRejectedError,
    SyntheticSource,
    filter_mask,
    fixed_synthetic_set,
    truncated_normal,
)


def _numpy_keep(logits: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    e = np.exp(logits - logits.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    return (p.argmax(1) == y) & (p[np.arange(len(y)), y] >= t)


@pytest.mark.parametrize("t", [0.4, 0.6, 0.9, 1.0])
def test_filter_mask_equals_hand_computation(t):
    torch.manual_seed(0)
    C = LinearClassifier(scale=3.0)
    x = torch.randn(400, 1, 8, 8)
    y = torch.randint(0, 3, (400,))
    logits = C(x).detach().numpy().astype(np.float64)
    want = _numpy_keep(logits, y.numpy(), t)
    got = filter_mask(C, x, y, t).numpy()
    assert 0 < want.sum() < len(want) or t == 1.0
    np.testing.assert_array_equal(got, want)


def test_filtered_batches_are_the_kept_items_of_the_raw_stream():
    G, C = TinyG(), LinearClassifier(scale=2.0)
    kept = SyntheticSource(G, 3, filter=C, threshold=0.6, gen_batch_size=32, seed=5)
    raw = SyntheticSource(G, 3, filter=None, gen_batch_size=32, seed=5)
    x1, y1 = kept.next_batch(30)
    x2, y2 = kept.next_batch(20)  # starts with the images accepted beyond the first batch
    x, y = torch.cat([x1, x2]), torch.cat([y1, y2])
    # the same seed gives the same raw batches; keep them by hand until 50 are collected
    xs, ys = [], []
    while sum(len(v) for v in ys) < 50:
        rx, ry = raw.next_batch(32)
        logits = C(rx).detach().numpy().astype(np.float64)
        m = _numpy_keep(logits, ry.numpy(), 0.6)
        xs.append(rx.numpy()[m])
        ys.append(ry.numpy()[m])
    np.testing.assert_allclose(x.numpy(), np.concatenate(xs)[:50], atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), np.concatenate(ys)[:50])
    assert kept.stats.generated == raw.stats.generated
    assert kept.stats.accepted == sum(len(v) for v in ys)


def test_transform_applied_before_filter_changes_images_not_labels():
    G = TinyG()
    a = SyntheticSource(G, 3, transform=False, gen_batch_size=16, seed=1).generate(16)
    b = SyntheticSource(G, 3, transform=True, gen_batch_size=16, seed=1).generate(16)
    torch.testing.assert_close(a[1], b[1])
    assert not torch.allclose(a[0], b[0])
    assert b[0].shape == a[0].shape


def test_crop_only_transform_keeps_the_orientation():
    G = TinyG()
    a, _ = SyntheticSource(G, 3, transform=False, gen_batch_size=16, seed=1).generate(16)
    c, _ = SyntheticSource(G, 3, transform=True, flip=False, gen_batch_size=16, seed=1).generate(16)
    h, w = a.shape[-2:]
    padded = torch.nn.functional.pad(a, (4, 4, 4, 4), value=-1.0)
    for i in range(16):  # each image is a crop of its own unmirrored sample inside 4 black (-1) pixels
        crops = [padded[i, :, r : r + h, q : q + w] for r in range(9) for q in range(9)]
        assert any(torch.allclose(c[i], k) for k in crops)


def test_labels_uniform_per_sample():
    src = SyntheticSource(TinyG(), 3, gen_batch_size=3000, seed=0)
    _, y = src.next_batch(3000)
    counts = np.bincount(y.numpy(), minlength=3)
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


def test_truncated_normal_matches_scipy():
    g = torch.Generator().manual_seed(0)
    z = truncated_normal((20000,), 1.5, g).numpy()
    assert np.abs(z).max() <= 1.5
    assert scipy.stats.kstest(z, scipy.stats.truncnorm(-1.5, 1.5).cdf).pvalue > 1e-3
    z0 = truncated_normal((20000,), None, g).numpy()
    assert np.abs(z0).max() > 2.5


def test_fixed_set_size_and_filter():
    C = LinearClassifier(scale=2.0)
    src = SyntheticSource(TinyG(), 3, filter=C, threshold=0.5, gen_batch_size=40, seed=2)
    x, y = fixed_synthetic_set(src, 130, batch_size=40)
    assert x.shape == (130, 1, 8, 8) and len(y) == 130
    assert filter_mask(C, x, y, 0.5).all()


@pytest.mark.parametrize("t", [0.0, -0.1, 1.5, math.nan])
def test_threshold_outside_unit_interval(t):
    with pytest.raises(ConfigError, match=r"\(0, 1\]"):
        SyntheticSource(TinyG(), 3, filter=LinearClassifier(), threshold=t)


def test_reject_all_filter_stops_with_acceptance_rate():
    src = SyntheticSource(TinyG(), 3, filter=ConstantClassifier(), threshold=1.0, gen_batch_size=10, max_tries=7)
    with pytest.raises(FilterRejectedError, match=r"in 7 tries.*acceptance rate 0\.0000%"):
        src.next_batch(5)
    assert src.stats.generated == 70


def test_filter_with_other_class_count():
    with pytest.raises(ShapeError, match="predicts 5 classes but the generators have 3"):
        SyntheticSource(TinyG(3), 3, filter=LinearClassifier(5))
    with pytest.raises(ShapeError, match="generators have 3 classes but the task has 4"):
        SyntheticSource(TinyG(3), 4)
