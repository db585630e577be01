"""Periodic evaluation with best-checkpoint selection (``eval.every`` + ``eval.select_best``)."""

from __future__ import annotations

import json

import pytest
import torch
from train_testutils import TinyD, TinyG, tiny_cfg, tiny_dataset

from ganlab.core.config import from_dict
from ganlab.core.errors import ConfigError
from ganlab.core.train import Trainer
from ganlab.core.train.checkpoint import load_generator
from ganlab.core.train.config import EvalConfig

# FID by step: falls, then rises (a run that collapses after step 4)
FID = {2: 40.0, 4: 12.0, 6: 30.0, 8: 55.0}


def _fake_evaluate(seen):
    def evaluate(G, dataset, *, metrics, **kw):
        step = len(seen) * 2 + 2
        seen[step] = {k: v.detach().clone() for k, v in G.state_dict().items()}
        return [{"metric": "fid", "value": FID[step], "n_fake": kw["n_fake"]}]

    return evaluate


def _trainer(tmp_path, name="r", resume=False, **over):
    cfg = tiny_cfg(
        tmp_path, train__steps=8, eval__metrics=["fid"], eval__every=2, eval__select_best="fid", eval__n_fake=16, **over
    )
    return Trainer(
        cfg, run_dir=tmp_path / name, dataset=tiny_dataset(), models=lambda: (TinyG(), TinyD()), resume=resume
    )


def test_best_checkpoint_is_the_lowest_fid_step(tmp_path, monkeypatch):
    seen: dict[int, dict[str, torch.Tensor]] = {}
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate(seen))
    tr = _trainer(tmp_path)
    summary = tr.fit()
    assert sorted(seen) == [2, 4, 6, 8]  # every 2 steps, the last one included
    assert summary["best_step"] == 4 and summary["best_fid"] == 12.0
    assert summary["last_eval_step"] == 8 and summary["last_fid"] == 55.0
    G, info = load_generator(tmp_path / "r" / "best_G.pt")
    assert info["step"] == 4
    for k, v in G.state_dict().items():  # the weights evaluated at step 4, not the last ones
        assert torch.equal(v, seen[4][k])
    assert not torch.equal(G.state_dict()["net.0.weight"], tr.G_ema.state_dict()["net.0.weight"])
    assert json.loads((tmp_path / "r" / "best.json").read_text())["best_step"] == 4


def test_resume_keeps_an_older_best_and_drops_a_newer_one(tmp_path, monkeypatch):
    seen: dict[int, dict[str, torch.Tensor]] = {}
    monkeypatch.setattr("ganlab.core.metrics.evaluate.evaluate", _fake_evaluate(seen))
    over = dict(train__checkpoint_every=4)
    tr = _trainer(tmp_path, **over)
    tr.fit(stop_at=4)
    assert tr.best.best_step == 4
    resumed = _trainer(tmp_path, resume=True, **over)
    assert resumed.best.best_step == 4 and resumed.best.best_value == 12.0
    assert resumed.fit()["best_step"] == 4
    # a record newer than the checkpoint resumed from is dropped (its evaluations are rerun)
    rec = tmp_path / "r" / "best.json"
    rec.write_text(json.dumps({"metric": "fid", "best_step": 99, "best_value": 1.0}))
    tr3 = _trainer(tmp_path, "r", resume=tmp_path / "r" / "checkpoints" / "step_00000004.pt", **over)
    assert tr3.best.best_step is None and not rec.exists()


def test_select_best_config_errors():
    with pytest.raises(ConfigError, match="needs 'fid'"):
        from_dict(EvalConfig, {"select_best": "fid", "metrics": ["is"]})
    with pytest.raises(ConfigError, match="select_best must be one of"):
        from_dict(EvalConfig, {"select_best": "nope", "metrics": ["fid"]})
    assert from_dict(EvalConfig, {"select_best": "recall", "metrics": ["prdc"], "every": 5}).every == 5
