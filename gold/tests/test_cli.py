"""``ganlab gold train | rejection | scores | active`` end to end on tiny configs; bad input prints one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from ganlab.core.cli import main


@pytest.fixture
def toy_yaml(tmp_path):
    cfg = {
        "name": "r",
        "out_dir": str(tmp_path),
        "data": {"name": "clusters6", "options": {"n_train": 200, "n_test": 100}},
        "model": {"backbone": "toy_mlp_gold", "options": {"width": 16}},
        "optim": {"betas": [0.5, 0.999]},
        "train": {
            "batch_size": 32,
            "log_every": 1,
            "sample_every": 0,
            "checkpoint_every": 0,
            "progress": False,
            "tensorboard": False,
        },
        "method": {"name": "gold", "options": {"epochs": 2, "per_epoch": 64, "transform": "none"}},
    }
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_train_rejection_scores(tmp_path, toy_yaml, capsys):
    assert main(["gold", "train", str(toy_yaml), "method.options.lambda_c=0.2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    run = tmp_path / "r"
    assert summary["run_dir"] == str(run) and summary["step"] > 0
    args = ["gold", "rejection", str(run), "-n", "20", "--n-stats", "50", "--p", "0.5", "--batch-size", "10"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 20 and 0 < out["acceptance_rate"] <= 1
    with np.load(run / "rejection" / "gold_p0.5.npz") as f:
        assert np.bincount(f["labels"]).tolist() == [10, 10]
    assert main(["gold", "scores", str(run)]) == 0
    with np.load(run / "scores" / "scores.npz") as f:
        assert f["gold_real"].shape == (200,)


def test_bad_p_prints_one_line_and_writes_nothing(tmp_path, toy_yaml, capsys):
    assert main(["gold", "train", str(toy_yaml)]) == 0
    capsys.readouterr()
    assert main(["gold", "rejection", str(tmp_path / "r"), "--p", "1.2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "(0, 1)" in err[0]
    assert not (tmp_path / "r" / "rejection").exists()


def test_budget_exhaustion_keeps_the_accepted(tmp_path, toy_yaml, capsys):
    assert main(["gold", "train", str(toy_yaml)]) == 0
    capsys.readouterr()
    args = ["gold", "rejection", str(tmp_path / "r"), "-n", "100", "--n-stats", "20", "--p", "0.5"]
    assert main([*args, "--batch-size", "10", "--max-batches", "5"]) == 2
    assert "kept the" in capsys.readouterr().err
    assert (tmp_path / "r" / "rejection" / "gold_p0.5_partial.npz").is_file()


def test_train_rejects_bad_beta_without_files(tmp_path, toy_yaml, capsys):
    assert main(["gold", "train", str(toy_yaml), "method.options.beta_d=-2"]) == 2
    assert "beta_d" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_active_command(tmp_path, capsys):
    out = tmp_path / "al"
    args = ["gold", "active", "figure3", "--scale", "smoke", "--query", "random", "--out-dir", str(out)]
    assert main(args) == 0
    rounds = json.loads(capsys.readouterr().out)
    assert [r["n_labelled"] for r in rounds] == [4, 5]
