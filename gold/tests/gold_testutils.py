"""Helpers for the gold tests: tiny configs on the 6-cluster toy set and on 8x8 digits upsampled to 32 px, and
discriminators / generators with hand-checkable outputs."""

from __future__ import annotations

import torch

from ganlab.core.config import from_dict
from ganlab.core.train.config import ExperimentConfig


def toy_config(tmp_path, **options) -> ExperimentConfig:
    """The toy MLP (width 16) on 300 cluster points; 64-item epochs of batch 32 (2 steps)."""
    opts = {"epochs": 2, "per_epoch": 64, "transform": "none", "test_split": "test", **options}
    return from_dict(
        ExperimentConfig,
        {
            "name": "toy",
            "out_dir": str(tmp_path),
            "seed": 3,
            "data": {"name": "clusters6", "options": {"n_train": 300, "n_test": 100}},
            "model": {"backbone": "toy_mlp_gold", "options": {"width": 16}},
            "optim": {"betas": [0.5, 0.999]},
            "train": {
                "steps": 1,  # replaced from method.options.epochs
                "batch_size": 32,
                "log_every": 1,
                "sample_every": 0,
                "checkpoint_every": 0,
                "progress": False,
                "tensorboard": False,
            },
            "method": {"name": "gold", "options": opts},
        },
    )


def image_config(tmp_path, **options) -> ExperimentConfig:
    """A narrow ACGAN-style DCGAN on the 1,797 digits at 32 px (1,700 held out as the test set)."""
    opts = {"epochs": 2, "per_epoch": 32, "holdout": 1700, "test_split": None, **options}
    return from_dict(
        ExperimentConfig,
        {
            "name": "img",
            "out_dir": str(tmp_path),
            "seed": 5,
            "data": {"name": "digits", "resolution": 32},
            "model": {
                "backbone": "dcgan",
                "options": {
                    "resolution": 32,
                    "channels": 1,
                    "z_dim": 8,
                    "ngf": 4,
                    "ndf": 4,
                    "num_classes": 10,
                    "acgan": True,
                },
            },
            "optim": {"betas": [0.5, 0.999]},
            "train": {
                "steps": 1,  # replaced from method.options.epochs
                "batch_size": 16,
                "log_every": 1,
                "sample_every": 0,
                "checkpoint_every": 0,
                "progress": False,
                "tensorboard": False,
            },
            "method": {"name": "gold", "options": opts},
        },
    )


class HeadsD(torch.nn.Module):
    """A D whose heads are fixed functions of the input (for hand-checkable scores): adv = x[:, 0] * a,
    class logits = x[:, :C] * b (inputs are (B, >= C) vectors)."""

    def __init__(self, num_classes: int = 3, a: float = 1.0, b: float = 1.0, tuple_out: bool = False) -> None:
        super().__init__()
        self.num_classes, self.a, self.b, self.tuple_out = num_classes, a, b, tuple_out
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, y=None, feat=None):
        x = x.reshape(len(x), -1).float()
        adv = x[:, 0] * self.a + 0 * self.w
        cls = x[:, : self.num_classes] * self.b
        return (adv[:, None], cls) if self.tuple_out else {"adv": adv, "cls": cls}


class LabelG(torch.nn.Module):
    """A generator of vectors: G(z, y) = z + 2 * onehot(y) (z_dim = num_classes)."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.z_dim = self.num_classes = num_classes
        self.feat_dim = 0
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, y=None, feat=None):
        return z + 2.0 * torch.nn.functional.one_hot(y, self.num_classes).float() + 0 * self.w
