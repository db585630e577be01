"""A minimal stand-in for the trainer's ``run`` object, so the method's hooks can be tested step by step.

It implements the documented run interface (streams, samplers, ``optimize``, ``add_model``) with plain PyTorch;
the end-to-end tests use the real core trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.data.samplers import InfiniteSampler
from ganlab.core.losses import get_loss
from ganlab.core.train.config import ExperimentConfig


class VectorDataset:
    """N points in R^2 with labels and optional groups, vectorised ``get_batch``."""

    def __init__(self, x: np.ndarray, groups: np.ndarray | None = None) -> None:
        self.x = torch.as_tensor(x, dtype=torch.float32)
        self.labels = np.zeros(len(x), dtype=np.int64)
        self.groups = groups
        self.num_classes = 0
        self.shape = (2,)

    def __len__(self) -> int:
        return len(self.x)

    def get_batch(self, indices) -> dict[str, torch.Tensor]:
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        out = {"index": idx, "image": self.x[idx], "label": torch.zeros(len(idx), dtype=torch.int64)}
        if self.groups is not None:
            out["group"] = torch.as_tensor(self.groups[np.asarray(indices)])
        return out


class ToyG(nn.Module):
    def __init__(self, z_dim: int = 2) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.feat_dim = z_dim, 0, 0
        self.net = nn.Sequential(nn.Linear(z_dim, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, z, y=None, feat=None):
        return self.net(z)


class ToyD(nn.Module):
    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 1))

    def forward(self, x, y=None, feat=None):
        return {"adv": self.net(x)[:, 0]}


@dataclass
class FakeRun:
    dataset: Any
    cfg: ExperimentConfig
    run_dir: Path | None = None
    step: int = 0
    device: torch.device = torch.device("cpu")
    accelerator: Any = None
    models: dict = field(default_factory=dict)
    optimizers: dict = field(default_factory=dict)
    streams: dict = field(default_factory=dict)
    logs: list = field(default_factory=list)
    optimized: list = field(default_factory=list)

    def __post_init__(self) -> None:
        torch.manual_seed(self.cfg.seed)
        self.models = {"G": ToyG(), "D": ToyD()}
        o = self.cfg.optim
        self.optimizers = {
            n: torch.optim.Adam(m.parameters(), lr=o.d_lr, betas=o.betas) for n, m in self.models.items()
        }
        self.loss = get_loss(self.cfg.loss.name)
        self.z_dim, self.num_classes = 2, 0

    G = property(lambda self: self.models["G"])
    D = property(lambda self: self.models["D"])

    def unwrap(self, m):
        return m

    def add_model(self, name, module, lr, betas):
        self.models[name] = module
        self.optimizers[name] = torch.optim.Adam(module.parameters(), lr=lr, betas=betas)

    def add_stream(self, name, sampler):
        self.streams[name] = sampler

    def set_sampler(self, name, sampler):
        self.streams[name] = sampler

    def next_batch(self, name):
        idx = self.streams[name].next_indices(self.cfg.train.batch_size)
        return self.dataset.get_batch(idx)

    def optimize(self, name, loss):
        self.optimized.append((name, float(loss.detach())))
        self.optimizers[name].zero_grad()
        loss.backward()
        self.optimizers[name].step()

    def log(self, record):
        self.logs.append(dict(record))

    def start(self, method) -> None:
        """What the trainer does before the first step."""
        self.method = method
        method.setup(self)
        sampler = method.sampler(self)
        self.streams["main"] = sampler or InfiniteSampler(len(self.dataset), seed=self.cfg.seed)

    def train_step(self) -> dict:
        """One G step with one D step, through the method's hooks (the trainer's loop, simplified)."""
        m = self.method
        real = m.next_real(self)
        fake = m.sample_fake(self, real["image"].shape[0], real)
        d_loss, _ = m.d_loss(self, real, fake)
        self.optimize("D", d_loss)
        m.after_d_step(self, real, fake)
        fake = m.sample_fake(self, real["image"].shape[0], real)
        g_loss, _ = m.g_loss(self, fake)
        self.optimize("G", g_loss)
        self.step += 1
        m.on_step_end(self)
        return real


@pytest.fixture
def toy_data():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (45, 2)), rng.normal(3, 0.1, (5, 2))])
    groups = np.array([0] * 45 + [1] * 5)
    return VectorDataset(x, groups)


@pytest.fixture
def make_run(toy_data, tmp_path):
    def make(steps=20, batch_size=10, loss="ns", seed=0, dataset=None) -> FakeRun:
        cfg = ExperimentConfig()
        cfg.seed = seed
        cfg.train.steps = steps
        cfg.train.batch_size = batch_size
        cfg.loss.name = loss
        cfg.optim.betas = (0.5, 0.999)
        return FakeRun(dataset=dataset if dataset is not None else toy_data, cfg=cfg, run_dir=tmp_path / "run")

    return make


@pytest.fixture
def toy_models():
    """A factory of the small G/D pair (same initial weights each call)."""

    def make():
        torch.manual_seed(0)
        return ToyG(), ToyD()

    return make
