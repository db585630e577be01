"""Boosted sequence at smoke scale: GAN 1 trains on Algorithm 1's weights, and its real stream follows them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import stats

from ganlab.core.config import load_config
from ganlab.core.errors import ConfigError
from ganlab.core.nn.classifiers import resnet20
from ganlab.core.train.config import ExperimentConfig, resolve_config
from ganlab.core.train.trainer import Trainer
from ganlab.multigan_boosting.boost import ReweightedGAN, selected_generator, train_boosted


def _smoke_cfg(tmp_path, **method_options):
    cfg = load_config(ExperimentConfig, resolve_config("biggan32_cifar_multigan"), scale="smoke")
    cfg.out_dir = str(tmp_path)
    cfg.train.progress = False
    cfg.train.steps = 3
    cfg.train.checkpoint_every = 3
    cfg.method.options = dict(method_options)
    return cfg


def _feature_net():
    torch.manual_seed(0)
    return resnet20(num_classes=10, in_channels=1, width=4).eval()


def test_boosted_sequence_trains_two_gans_and_gan1_uses_the_weights(tmp_path):
    cfg = _smoke_cfg(tmp_path)
    runs = train_boosted(cfg, 2, tmp_path / "boost", _feature_net(), "B", n_per_gan=200)
    assert [r.name for r in runs] == ["gan_0", "gan_1"]
    probs = np.load(tmp_path / "boost" / "weights_1.npy")
    summary = json.loads((tmp_path / "boost" / "weights_1.json").read_text())
    assert probs.shape == (1797,) and probs.sum() == pytest.approx(1.0)
    assert summary["transform"] == "B" and summary["per_class"]["0"]["n_fake"] == 20
    saved = (runs[1] / "config.yaml").read_text()
    assert "weights_1.npy" in saved and "weights" not in (runs[0] / "config.yaml").read_text().split("method:")[1]
    for r in runs:
        G = selected_generator(r)
        assert G(torch.randn(2, G.z_dim), y=torch.tensor([0, 1])).shape == (2, 1, 32, 32)
    # resumable: a second call finds both runs finished and trains nothing
    mtimes = [(r / "G_ema.pt").stat().st_mtime_ns for r in runs]
    train_boosted(cfg, 2, tmp_path / "boost", _feature_net(), "B", n_per_gan=200)
    assert [(r / "G_ema.pt").stat().st_mtime_ns for r in runs] == mtimes


class _Recording(ReweightedGAN):
    def setup(self, run):
        self.seen = []

    def next_real(self, run):
        batch = super().next_real(run)
        self.seen.append(batch["index"].cpu().numpy())
        return batch


def test_real_stream_frequencies_follow_the_weights(tmp_path):
    """Chi-square of the indices the trainer's D actually received against the weights."""
    n = 1797
    w = np.zeros(n)
    support = np.arange(0, 40, 2)
    w[support] = np.linspace(1.0, 4.0, support.size)
    np.save(tmp_path / "w.npy", w)
    cfg = _smoke_cfg(tmp_path)
    cfg.method.name = "multigan_reweighted"
    cfg.train.batch_size, cfg.train.steps, cfg.train.checkpoint_every = 64, 20, 0
    method = _Recording(ReweightedGAN.Options(weights=str(tmp_path / "w.npy")))
    trainer = Trainer(cfg, method, run_dir=tmp_path / "rec")
    trainer.fit()
    seen = np.concatenate(method.seen)
    assert set(seen.tolist()) <= set(support.tolist())
    counts = np.bincount(seen, minlength=n)[support]
    expected = w[support] / w.sum() * seen.size
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_bad_weights_file_is_refused_before_anything_is_written(tmp_path):
    np.save(tmp_path / "short.npy", np.ones(10))
    cfg = _smoke_cfg(tmp_path)
    cfg.method.name = "multigan_reweighted"
    with pytest.raises(ConfigError, match="10 weights but the training set has 1797"):
        Trainer(cfg, ReweightedGAN(ReweightedGAN.Options(weights=str(tmp_path / "short.npy"))), run_dir=tmp_path / "x")
    assert not (tmp_path / "x" / "checkpoints").exists()


