"""Evaluation protocols of the paper configs (issue 11): CelebA counts and reference, resize, data provenance."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from prdc import compute_prdc

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.diagan import protocols
from ganlab.diagan.evaluation import image_metrics
from ganlab.diagan.repro import EXPERIMENTS, load_repro_config
from ganlab.diagan.resize import protocol_resize, tf1_resize_bilinear

CELEBA_TRAIN, CELEBA_ALL = 162_770, 202_599


@pytest.mark.parametrize("name", ["table2_sngan_celeba", "table2_ssgan_celeba", "table4_hinge_celeba"])
def test_celeba_protocol_counts(name):
    # the official evaluation: FID 50k fakes vs the statistics of every CelebA image; P&R 10k real vs 10k fakes
    cfg = load_repro_config(EXPERIMENTS[name].config, "paper")
    got = protocols.image_protocol(cfg.protocol, CELEBA_TRAIN, CELEBA_ALL, cfg.protocol.n_fake)
    assert got["fid_reference_split"] == "all" and got["fid_n_real"] == CELEBA_ALL and got["fid_n_fake"] == 50_000
    assert (got["pr_n_real"], got["pr_n_fake"], got["pr_k"]) == (10_000, 10_000, 3)
    assert got["extractor"] == "inception" and got["resize"] == "tf_bilinear(299)"
    assert cfg.run_config().data.name == "celeba" and cfg.run_config().data.split == "train"


def test_cifar10_fid_uses_all_training_images():
    cfg = load_repro_config(EXPERIMENTS["table2_sngan_cifar10"].config, "paper")
    got = protocols.image_protocol(cfg.protocol, 50_000, 50_000, cfg.protocol.n_fake)
    assert (got["fid_reference_split"], got["fid_n_real"], got["fid_n_fake"]) == ("train", 50_000, 50_000)


def test_image_metrics_use_the_protocol_counts(make_run, monkeypatch):
    run = make_run()
    ds = run.dataset  # 50 points in 2-D: the points are the features
    cfg = load_repro_config(
        EXPERIMENTS["table2_sngan_celeba"].config,
        "smoke",
        ["protocol.n_fake=40", "protocol.prdc.n_real=20", "protocol.prdc.n_fake=30", "protocol.reference.n=25"]
        + ["protocol.reference.draw=random", "protocol.reference.seed=1"],
    )
    fakes = torch.randn(40, 2)
    out = image_metrics(cfg, cfg.run_config(), ds, fakes, "cpu")
    assert (out["fid_n_real"], out["fid_n_fake"], out["pr_n_real"], out["pr_n_fake"]) == (25, 40, 20, 30)
    idx = np.sort(np.random.default_rng(0).permutation(50)[:20])
    with contextlib.redirect_stdout(io.StringIO()):
        ref = compute_prdc(ds.x.numpy()[idx], fakes.numpy()[:30], 3)
    assert (out["precision"], out["recall"]) == (ref["precision"], ref["recall"])
    # FID against 25 reference points drawn with seed 1 (a closed-form Gaussian Frechet distance)
    ref_x = ds.x.numpy()[np.sort(np.random.default_rng(1).permutation(50)[:25])].astype(np.float64)
    f = fakes.numpy().astype(np.float64)
    from scipy import linalg

    c1, c2 = np.cov(ref_x, rowvar=False), np.cov(f, rowvar=False)
    want = ((ref_x.mean(0) - f.mean(0)) ** 2).sum() + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert out["fid"] == pytest.approx(want, rel=1e-4, abs=1e-6)
    # the FID reference is another split when asked: the dataset is rebuilt with it
    seen = {}
    monkeypatch.setattr("ganlab.core.data.get_dataset", lambda name, **kw: seen.update(kw) or ds)
    cfg.protocol.reference.split = "all"
    assert protocols.fid_reference(cfg.protocol, cfg.run_config().data, object()) is ds and seen["split"] == "all"


def test_tf1_bilinear_is_the_legacy_tf_resize():
    # TF1 ResizeBilinear(align_corners=False): source coordinate = i * in / out, no half-pixel offset, clamped
    x = torch.tensor([0.0, 10.0, 20.0]).view(1, 1, 1, 3).expand(1, 1, 3, 3)
    got = tf1_resize_bilinear(x, 6)[0, 0, 0]
    np.testing.assert_allclose(got.numpy(), [0, 5, 10, 15, 20, 20], atol=1e-5)
    half_pixel = F.interpolate(x, size=(6, 6), mode="bilinear", align_corners=False)[0, 0, 0]
    assert not torch.allclose(got, half_pixel)
    # the protocol quantises to uint8 first (the TF graph's input) and keeps [-1, 1]
    img = torch.rand(2, 3, 8, 8) * 2 - 1
    out = protocol_resize(img, "tf_bilinear", 8)
    assert torch.allclose((out + 1) * 127.5, torch.round((out + 1) * 127.5), atol=1e-4)
    assert protocol_resize(img, "extractor", 299) is img
    with pytest.raises(ConfigError):
        protocol_resize(img, "lanczos", 299)


def test_paper_colored_mnist_refuses_the_bundled_digits(tmp_path):
    cfg = load_repro_config(EXPERIMENTS["table5_colored_mnist"].config, "paper", [f"run.data.root={tmp_path}"])
    with pytest.raises(DatasetError, match="MNIST/raw"):
        protocols.check_data_source(cfg.run_config(), "paper")
    protocols.check_data_source(cfg.run_config(), "mini")  # mini/smoke run, and say which source they used:
    from ganlab.core.data import get_dataset

    ds = get_dataset("colored_mnist", root=str(tmp_path), num_data=10000, rho=0.95)
    assert protocols.data_provenance(ds) == {"n_data": 5000, "data_source": "mnist5k (bundled 5,000 digits)"}


def test_table6_partial_recall_uses_10k_real_per_attribute():
    cfg = load_repro_config(EXPERIMENTS["table6_celeba_attributes"].config, "paper")
    assert (cfg.experiment.n_real, cfg.protocol.n_fake, cfg.protocol.prdc.k) == (10_000, 10_000, 3)


@pytest.mark.parametrize("name", ["table5_colored_mnist", "figure1e_colored_mnist"])
@pytest.mark.parametrize("scale", ["mini", "paper"])
def test_train_mode_recording_batch_is_the_configs_training_batch(name, scale):
    from ganlab.diagan.method import DiaGANOptions

    cfg = load_repro_config(EXPERIMENTS[name].config, scale).run_config()
    opts = DiaGANOptions(**cfg.method.options)
    assert opts.eval_mode is False  # the official Colored-MNIST phase 1 records with D in train mode
    assert opts.recording_batch(cfg.train.batch_size) == cfg.train.batch_size
    if scale == "paper":
        assert cfg.train.batch_size == 64
