"""``ganlab train``, ``ganlab sample`` and ``ganlab demo`` end to end (in-process, smoke sizes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.core.cli import main
from ganlab.core.sampling import generate_samples
from ganlab.core.train.checkpoint import latest_checkpoint, load_models

QUIET = ["train.progress=false", "train.tensorboard=false"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "run"
    code = main(["train", "demo", "--scale", "smoke", "--run-dir", str(run), *QUIET, "train.steps=4"])
    assert code == 0
    return run


def test_train_writes_a_run(trained, capsys):
    assert (trained / "config.yaml").exists() and (trained / "G_ema.pt").exists()
    assert sorted(p.name for p in (trained / "checkpoints").iterdir()) == ["step_00000004.pt"]
    assert (trained / "samples" / "step_00000004.png").exists()


def test_resume_and_config_guard(trained, capsys):
    code = main(
        [
            "train",
            "demo",
            "--scale",
            "smoke",
            "--run-dir",
            str(trained),
            *QUIET,
            "train.steps=4",
            "--resume",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["steps_run"] == 0
    base = ["train", "demo", "train.steps=4", "--scale", "smoke", "--run-dir", str(trained), "--resume", *QUIET]
    assert main([*base, "optim.g_lr=0.001"]) == 2  # a change of the trajectory is refused ...
    assert "optim.g_lr: 0.0002 -> 0.001" in capsys.readouterr().err
    assert main([*base, "optim.g_lr=0.001", "--allow-config-change", "train.steps=5"]) == 0  # ... unless allowed
    assert json.loads(capsys.readouterr().out)["step"] == 5
    # more steps without an LR schedule only extends the run: a safe change (overrides before or after options)
    code = main(
        [
            "train",
            "demo",
            "optim.g_lr=0.001",
            "--scale",
            "smoke",
            "--run-dir",
            str(trained),
            *QUIET,
            "train.steps=6",
            "--resume",
        ]
    )
    assert code == 0 and json.loads(capsys.readouterr().out)["step"] == 6


def test_sample_outputs(trained, tmp_path, capsys):
    assert main(["sample", str(trained), "--out", str(tmp_path / "g.png"), "-n", "16"]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 32
    assert main(["sample", str(trained), "--out", str(tmp_path / "x.npz"), "-n", "10", "--truncation", "0.5"]) == 0
    arr = np.load(tmp_path / "x.npz")["images"]
    assert arr.shape == (10, 32, 32, 1) and arr.dtype == np.uint8
    assert (
        main(["sample", str(trained), "--out", str(tmp_path / "folder"), "-n", "3", "--drs", "--drs-burn-in", "2"]) == 0
    )
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < info["drs_acceptance"] <= 1
    assert main(["sample", str(tmp_path / "nothing"), "--out", str(tmp_path / "y.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_generate_samples_truncation_and_seed(trained):
    G, D, cfg, state = load_models(latest_checkpoint(trained))
    a = generate_samples(G, 5, truncation=1.0, seed=3)["image"]
    b = generate_samples(G, 5, truncation=1.0, seed=3)["image"]
    assert torch.equal(a, b) and a.shape == (5, 1, 32, 32)
    assert D is not None and cfg.model.backbone == "dcgan" and state["step"] >= 4


def test_demo_end_to_end(tmp_path, capsys):
    code = main(
        [
            "demo",
            "--out-dir",
            str(tmp_path),
            "--steps",
            "3",
            "--n-eval",
            "200",
            *QUIET,
            "data.name=digits",
            "train.sample_every=3",
            "train.checkpoint_every=3",
        ]
    )
    assert code == 0
    run = tmp_path / "demo"
    rows = json.loads((run / "results.json").read_text())
    fid = {r["model"]: r["fid"] for r in rows if "fid" in r}
    assert fid["real vs real (floor)"] < fid["untrained G"]
    assert all(np.isfinite(v) for v in fid.values())
    assert (run / "final_grid.png").exists() and (run / "summary.md").exists()
    assert "random:lenet" in (run / "summary.md").read_text()
