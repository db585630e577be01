"""The ``stylegan2`` method: StyleGAN2's recipe as hooks of core's trainer (lazy R1 / path length, the Adam
correction, style mixing, the kimg EMA, truncation), exact resume, and a 2-process run."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from train_testutils import TinyD, TinyG

from ganlab.core.data.base import TensorDataset
from ganlab.core.errors import ConfigError
from ganlab.core.nn.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from ganlab.core.nn.stylegan2_reg import r1_loss
from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment
from ganlab.core.train.stylegan2_recipe import StyleGAN2Method, StyleGAN2Options, truncated_samples

CONFIG = "stylegan2_32_cpu_mnist"
QUIET = ["train.progress=false", "train.tensorboard=false", "train.log_speed=false"]


def _cfg(*over: str, data: str = "digits"):
    base = [*QUIET, f"data.name={data}", "train.sample_every=0", "train.checkpoint_every=0", "train.sample_grid=4"]
    return load_experiment(CONFIG, [*base, *over], "smoke")


def _tiny_data(n: int = 32) -> TensorDataset:
    images = torch.randint(0, 256, (n, 1, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    return TensorDataset("tiny32", images, np.arange(n) % 10, num_classes=10, identity={"name": "tiny32", "n": n})


class _Recording(StyleGAN2Method):
    """Records when each regulariser ran and checks R1 against ``r1_loss`` on a copy of D taken just before."""

    def __init__(self, options=None):
        super().__init__(options)
        self.r1_at, self.pl_at, self.r1_pairs, self.d_moved = [], [], [], []

    def r1_step(self, run, real):
        D = run.unwrap(run.D)
        before = copy.deepcopy(D)
        x = real["image"].detach().clone().requires_grad_(True)
        expected = r1_loss(x, before(x)["adv"], self.options.r1_gamma, self.options.r1_interval).detach()
        value = super().r1_step(run, real)
        self.r1_at.append(self.d_steps)
        self.r1_pairs.append((float(value), float(expected)))
        self.d_moved.append(any(not torch.equal(a, b) for a, b in zip(D.parameters(), before.parameters())))
        return value

    def pl_step(self, run):
        self.pl_at.append(self.g_steps)
        return super().pl_step(run)


def test_lazy_r1_and_path_length_run_on_their_schedule(tmp_path):
    options = StyleGAN2Options(r1_gamma=5.0, r1_interval=3, pl_interval=3, ema_kimg=1.0)
    method = _Recording(options)
    cfg = _cfg("train.steps=3", "optim.n_dis=2")
    trainer = Trainer(cfg, method, run_dir=tmp_path / "run", dataset=_tiny_data())
    trainer.fit()
    assert method.d_steps == 6 and method.g_steps == 3
    assert method.r1_at == [3, 6]  # D steps k * 3
    assert method.pl_at == [3]  # G steps k * 3
    assert method.r1_steps == 2 and method.pl_steps == 1
    for value, expected in method.r1_pairs:
        assert value > 0 and math.isclose(value, expected, rel_tol=1e-5)
    assert all(method.d_moved)  # each R1 term took its own D optimiser step
    # one path-length update from 0: pl_mean = decay * (mean length of that batch) > 0
    assert 0 < float(method.pl.pl_mean) < 1
    records = [r for r in trainer.run_dir.read_metrics() if "r1_loss" in r]
    assert records and all(r["r1_loss"] > 0 for r in records)


def test_adam_correction_applied_once_and_not_again_on_resume(tmp_path):
    over = ["train.steps=3", "train.checkpoint_every=2", "method.options.r1_interval=4", "method.options.pl_interval=3"]
    cfg = _cfg(*over)
    lr, (b1, b2) = cfg.optim.g_lr, cfg.optim.betas  # 2.5e-3, (0, 0.99)
    c = {"G": 3 / 4, "D": 4 / 5}

    def check(trainer):
        for name, ci in c.items():
            for group in trainer.optimizers[name].param_groups:
                assert math.isclose(group["lr"], lr * ci, rel_tol=1e-12)
                assert group["betas"][0] == b1**ci
                assert math.isclose(group["betas"][1], b2**ci, rel_tol=1e-12)
                assert group["lazy_reg_c"] == ci

    first = Trainer(cfg, run_dir=tmp_path / "run", dataset=_tiny_data())
    check(first)
    first.fit(stop_at=2)
    check(first)  # the trainer's LR schedule keeps the corrected base LR
    resumed = Trainer(cfg, run_dir=tmp_path / "run", dataset=_tiny_data(), resume=True)
    assert resumed.step == 2
    check(resumed)  # not c**2
    resumed.fit()
    check(resumed)
    # init_from loads the optimisers before setup: their marked groups are not corrected again
    started = Trainer(cfg, run_dir=tmp_path / "init", dataset=_tiny_data(), init_from=first.checkpoints()[-1])
    check(started)
    # no regulariser, no correction
    plain = Trainer(
        _cfg("method.options.r1_gamma=0", "method.options.pl_weight=0"), run_dir=tmp_path / "p", dataset=_tiny_data()
    )
    assert plain.optimizers["D"].param_groups[0]["lr"] == lr and plain.optimizers["G"].param_groups[0]["betas"][1] == b2


def test_ema_decay_follows_the_kimg_half_life_with_ramp_up(tmp_path):
    cfg = _cfg("train.steps=3", "method.options.ema_kimg=0.1", "method.options.ema_rampup=0.5")
    trainer = Trainer(cfg, run_dir=tmp_path / "run", dataset=_tiny_data())
    assert trainer.ema.decay == 0.0  # no images seen: the average starts as a copy
    B = cfg.train.batch_size  # 8
    for step in (1, 2, 3):
        trainer.fit(stop_at=step)
        # images shown before the next update: 8 * step; half-life min(100, 0.5 * 8 * step) images
        assert math.isclose(trainer.ema.decay, 0.5 ** (B / min(100, 0.5 * B * step)), rel_tol=1e-12)
    with pytest.raises(ConfigError, match="ema.enabled=true"):
        Trainer(_cfg("ema.enabled=false"), run_dir=tmp_path / "x", dataset=_tiny_data())


def test_style_mixing_and_its_generator_forward():
    torch.manual_seed(0)
    G = StyleGAN2Generator(
        StyleGAN2Config(resolution=32, channels=1, z_dim=8, w_dim=8, mapping_layers=1, channel_base=64, channel_max=8)
    )
    z, z2 = torch.randn(3, 8), torch.randn(3, 8)
    updates = int(G.mapping.w_avg_updates)
    img, raw, ws = G(z, mix_z=z2, mix_cutoff=2, return_ws=True, noise_mode="const")
    assert int(G.mapping.w_avg_updates) == updates + 1  # the second latent does not move w_avg
    G.eval()
    w1, w2 = G.mapping(z, None, None), G.mapping(z2, None, None)
    assert torch.allclose(ws[:, :2], w1[:, None].expand(-1, 2, -1), atol=1e-6)
    assert torch.allclose(ws[:, 2:], w2[:, None].expand(-1, G.num_ws - 2, -1), atol=1e-6)
    assert torch.allclose(img, torch.tanh(raw)) and torch.allclose(raw, G.synthesis(ws, "const"), atol=1e-6)

    class _Run:  # what mixing() reads of a run
        def __init__(self, g):
            self.G = g

        def unwrap(self, m):
            return m

    run, cutoffs = _Run(G), []
    always = StyleGAN2Method(StyleGAN2Options(style_mixing=1.0))
    for _ in range(200):
        mix_z, cutoff = always.mixing(run, z)
        assert mix_z.shape == z.shape
        cutoffs.append(cutoff)
    assert set(cutoffs) == set(range(1, G.num_ws))  # uniform over 1 .. num_ws - 1
    assert StyleGAN2Method(StyleGAN2Options(style_mixing=0.0)).mixing(run, z) == (None, None)
    hits = sum(StyleGAN2Method(StyleGAN2Options(style_mixing=0.9)).mixing(run, z)[0] is not None for _ in range(2000))
    assert abs(hits / 2000 - 0.9) < 0.03  # 4.5 standard deviations


def test_truncation_needs_the_tracked_w_average():
    torch.manual_seed(0)
    G = StyleGAN2Generator(
        StyleGAN2Config(resolution=32, channels=1, z_dim=8, w_dim=8, mapping_layers=1, channel_base=64, channel_max=8)
    )
    z = torch.randn(4, 8)
    with pytest.raises(ConfigError, match="average of w"):
        truncated_samples(G, z, 0.5)
    with pytest.raises(ConfigError, match="StyleGAN2 generator"):
        truncated_samples(torch.nn.Identity(), z, 0.5)
    G.estimate_w_avg(256, generator=torch.Generator().manual_seed(1))
    w_avg = G.mapping.w_avg.clone()
    x0 = truncated_samples(G, z, 0.0)
    ref = G.synthesize(w_avg.expand(1, G.num_ws, -1).clone(), "const")
    assert torch.allclose(x0, ref.expand(4, -1, -1, -1), atol=1e-6)  # psi 0: every sample is the average w
    G.eval()
    assert torch.equal(truncated_samples(G, z, 1.0), G(z, noise_mode="const"))
    assert torch.equal(G.mapping.w_avg, w_avg) and G.training is False


def test_rejects_other_generators_and_losses(tmp_path):
    with pytest.raises(ConfigError, match="loss.name=ns"):
        Trainer(_cfg("loss.name=hinge"), run_dir=tmp_path / "a", dataset=_tiny_data())
    with pytest.raises(ConfigError, match="StyleGAN2 generator"):
        shape = (1, 32, 32)
        models = (TinyG(shape=shape), TinyD(shape=shape))
        Trainer(_cfg(), run_dir=tmp_path / "b", dataset=_tiny_data(), models=models)
    with pytest.raises(ConfigError, match="r1_interval must be >= 1"):
        StyleGAN2Options(r1_interval=0)


def _all_state(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {}
    for name in ("G", "D"):
        for k, v in trainer.unwrap(trainer.models[name]).state_dict().items():
            out[f"{name}.{k}"] = v
        opt = trainer.optimizers[name].state_dict()
        for i, s in opt["state"].items():
            for k, v in s.items():
                out[f"opt{name}.{i}.{k}"] = torch.as_tensor(v)
        group = opt["param_groups"][0]
        out[f"opt{name}.lr"] = torch.tensor(group["lr"])
        out[f"opt{name}.betas"] = torch.tensor(group["betas"])
    for k, v in trainer.G_ema.state_dict().items():
        out[f"ema.{k}"] = v
    out["ema.decay"] = torch.tensor(trainer.ema.decay)
    for k, v in trainer.method.state_dict().items():
        for kk, vv in v.items() if isinstance(v, dict) else [("", v)]:
            out[f"method.{k}.{kk}"] = torch.as_tensor(vv)
    return out


def test_mnist5k_trains_and_resumes_bit_identically(tmp_path):
    over = [
        "train.steps=6",
        "method.options.r1_interval=2",
        "method.options.pl_interval=2",
        "method.options.ema_rampup=0.05",
    ]
    cfg = _cfg(*over, data="mnist5k")
    full = Trainer(cfg, run_dir=tmp_path / "full")
    assert cfg.data.resolution == 32 and full.dataset.shape == (1, 32, 32)
    full.fit()
    part = Trainer(cfg, run_dir=tmp_path / "part")
    part.fit(stop_at=3)  # between two R1 steps and two path-length steps
    resumed = Trainer(cfg, run_dir=tmp_path / "part", resume=True)
    assert resumed.step == 3 and resumed.method.d_steps == 3
    resumed.fit()
    assert resumed.method.state_dict()["r1_steps"] == 3 and resumed.method.pl_steps == 3
    a, b = _all_state(full), _all_state(resumed)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    assert float(a["method.pl_mean."]) > 0
    strip = lambda recs: [{k: v for k, v in r.items() if k != "wall_s"} for r in recs]
    assert strip(full.run_dir.read_metrics()) == strip(resumed.run_dir.read_metrics())


def test_ada_strength_and_counters_resume_bit_identically(tmp_path):
    """ADA on (p adjusted every 2 D steps by 16 images / 64 = 0.25): stop at 3 (between two adjustments, one
    D step's signs pending), resume to 6; weights, p and the sign counters equal the uninterrupted run's."""
    over = [
        "train.steps=6",
        "method.options.augment=ada",
        "method.options.ada_interval=2",
        "method.options.ada_kimg=0.064",
        "method.options.ada_p=0.5",
        "method.options.r1_interval=2",
    ]
    cfg = _cfg(*over)
    full = Trainer(cfg, run_dir=tmp_path / "full", dataset=_tiny_data())
    full.fit()
    part = Trainer(cfg, run_dir=tmp_path / "part", dataset=_tiny_data())
    part.fit(stop_at=3)
    pending = part.method.ada.state_dict()
    assert pending["steps"] == 3 and pending["count"] == 8  # one real batch of 8 since the adjustment at step 2
    resumed = Trainer(cfg, run_dir=tmp_path / "part", dataset=_tiny_data(), resume=True)
    assert resumed.method.ada.state_dict() == pending
    resumed.fit()
    ada = full.method.ada
    assert ada.steps == 6 and ada.count == 0
    # three adjustments of +-0.25 from 0.5, each following the sign of (E sign D(real) - 0.6), within [0, 1]
    assert ada.p in {0.0, 0.25, 0.5, 0.75, 1.0}
    a, b = _all_state(full), _all_state(resumed)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    assert a["method.ada.p"] == ada.p
    records = [r for r in full.run_dir.read_metrics() if "ada_p" in r]
    assert records and all(0 <= r["ada_p"] <= 1 for r in records)  # logged (averaged over the log window)


def test_diffaugment_and_ada_reach_d_and_keep_g_differentiable(tmp_path):
    seen = []

    class _Spy(StyleGAN2Method):
        def augment(self, images):
            out = super().augment(images)
            seen.append((images.detach().clone(), out.detach().clone(), out.requires_grad))
            return out

    cfg = _cfg("train.steps=1", "method.options.augment=diffaugment", "method.options.r1_gamma=0")
    method = _Spy(StyleGAN2Options(augment="diffaugment", diffaugment="translation,cutout", r1_gamma=0, pl_weight=0))
    Trainer(cfg, method, run_dir=tmp_path / "run", dataset=_tiny_data()).fit()
    assert len(seen) == 3  # D step: real, fake; G step: fake
    assert all(not torch.equal(x, y) for x, y, _ in seen)  # cutout always removes a box
    assert seen[2][2]  # the G step's fakes keep their graph through the augmentation
    with pytest.raises(ConfigError, match="augment must be"):
        StyleGAN2Options(augment="diffaug")
    with pytest.raises(ConfigError, match="unknown DiffAugment operation"):
        StyleGAN2Options(augment="diffaugment", diffaugment="blur")


@pytest.mark.distributed
@pytest.mark.slow
def test_two_process_run_with_the_recipe(tmp_path):
    """torchrun, 2 CPU processes (gloo): R1 and path length every 2 steps; stop at 2, resume to 4, same weights."""
    torchrun = [sys.executable, "-m", "torch.distributed.run"]  # this interpreter's torch, wherever its scripts lie
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    worker = Path(__file__).with_name("ddp_worker.py")
    port = str(29500 + (os.getpid() + 500) % 1000)
    cmd = [*torchrun, "--nproc_per_node", "2", "--master_port", port, str(worker), str(tmp_path), CONFIG]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rep in reports:
        assert rep["world_size"] == 2 and rep["resumed_from"] == 2 and rep["step"] == 4
        assert rep["d_batch"] == 4  # smoke batch 8 over 2 processes
        assert rep["identical"], rep


@pytest.mark.slow
def test_a_few_hundred_steps_on_mnist5k_move_samples_towards_the_data(tmp_path):
    """200 steps (batch 16, the smoke-sized networks, the recipe's default intervals): MNIST in [-1, 1] is mostly
    background (-1), so G_ema's samples' mean falls well below its value at init (measured: -0.06 -> -0.71; 20-65 s)."""
    over = ["train.steps=200", "train.batch_size=16", "method.options.r1_interval=16", "method.options.pl_interval=4"]
    trainer = Trainer(_cfg(*over, data="mnist5k"), run_dir=tmp_path / "run")
    z = torch.randn(256, trainer.z_dim, generator=torch.Generator().manual_seed(1))
    before = truncated_samples(trainer.G_ema, z, 1.0).mean().item()
    trainer.fit()
    m = trainer.method
    assert m.d_steps == 200 and m.r1_steps == 200 // 16 and m.pl_steps == 200 // 4
    assert float(m.pl.pl_mean) > 0
    after = truncated_samples(trainer.G_ema, z, 1.0)
    assert torch.isfinite(after).all()
    assert after.mean().item() < min(before - 0.3, -0.3), (before, after.mean().item())
