from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    from ganlab.core.data import get_dataset

    return get_dataset("digits", resolution=32)


@pytest.fixture(scope="session")
def small_digits(digits):
    """300 digits (a subset view), enough for neighbourhoods and a few training steps."""
    from ganlab.core.data import subset

    return subset(digits, np.arange(0, 1797, 6)[:300])


def tiny_model(num_classes: int = 0, feat_dim: int = 84, **extra) -> dict:
    opts = {
        "resolution": 32,
        "channels": 1,
        "ch": 4,
        "z_dim": 32,
        "shared_dim": 16,
        "feat_embed_dim": 16,
        "g_attn": "0",
        "d_attn": "0",
        "num_classes": num_classes,
        "feat_dim": feat_dim,
        **extra,
    }
    return {"backbone": "biggan", "options": opts}


def tiny_config(tmp_path, *, steps: int = 2, method_options: dict | None = None, model: dict | None = None, **kw):
    from ganlab.core.config import from_dict
    from ganlab.core.train.config import ExperimentConfig

    raw = {
        "name": "t",
        "out_dir": str(tmp_path / "runs"),
        "data": {"name": "digits", "resolution": 32},
        "model": model or tiny_model(),
        "loss": {"name": "hinge"},
        "optim": {"g_lr": 1e-4, "d_lr": 1e-4, "betas": [0.0, 0.999]},
        "train": {
            "steps": steps,
            "batch_size": 8,
            "log_every": 0,
            "sample_every": 0,
            "checkpoint_every": 0,
            "progress": False,
            "sample_grid": 16,
        },
        "method": {"name": "icgan", "options": {"extractor": "random:lenet", "k": 5, **(method_options or {})}},
    }
    raw.update(kw)
    return from_dict(ExperimentConfig, raw)


class _Tiny:
    config = staticmethod(tiny_config)
    model = staticmethod(tiny_model)


@pytest.fixture
def tiny():
    """Builders of tiny BigGAN IC-GAN configs: ``tiny.config(tmp_path, ...)``, ``tiny.model(...)``."""
    return _Tiny
