"""benchmarks/gpu/paper_speed.py: its config discovery, its wall-time arithmetic and a CPU dry run of two configs."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

GPU_DIR = Path(__file__).resolve().parents[1] / "gpu"


def _load(name: str):
    if str(GPU_DIR) not in sys.path:
        sys.path.insert(0, str(GPU_DIR))
    return importlib.import_module(name)  # the scripts import each other by file name, as when run directly


def test_header_gpus_reads_the_leading_comment_only(tmp_path):
    cfgs = _load("paper_configs")
    f = tmp_path / "a.yaml"
    f.write_text("# 16 images per GPU x 32 GPUs x 4 accumulations = 2048 per step.\nrun: {}\n# 8 GPUs\n")
    assert cfgs.header_gpus(f) == 32
    f.write_text("run: {}\n# 8 GPUs below the header does not count\n")
    assert cfgs.header_gpus(f) is None


def test_batch_per_gpu_and_estimate_by_hand():
    from ganlab.core.train.config import ExperimentConfig

    cfgs, speed = _load("paper_configs"), _load("paper_speed")
    ecfg = ExperimentConfig()
    ecfg.train.batch_size = 2048
    row = cfgs.PaperConfig(key="x/y", ecfg=ecfg, gpus=32, steps=1000)
    assert row.batch_per_gpu == 64  # 2048 over 32 GPUs
    assert cfgs.PaperConfig(key="x/z", ecfg=ecfg).batch_per_gpu == 2048  # no GPU count: the config's batch
    out = {"batch_per_gpu": 64, "steps_per_s": 2.0}
    speed._estimate(out, row, dry_run=False)
    # one GPU: 1000 paper steps x (2048 / 64 = 32 micro-steps) / 2 steps/s = 16000 s; eight: linear scaling
    assert out["est_hours_1gpu"] == pytest.approx(16000 / 3600, abs=0.01)
    assert out["est_hours_8gpu"] == pytest.approx(2000 / 3600, abs=0.01)
    speed._estimate(out, row, dry_run=True)
    assert out["est_hours_1gpu"] is None and out["est_hours_8gpu"] is None


def test_dry_run_two_configs_writes_every_column(tmp_path, monkeypatch):
    # about 5 s on 2 cores (two small trainers built and stepped); it took 33 s beside a full dry run
    from ganlab.core.config import read_yaml, select_scale
    from ganlab.core.repro import all_experiments

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # restored after the test (the dry run sets it)
    speed = _load("paper_speed")
    keys = ["diagan/figure2", "gold/figure3"]
    info = speed.main(["--dry-run", "--only", ",".join(keys), "--out-dir", str(tmp_path)])
    data = json.loads((tmp_path / "gpu_paper.json").read_text())
    assert data["dry_run"] is True and data["columns"] == speed.COLUMNS
    assert [r["config"] for r in data["rows"]] == keys  # one row each: AMP off only in a dry run
    exps = all_experiments()
    for r in data["rows"]:
        assert set(r) == set(speed.COLUMNS)
        assert r["amp"] == "no" and r["batch_per_gpu"] == 2 and r["data"] == "synthetic"
        assert r["steps_per_s"] > 0 and r["img_per_s"] == pytest.approx(r["steps_per_s"] * 2, rel=0.01)
        assert 0 <= r["loader_share"] <= 1 and r["peak_mem_mib"] > 0
        assert r["est_hours_1gpu"] is None  # a batch-2 CPU step estimates nothing
        run = select_scale(read_yaml(exps[r["config"]].config), "paper")["run"]
        assert r["backbone"] == run["model"]["backbone"] and r["method"] == run["method"]["name"]
        assert r["global_batch"] == run["train"]["batch_size"]
    assert data["rows"][0]["paper_steps"] == 25000  # diagan/figure2's train.steps at paper scale
    assert data["rows"][1]["paper_steps"] is None  # GOLD's active-learning protocol sets its own step count
    md = (tmp_path / "gpu_paper.md").read_text()
    assert "| " + " | ".join(speed.COLUMNS) + " |" in md and "DRY RUN" in md
    assert info["rows"] == data["rows"]
