"""Small models, data and configs for the trainer tests (imported by the test modules; conftest puts this folder on
sys.path because pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ganlab.core.data.base import TensorDataset
from ganlab.core.train.config import ExperimentConfig


class TinyG(nn.Module):
    """z -> (C, H, W) images in [-1, 1]; optional BatchNorm and class conditioning."""

    def __init__(self, z_dim=8, shape=(1, 8, 8), bn=False, num_classes=0):
        super().__init__()
        self.init_kwargs = dict(z_dim=z_dim, shape=shape, bn=bn, num_classes=num_classes)  # how a run rebuilds it
        self.z_dim, self.num_classes, self.feat_dim, self.shape = z_dim, num_classes, 0, shape
        self.embed = nn.Embedding(num_classes, z_dim) if num_classes else None
        layers = [nn.Linear(z_dim, 32)]
        if bn:
            layers.append(nn.BatchNorm1d(32))
        layers += [nn.ReLU(), nn.Linear(32, int(np.prod(shape))), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z, y=None, feat=None):
        if self.embed is not None and y is not None:
            z = z + self.embed(y)
        return self.net(z).view(len(z), *self.shape)


class TinyD(nn.Module):
    """images -> {"adv": (B,)}; optional spectral norm and dropout."""

    def __init__(self, shape=(1, 8, 8), sn=False, dropout=0.0, num_classes=0):
        super().__init__()
        self.init_kwargs = dict(shape=shape, sn=sn, dropout=dropout, num_classes=num_classes)
        self.num_classes = num_classes
        lin = nn.Linear(int(np.prod(shape)), 32)
        head = nn.Linear(32, 1)
        if sn:
            lin = nn.utils.parametrizations.spectral_norm(lin)
            head = nn.utils.parametrizations.spectral_norm(head)
        self.net = nn.Sequential(lin, nn.LeakyReLU(0.2), nn.Dropout(dropout), head)

    def forward(self, x, y=None, feat=None):
        return {"adv": self.net(x.flatten(1))[:, 0]}


def tiny_dataset(n=96, shape=(1, 8, 8), num_classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    data = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    labels = np.arange(n) % num_classes
    return TensorDataset("tiny", data, labels, num_classes=num_classes, identity={"name": "tiny", "n": n})


def tiny_cfg(tmp_path, **over) -> ExperimentConfig:
    cfg = ExperimentConfig(name="t", out_dir=str(tmp_path))
    cfg.train.steps = 6
    cfg.train.batch_size = 8
    cfg.train.log_every = 2
    cfg.train.sample_every = 0
    cfg.train.checkpoint_every = 0
    cfg.train.sample_grid = 4
    cfg.train.progress = False
    cfg.train.tensorboard = False
    for key, value in over.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg
