"""The 5k-FID protocol (class-sequential counts, one generator per batch), MS-SSIM records, t-SNE sheets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mg_testutils import TinyG
from scipy import stats

from ganlab.core.errors import ConfigError
from ganlab.core.features import get_extractor
from ganlab.core.metrics.fid import fid_from_features
from ganlab.multigan_boosting.gan_eval import (
    class_sequential_samples,
    fid_5k,
    intra_class_msssim,
    tsne_samples_figure,
    tsne_weights_figure,
)


def test_class_sequential_5k_counts_and_batches():
    x, y, owner = class_sequential_samples([TinyG(10, seed=0), TinyG(10, seed=1)], 5000, seed=3)
    assert x.shape == (5000, 1, 8, 8)
    assert np.bincount(y.numpy()).tolist() == [500] * 10
    assert (np.diff(y.numpy()) >= 0).all()  # class-sequential
    blocks = owner.reshape(100, 50)
    assert (blocks == blocks[:, :1]).all()  # one generator per batch of 50
    assert 0 < blocks[:, 0].sum() < 100  # both generators were used


def test_weighted_generator_choice_frequencies():
    _, _, owner = class_sequential_samples([TinyG(10), TinyG(10, seed=1)], 50000, weights=[3, 1], seed=0)
    per_batch = owner.reshape(-1, 50)[:, 0]
    counts = np.bincount(per_batch, minlength=2)
    assert stats.chisquare(counts, [0.75 * per_batch.size, 0.25 * per_batch.size]).pvalue > 1e-3


def test_fid_5k_record_matches_hand_computation():
    G = TinyG(10, seed=0)
    torch.manual_seed(5)
    test = torch.tanh(torch.randn(5000, 1, 8, 8))
    ext = get_extractor("random:resnet20", in_channels=1)
    rec = fid_5k(G, test, ext, seed=2)
    assert rec["per_class_counts"] == [500] * 10 and rec["per_generator_counts"] == [5000]
    assert "5000 generated" in rec["protocol"] and "500 per class" in rec["protocol"] and "5000 test" in rec["protocol"]
    x, _, _ = class_sequential_samples(G, 5000, seed=2)
    q = lambda t: torch.round((t.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1  # uint8 levels, as saved PNGs
    with torch.no_grad():
        ref = fid_from_features(ext(test).numpy(), ext(q(x)).numpy())
    assert rec["value"] == pytest.approx(ref, rel=1e-3)


def test_bad_sizes_are_refused():
    with pytest.raises(ConfigError, match="5000 = 10 x 10 x 50"):
        class_sequential_samples(TinyG(10), 4990)
    with pytest.raises(ConfigError, match="needs 5000 test images"):
        fid_5k(TinyG(10), torch.zeros(100, 1, 8, 8), get_extractor("random:resnet20", in_channels=1))


def test_msssim_record_identical_pairs_score_100():
    torch.manual_seed(0)
    base = torch.rand(3, 3, 32, 32) * 2 - 1
    imgs = base.repeat_interleave(5, dim=0)  # every class holds 5 copies of one image
    labels = np.repeat(np.arange(3), 5)
    rec = intra_class_msssim(imgs, labels, n_pairs=20)
    assert rec["value"] == pytest.approx(100.0, abs=1e-3) and rec["std"] == pytest.approx(0.0, abs=1e-3)
    assert "20 random same-class pairs" in rec["protocol"]
    noisy = intra_class_msssim(torch.rand(30, 3, 32, 32) * 2 - 1, np.repeat(np.arange(3), 10), n_pairs=20)
    assert noisy["value"] < 50


def test_tsne_sheets_are_png(tmp_path):
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 8))
    lab = np.repeat(np.arange(4), 10)
    p1 = tsne_samples_figure(f[:20], lab[:20], f[20:], lab[20:], tmp_path / "fig1.png")
    p2 = tsne_weights_figure(f, {"A_mu": np.abs(f[:, 0]), "C": np.abs(f[:, 1])}, tmp_path / "fig2.png")
    for p in (p1, p2):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
