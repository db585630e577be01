"""One validation step before any run touches its directory: what was seen and what is expected, and nothing left
behind on a rejection; a divergence at step 1 leaves a failed marker and no lock."""

from __future__ import annotations

import json

import pytest
import torch
from train_testutils import TinyD, TinyG, tiny_cfg, tiny_dataset

from ganlab.core.data import from_torch
from ganlab.core.errors import ConfigError, TrainingDivergedError
from ganlab.core.nn import ContractError
from ganlab.core.train import Method, Trainer


def _run(tmp_path, cfg=None, dataset=None, models=None, method=None):
    return Trainer(cfg or tiny_cfg(tmp_path), method, run_dir=tmp_path / "run",
                   dataset=dataset if dataset is not None else tiny_dataset(),
                   models=models or (lambda: (TinyG(), TinyD())))  # fmt: skip


def test_zero_steps_through_the_api_is_refused_and_writes_nothing(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.train.steps = 0
    with pytest.raises(ConfigError, match="train.steps must be >= 1.*got 0"):
        _run(tmp_path, cfg)
    assert not (tmp_path / "run").exists()


def test_a_batch_larger_than_the_dataset_is_refused(tmp_path):
    cfg = tiny_cfg(tmp_path, train__batch_size=128)
    with pytest.raises(ConfigError, match=r"train.batch_size=128 is larger than the dataset .*\(96 items\)"):
        _run(tmp_path, cfg)
    assert not (tmp_path / "run").exists()


def test_images_in_zero_one_under_the_default_range_are_refused(tmp_path):
    images = torch.rand(96, 1, 8, 8, generator=torch.Generator().manual_seed(0))  # a bare ToTensor() range
    ds = from_torch(torch.utils.data.TensorDataset(images), name="mine", progress=False)
    with pytest.raises(ContractError, match=r"lie in \[7\.97e-05, 1\].*looks like \[0, 1\].*value_range=\(0, 1\)"):
        _run(tmp_path, dataset=ds)
    assert not (tmp_path / "run").exists()
    ok = from_torch(torch.utils.data.TensorDataset(images), name="mine", value_range=(0, 1), progress=False)
    _run(tmp_path, dataset=ok).close()  # declared: accepted


class _NoTanh(TinyG):
    def forward(self, z, y=None, feat=None):
        return 5 * self.net[:-1](z).view(len(z), *self.shape)


def test_g_samples_outside_the_data_range_warn(tmp_path):
    with pytest.warns(UserWarning, match=r"G's samples lie in \[.*\] but the data lie in \[-1, 1\].*tanh"):
        _run(tmp_path, models=lambda: (_NoTanh(), TinyD())).close()


class _FailsInSetup(Method):
    name = "fails_in_setup"

    def setup(self, run):
        raise ConfigError("refused by the method")


def test_a_rejection_after_the_lock_leaves_no_directory(tmp_path):
    with pytest.raises(ConfigError, match="refused by the method"):
        _run(tmp_path, method=_FailsInSetup())
    assert not (tmp_path / "run").exists()


class _NaNFirst(Method):
    name = "nan_first"

    def d_loss(self, run, real, fake):
        loss, logs = super().d_loss(run, real, fake)
        return loss * float("nan"), logs


def test_a_divergence_at_step_one_leaves_a_failed_marker_and_no_lock(tmp_path):
    t = _run(tmp_path, method=_NaNFirst())
    with pytest.raises(TrainingDivergedError, match="D loss became nan at step 1"):
        t.fit()
    run = tmp_path / "run"
    assert not (run / ".lock").exists() and not list((run / "checkpoints").glob("*.pt"))
    failed = json.loads((run / "failed.json").read_text())
    assert failed["status"] == "failed" and failed["step"] == 0 and failed["last_checkpoint"] is None
    assert "D loss became nan" in failed["reason"] and failed["error"] == "TrainingDivergedError"
    t2 = _run(tmp_path)  # the next run starts in the same directory
    t2.fit()
    assert not (run / "failed.json").exists() and not (run / ".lock").exists() and t2.step == 6
