"""The StyleGAN2 backbone plugs into core's Trainer through the config system (backbone named in model.backbone)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab.core.data.base import TensorDataset
from ganlab.core.nn.stylegan2 import StyleGAN2Generator
from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment

CONFIG = """\
name: stylegan2_mnist
seed: 0
data: {name: %(data)s, resolution: 32}
model: {backbone: stylegan2_32_cpu, options: {channels: 1}}
loss: {name: ns}
optim: {g_lr: 2.5e-3, d_lr: 2.5e-3, betas: [0.0, 0.99], n_dis: 1}  # StyleGAN2-ADA's Adam settings
train: {steps: %(steps)d, batch_size: %(batch)d, log_every: 20, sample_every: 0, checkpoint_every: 0,
        progress: false, tensorboard: false}
scales: {smoke: {}, mini: {}, paper: {}}
"""


def _trainer(tmp_path, data: str, steps: int, batch: int, **kwargs) -> Trainer:
    path = tmp_path / "stylegan2_mnist.yaml"
    path.write_text(CONFIG % {"data": data, "steps": steps, "batch": batch})
    return Trainer(load_experiment(path, [], "mini"), run_dir=tmp_path / "run", **kwargs)


def _samples(G: StyleGAN2Generator, n: int = 256) -> torch.Tensor:
    was = G.training
    G.eval()
    with torch.no_grad():
        x = G(torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(1)), noise_mode="const")
    G.train(was)
    return x


def test_trainer_runs_stylegan2_from_a_config(tmp_path):
    torch.set_num_threads(1)
    images = torch.randint(0, 256, (32, 1, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    data = TensorDataset("tiny32", images, np.arange(32) % 10, num_classes=10, identity={"name": "tiny32"})
    trainer = _trainer(tmp_path, "digits", steps=3, batch=8, dataset=data)  # an in-memory set: no data loading
    G = trainer.unwrap(trainer.G)
    assert isinstance(G, StyleGAN2Generator) and G.channels == 1
    out = trainer.fit()
    assert out["step"] == 3 and out["finished"]
    assert all(torch.isfinite(p).all() for p in G.parameters())
    assert int(G.mapping.w_avg_updates) >= 3  # the trainer runs G in training mode: w_avg is tracked
    assert _samples(G, 4).shape == (4, 1, 32, 32)


@pytest.mark.slow
def test_200_steps_on_mnist_move_samples_towards_the_data(tmp_path):
    """MNIST in [-1, 1] is mostly background (-1): after 200 steps (batch 16, 3-4 min on one busy CPU thread) the
    samples' mean falls from about +0.2 at init to below -0.5 (measured: -0.81, 89 % of pixels below -0.5)."""
    torch.set_num_threads(1)
    trainer = _trainer(tmp_path, "mnist5k", steps=200, batch=16)
    G = trainer.unwrap(trainer.G)
    before = _samples(G)
    trainer.fit()
    after = _samples(G)
    assert before.mean() > -0.2
    assert after.mean() < -0.5 and (after < -0.5).float().mean() > 0.6
    records = [r for r in trainer.run_dir.read_metrics() if "d_loss" in r]
    assert records and all(abs(r["d_loss"]) < 10 and abs(r["g_loss"]) < 20 for r in records)