def _cli(argv):
    import argparse

    from ganlab.core.cli import _collect_overrides
    from ganlab.multigan_boosting.cli_gan import add_gan_commands

    parser = argparse.ArgumentParser()
    add_gan_commands(parser.add_subparsers(dest="cmd"))
    args, extra = parser.parse_known_args(argv)
    _collect_overrides(parser, args, extra)  # as `ganlab` does: key=value anywhere on the line
    return args.func(args)


def test_cli_train_gan_weights_train_gan(tmp_path, capsys):
    cfg = ["biggan32_cifar_multigan", "--scale", "smoke", "train.steps=2", "train.progress=false"]
    assert _cli(["train-gan", *cfg, "--run-dir", str(tmp_path / "gan_0")]) == 0
    w = tmp_path / "weights_1.npy"
    argv = ["weights", *cfg, "--previous", str(tmp_path / "gan_0"), "--feature-net", "random:resnet20"]
    assert _cli([*argv, "--transform", "A_sigma", "--n-per-gan", "100", "--out-file", str(w)]) == 0
    assert np.load(w).shape == (1797,) and w.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(w.with_suffix(".json").read_text())["transform"] == "A_sigma"
    assert _cli(["train-gan", *cfg, "--weights", str(w), "--run-dir", str(tmp_path / "gan_1")]) == 0
    assert "weights_1.npy" in (tmp_path / "gan_1" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match="no such file"):
        _cli([*argv[:-1], str(tmp_path / "nope.pt"), "--out-file", str(tmp_path / "w2.npy")])
    assert not (tmp_path / "w2.npy").exists()


def test_best_g_selection_exports_the_lowest_fid(tmp_path):
    cfg = _smoke_cfg(tmp_path)
    cfg.method.name = "multigan_reweighted"
    cfg.train.steps = 4
    opts = ReweightedGAN.Options(
        select_every=2, select_n=50, select_extractor="random:resnet20", select_extractor_options={"in_channels": 1}
    )
    method = ReweightedGAN(opts)
    fids = []
    orig = method.select
    method.select = lambda run: fids.append(orig(run)) or fids[-1]
    trainer = Trainer(cfg, method, run_dir=tmp_path / "sel")
    trainer.fit()
    assert len(fids) == 2 and method.best_fid == pytest.approx(min(fids))
    assert method.best_step == 2 * (1 + int(np.argmin(fids)))
    G = selected_generator(tmp_path / "sel")  # G_best.pt, not the final G_ema
    from ganlab.core.train.checkpoint import load_generator

    _, info = load_generator(tmp_path / "sel" / "G_best.pt")
    assert info.get("step") == method.best_step and G.num_classes == 10


class _OwnG(torch.nn.Module):
    """A user's conditional G: z (B, 8), y -> (B, 1, 32, 32)."""

    def __init__(self):
        super().__init__()
        self.z_dim, self.num_classes = 8, 10
        self.emb = torch.nn.Embedding(10, 8)
        self.lin = torch.nn.Linear(8, 32 * 32)

    def forward(self, z, y):
        return torch.tanh(self.lin(z * self.emb(y))).view(-1, 1, 32, 32)


class _OwnD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(32 * 32, 1)
        self.emb = torch.nn.Embedding(10, 32 * 32)

    def forward(self, x, y):
        h = x.flatten(1)
        return self.lin(h).squeeze(1) + (self.emb(y) * h).sum(1) * 0.01


def test_sequence_on_a_users_own_conditional_gan(tmp_path):
    from ganlab.core.nn.protocol import as_discriminator, as_generator

    def models():
        return as_generator(_OwnG(), z_dim=8, num_classes=10), as_discriminator(_OwnD(), num_classes=10, inputs=("y",))

    cfg = _smoke_cfg(tmp_path)
    runs = train_boosted(cfg, 2, tmp_path / "own", _feature_net(), "C", n_per_gan=100, models=models)
    assert np.load(tmp_path / "own" / "weights_1.npy").shape == (1797,)
    G = selected_generator(runs[1])
    assert G(torch.randn(3, 8), y=torch.tensor([0, 1, 2])).shape == (3, 1, 32, 32)
