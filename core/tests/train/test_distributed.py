"""Two CPU processes (gloo) train a smoke config, checkpoint, and resume to the same parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.distributed
def test_two_process_run_checkpoints_and_resumes(tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run"]  # this interpreter's torch, wherever its scripts lie
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [
        *torchrun,
        "--nproc_per_node",
        "2",
        "--master_port",
        str(29500 + os.getpid() % 1000),
        str(Path(__file__).with_name("ddp_worker.py")),
        str(tmp_path),
        "toy_mlp_gaussians25",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rep in reports:
        assert rep["world_size"] == 2 and rep["saved_world_size"] == 2 and rep["saved_rng_streams"] == 2
        assert rep["resumed_from"] == 2 and rep["step"] == 4
        assert rep["d_batch"] == 8  # global batch 16 split over 2 processes
        assert rep["identical"], rep
        assert rep["positions"] == [4 * 16, 4 * 16]  # one global index stream, consumed in step
