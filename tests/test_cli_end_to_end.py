"""The ganlab command end to end, as a user runs it: train, resume, sample, evaluate, inspect data, reproduce."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def ganlab(*args: str, cwd=None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "ganlab.core.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ganlab {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    ganlab(
        "train", "demo", "--scale", "smoke", "--run-dir", str(out / "run"),
        "train.steps=4", "train.checkpoint_every=2", "train.progress=false",
    )  # fmt: skip
    return out / "run"


def test_train_writes_a_complete_run_directory(trained_run):  # runs first: the module fixture is shared
    names = {p.name for p in trained_run.iterdir()}
    assert {"config.yaml", "env.json", "metrics.jsonl", "events.jsonl", "samples", "checkpoints"} <= names
    assert sorted(p.name for p in (trained_run / "checkpoints").iterdir())[-1] == "step_00000004.pt"
    events = [json.loads(line) for line in (trained_run / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "fit_end" and events[-1]["step"] == 4
    metrics = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    assert metrics and all("event" not in r for r in metrics) and metrics[-1]["step"] == 4
    assert any(p.suffix == ".png" for p in (trained_run / "samples").iterdir())


def test_resume_continues_where_it_stopped_and_guards_the_config(trained_run):
    proc = ganlab("train", "demo", "--scale", "smoke", "--run-dir", str(trained_run), "--resume",
                  "optim.n_dis=2", "train.checkpoint_every=2", "train.progress=false", check=False)  # fmt: skip
    # n_dis is part of the trajectory: resuming under another value must be refused, clearly.
    assert proc.returncode == 2 and "optim.n_dis: 1 -> 2" in proc.stderr and "--allow-config-change" in proc.stderr
    assert "Traceback" not in proc.stderr
    # more steps without an LR schedule extends the run: allowed as it is
    ganlab("train", "demo", "--scale", "smoke", "--run-dir", str(trained_run), "--resume",
           "train.steps=6", "train.checkpoint_every=2", "train.progress=false")  # fmt: skip
    assert sorted(p.name for p in (trained_run / "checkpoints").iterdir())[-1] == "step_00000006.pt"


def test_sample_grid_and_npz(trained_run, tmp_path):
    ganlab("sample", "--run-dir", str(trained_run), "--out-file", str(tmp_path / "grid.png"), "-n", "16")
    assert Image.open(tmp_path / "grid.png").size[0] > 28
    ganlab("sample", "--run-dir", str(trained_run), "--out-file", str(tmp_path / "s.npz"), "-n", "10")
    with np.load(tmp_path / "s.npz") as z:
        images = z[z.files[0]]
    assert images.shape[0] == 10 and images.dtype == np.uint8


def test_eval_with_an_offline_extractor_records_the_protocol(trained_run, tmp_path):
    ganlab(
        "eval", str(trained_run), "--dataset", "mnist5k", "--resolution", "32", "--metrics", "fid,prdc",
        "--extractor", "random:lenet", "--n-fake", "64", "--n-real", "64", "--k", "3",
        "--out-dir", str(tmp_path / "ev"), "--no-cache", "--quiet",
    )  # fmt: skip
    records = [json.loads(line) for line in (tmp_path / "ev" / "metrics.jsonl").read_text().splitlines()]
    metrics = {r["metric"]: r for r in records if "metric" in r}
    assert {"fid", "precision", "recall", "density", "coverage"} <= set(metrics)
    assert metrics["fid"]["value"] > 0 and metrics["fid"]["n_fake"] == 64 and metrics["precision"]["k"] == 3
    assert metrics["fid"]["extractor"].startswith("random")


def test_user_errors_are_one_line(tmp_path):
    proc = ganlab("data", "show", "mnist_5k", "--out-file", str(tmp_path / "x.png"), check=False)
    assert proc.returncode == 2 and "did you mean 'mnist5k'" in proc.stderr and "Traceback" not in proc.stderr
    proc = ganlab("train", "demo", "optim.g_lrr=1", check=False)
    assert proc.returncode == 2 and "optim.g_lr" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_every_package_registers_its_command_group():
    import argparse

    from ganlab.core import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("diagan", "gold", "icgan", "instance-selection", "multigan-boosting", "bench"):
        assert name in sub.choices, name


def test_every_installed_package_lists_its_reproductions():
    out = ganlab("repro", "list").stdout
    for package in ("instance-selection/", "diagan/"):
        assert package in out
