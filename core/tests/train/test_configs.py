"""Every shipped training config loads at every scale and trains 5 steps at its smoke scale."""

from __future__ import annotations

import pytest
import torch

from ganlab.core.config import SCALES, read_yaml
from ganlab.core.errors import ConfigError, RegistryError, ShapeError
from ganlab.core.train import Trainer
from ganlab.core.train.config import CONFIG_DIR, list_configs, load_experiment, resolve_config

QUIET = ["train.progress=false", "train.tensorboard=false"]


def test_configs_are_shipped():
    names = list_configs()
    assert "demo" in names and len(names) >= 6
    for name in names:
        data = read_yaml(resolve_config(name))
        assert set(data.get("scales", {})) == set(SCALES), f"{name} lacks a scale"
        for scale in SCALES:
            load_experiment(name, scale=scale)


@pytest.mark.parametrize("name", list_configs())
def test_smoke_scale_trains_5_steps(tmp_path, name):
    cfg = load_experiment(name, QUIET, "smoke")
    assert cfg.train.steps == 5
    trainer = Trainer(cfg, run_dir=tmp_path / name)
    out = trainer.fit()
    assert out["step"] == 5 and out["finished"]
    assert trainer.checkpoints()[-1].name == "step_00000005.pt"
    assert all(torch.isfinite(p).all() for p in trainer.unwrap(trainer.G).parameters())
    losses = [r for r in trainer.run_dir.read_metrics() if "g_loss" in r]
    assert losses and all(abs(r["d_loss"]) < 1e3 for r in losses)


def test_unknown_names_and_keys(tmp_path):
    with pytest.raises(RegistryError, match="unknown backbone 'dcgna'.*did you mean"):
        Trainer(load_experiment("demo", [*QUIET, "model.backbone=dcgna"], "smoke"), run_dir=tmp_path / "a")
    with pytest.raises(ConfigError, match="resolution"):
        Trainer(load_experiment("demo", [*QUIET, "model.options.resolution=48"], "smoke"), run_dir=tmp_path / "b")
    with pytest.raises(ShapeError, match=r"samples of shape \(B, 1, 32, 32\).*got \(2, 3, 32, 32\)"):
        Trainer(load_experiment("demo", [*QUIET, "model.options.channels=3"], "smoke"), run_dir=tmp_path / "c")
    with pytest.raises(ConfigError, match="'hing' is not one of"):
        load_experiment("demo", ["loss.name=hing"], "smoke")
    with pytest.raises(ConfigError, match="unknown config key 'train.stpes'"):
        load_experiment("demo", ["train.stpes=3"], "smoke")
    with pytest.raises(ConfigError, match="neither a file nor a shipped config.*did you mean 'demo'"):
        resolve_config("demi")
    assert resolve_config(CONFIG_DIR / "demo.yaml") == CONFIG_DIR / "demo.yaml"


@pytest.mark.parametrize("name", ["demo", "biggan32_cifar_multigan"])
def test_resume_is_bit_identical_with_real_backbones(tmp_path, name):
    # demo: DCGAN with BN in G and SN in D; biggan: conditional BN, shared embedding, SN in G and D, EMA.
    over = [*QUIET, "train.steps=4", "train.checkpoint_every=0", "ema.enabled=true", "ema.start=1"]
    cfg = load_experiment(name, over, "smoke")
    full = Trainer(cfg, run_dir=tmp_path / "full")
    full.fit()
    Trainer(cfg, run_dir=tmp_path / "part").fit(stop_at=2)
    resumed = Trainer(cfg, run_dir=tmp_path / "part", resume=True)
    assert resumed.step == 2
    resumed.fit()
    for a, b in [
        (full.unwrap(full.G), resumed.unwrap(resumed.G)),
        (full.unwrap(full.D), resumed.unwrap(resumed.D)),
        (full.G_ema, resumed.G_ema),
    ]:
        sa, sb = a.state_dict(), b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name


def test_final_evaluation_goes_to_metrics_jsonl(tmp_path):
    over = [
        *QUIET,
        "train.steps=2",
        "eval.metrics=[fid]",
        "eval.extractor=random:lenet",
        "eval.n_fake=64",
        "eval.n_real=64",
        "eval.options={extractor_options: {in_channels: 1}, cache_dir: false, batch_size: 32}",
    ]
    trainer = Trainer(load_experiment("demo", over, "smoke"), run_dir=tmp_path / "r")
    trainer.fit()
    fid = [r for r in trainer.run_dir.read_metrics() if r.get("metric") == "fid"]
    assert len(fid) == 1 and fid[0]["step"] == 2 and fid[0]["value"] > 0
    assert not trainer.G_ema.training
