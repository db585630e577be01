"""Tiny configs and data shared by the cross-rank worker, the kill/resume worker and their tests (in one process)."""

from __future__ import annotations

import numpy as np

TRAIN = {"steps": 4, "batch_size": 8, "log_every": 1, "sample_every": 0, "checkpoint_every": 2, "keep_last": 10,
         "sample_grid": 4, "progress": False, "tensorboard": False, "log_speed": False}  # fmt: skip
# Dia-GAN's MNIST D (BatchNorm and dropout in D), at its preset size: BN running statistics stay per process
ACGAN = {"backbone": "dcgan32_diagan_mnist", "options": {"z_dim": 8}}
ICGAN_MODEL = {"backbone": "biggan", "options": {"resolution": 32, "channels": 1, "ch": 4, "z_dim": 32,
               "shared_dim": 16, "feat_embed_dim": 16, "g_attn": "0", "d_attn": "0", "num_classes": 0,
               "feat_dim": 84}}  # fmt: skip
N_DIGITS = 37  # odd: the two ranks' LDR shards differ in size


def digits():
    from ganlab.core.data import get_dataset, subset

    return subset(get_dataset("digits", resolution=32), np.arange(0, 1797, 7)[:N_DIGITS])


def diagan_config(out_dir: str, steps: int = 4, **train):
    """Dia-GAN with its phase switch after step 3 (records at steps 1, 2), checkpoints every 2 steps."""
    from ganlab.core.config import from_dict
    from ganlab.core.train.config import ExperimentConfig

    raw = {"name": "t", "out_dir": out_dir, "seed": 3, "data": {"name": "digits", "resolution": 32},
           "model": ACGAN, "train": {**TRAIN, "steps": steps, **train},
           "method": {"name": "diagan", "options": {"phase1_steps": 3, "k": 1.0, "window": 2, "record_every": 1,
                                                      "eval_batch_size": 5}}}  # fmt: skip
    return from_dict(ExperimentConfig, raw)


def gold_config(out_dir: str, estimator: str = "balanced", epochs: int = 2):
    """GOLD on the toy 2-D clusters (2 steps an epoch), re-weighting from the second epoch; returns (config, data)."""
    from ganlab.core.config import from_dict
    from ganlab.core.data import get_dataset
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.gold.method import resolve_steps

    raw = {"name": "t", "out_dir": out_dir, "seed": 1, "data": {"name": "clusters6",
           "options": {"n_train": 300, "n_test": 100}}, "model": {"backbone": "toy_mlp_gold", "options": {"width": 16}},
           "train": {**TRAIN, "batch_size": 32},
           "method": {"name": "gold", "options": {"epochs": epochs, "start_epoch": 1, "per_epoch": 64,
                      "transform": "none", "test_split": "test", "estimator": estimator}}}  # fmt: skip
    dataset = get_dataset("clusters6", n_train=300, n_test=100)
    cfg = from_dict(ExperimentConfig, raw)
    cfg.train.steps = resolve_steps(cfg, dataset)
    return cfg, dataset


def icgan_config(out_dir: str):
    from ganlab.core.config import from_dict
    from ganlab.core.train.config import ExperimentConfig

    raw = {"name": "t", "out_dir": out_dir, "seed": 2, "data": {"name": "digits", "resolution": 32},
           "model": ICGAN_MODEL, "loss": {"name": "hinge"}, "train": dict(TRAIN),
           "method": {"name": "icgan", "options": {"extractor": "random:lenet", "k": 5}}}  # fmt: skip
    return from_dict(ExperimentConfig, raw)


def fixed_fakes(seed: int, n: int, z_dim: int, num_classes: int):
    """A fixed global batch of (z, labels), the same on every process."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g), torch.randint(0, num_classes, (n,), generator=g)


def perturb(module, seed: int, scale: float = 0.5) -> None:
    """Add seeded noise to every parameter (the same on every process): a fresh toy D's outputs are constant."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
