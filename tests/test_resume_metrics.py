"""Resuming leaves metrics.jsonl exactly as an uninterrupted run writes it, for every method the trainer offers, and
a refused resume leaves it untouched.

Each method trains N steps in one go, and N/2 steps + a resume for N/2 more (N = 4; GOLD's 2 epochs: 20); the files
must be equal byte for byte (``train.log_speed=false``: no wall-clock fields, so the log is a function of the seed).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganlab.core.config import from_dict
from ganlab.core.errors import CheckpointError
from ganlab.core.train.config import ExperimentConfig
from ganlab.core.train.trainer import Trainer

TRAIN = {"steps": 4, "batch_size": 8, "log_every": 1, "sample_every": 0, "checkpoint_every": 2, "keep_last": 5,
         "sample_grid": 4, "progress": False, "tensorboard": False, "log_speed": False}  # fmt: skip
DCGAN = {"backbone": "dcgan", "options": {"resolution": 32, "channels": 1, "num_classes": 0, "z_dim": 8, "ngf": 4,
                                          "ndf": 4}}  # fmt: skip
ICGAN_MODEL = {"backbone": "biggan", "options": {"resolution": 32, "channels": 1, "ch": 4, "z_dim": 32,
               "shared_dim": 16, "feat_embed_dim": 16, "g_attn": "0", "d_attn": "0", "num_classes": 0,
               "feat_dim": 84}}  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    from ganlab.core.data import get_dataset, subset

    torch.set_num_threads(1)
    return subset(get_dataset("digits", resolution=32), np.arange(0, 1797, 6)[:300])


def _config(tmp_path, method: str, digits) -> tuple[ExperimentConfig, object]:
    raw = {"name": "t", "out_dir": str(tmp_path), "seed": 1, "data": {"name": "digits", "resolution": 32},
           "model": DCGAN, "train": dict(TRAIN), "method": {"name": method, "options": {}}}  # fmt: skip
    dataset = digits
    if method == "diagan":  # the resumed half holds the phase change (weighted sampling, the auxiliary D)
        raw["method"]["options"] = {"phase1_steps": 3, "k": 1.0, "window": 2, "record_every": 1}
    elif method == "instance_selection":
        from ganlab.instance_selection.api import SelectionConfig, select_instances

        index = tmp_path / "indices.npz"
        select_instances(digits, SelectionConfig(scorer="uniform", retention_ratio=50), index_file=index)
        raw["method"]["options"] = {"index_file": str(index)}
    elif method == "icgan":
        raw["model"], raw["loss"] = ICGAN_MODEL, {"name": "hinge"}
        raw["method"]["options"] = {"extractor": "random:lenet", "k": 5}
    elif method == "gold":  # the toy conditional MLP on 2-D clusters; steps follow from the epochs
        from ganlab.core.data import get_dataset
        from ganlab.gold.method import resolve_steps

        raw["data"] = {"name": "clusters6", "options": {"n_train": 300, "n_test": 100}}
        raw["model"] = {"backbone": "toy_mlp_gold", "options": {"width": 16}}
        raw["train"]["batch_size"] = 32
        raw["method"]["options"] = {"epochs": 2, "per_epoch": 64, "transform": "none", "test_split": "test"}
        dataset = get_dataset("clusters6", n_train=300, n_test=100)
        cfg = from_dict(ExperimentConfig, raw)
        cfg.train.steps = resolve_steps(cfg, dataset)  # as gold.api.train sets it
        cfg.train.checkpoint_every = cfg.train.steps // 2
        return cfg, dataset
    return from_dict(ExperimentConfig, raw), dataset


METHODS = ["vanilla", "topk", "diagan", "instance_selection", "icgan", "gold"]


@pytest.mark.parametrize("method", METHODS)
def test_a_resumed_run_logs_what_an_uninterrupted_one_does(method, tmp_path, digits):
    cfg, data = _config(tmp_path, method, digits)
    Trainer(cfg, run_dir=tmp_path / "full", dataset=data).fit()
    n = cfg.train.steps
    Trainer(cfg, run_dir=tmp_path / "part", dataset=data).fit(stop_at=n // 2)
    resumed = Trainer(cfg, run_dir=tmp_path / "part", dataset=data, resume=True)
    assert resumed.step == n // 2
    resumed.fit()
    full, part = (tmp_path / "full" / "metrics.jsonl").read_bytes(), (tmp_path / "part" / "metrics.jsonl").read_bytes()
    steps = [r.get("step") for r in map(json.loads, full.splitlines())]
    assert n in steps and 1 in steps  # the log is not empty: the comparison means something
    assert part == full


def test_a_refused_resume_leaves_metrics_untouched(tmp_path, digits):
    cfg, data = _config(tmp_path, "vanilla", digits)
    Trainer(cfg, run_dir=tmp_path / "run", dataset=data).fit(stop_at=2)
    metrics = tmp_path / "run" / "metrics.jsonl"
    with metrics.open("a") as f:  # what a run killed after its step-2 checkpoint had logged
        f.write(json.dumps({"step": 3, "d_loss": 1.0}) + "\n")
    before = metrics.read_bytes()
    changed, _ = _config(tmp_path, "vanilla", digits)
    changed.optim.g_lr = 3e-3  # part of the trajectory: refused without --allow-config-change
    with pytest.raises(CheckpointError, match="refusing to resume"):
        Trainer(changed, run_dir=tmp_path / "run", dataset=data, resume=True)
    assert metrics.read_bytes() == before


def test_a_resume_refused_during_set_up_gives_the_log_back(tmp_path, digits, monkeypatch):
    cfg, data = _config(tmp_path, "vanilla", digits)
    Trainer(cfg, run_dir=tmp_path / "run", dataset=data).fit(stop_at=2)
    metrics, events = tmp_path / "run" / "metrics.jsonl", tmp_path / "run" / "events.jsonl"
    with metrics.open("a") as f:
        f.write(json.dumps({"step": 3, "d_loss": 1.0}) + "\n")
    before = metrics.read_bytes(), events.read_bytes()

    from ganlab.core.train.method import Method

    def refuse(self, run):  # a method that rejects its inputs in set-up, after the log was cut back to step 2
        raise CheckpointError("refused in set-up")

    monkeypatch.setattr(Method, "on_resume", refuse)
    with pytest.raises(CheckpointError, match="refused in set-up"):
        Trainer(cfg, run_dir=tmp_path / "run", dataset=data, resume=True)
    assert (metrics.read_bytes(), events.read_bytes()) == before
    assert not (tmp_path / "run" / ".lock").exists()
