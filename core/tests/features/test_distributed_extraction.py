"""Two CPU processes (gloo) share one feature extraction and both get every row."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.distributed
def test_two_process_extraction_matches_single_process(tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run"]  # this interpreter's torch, wherever its scripts lie
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    port = str(29600 + os.getpid() % 1000)
    worker = str(Path(__file__).with_name("dist_worker.py"))
    cmd = [*torchrun, "--nproc_per_node", "2", "--master_port", port, worker, str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rep in reports:
        assert rep["same_as_single"] and rep["fake_rows_ok"], rep
    assert reports[0]["calls"] == [3, 3] and reports[1]["calls"] == [3, 1]  # 10 images in batches of 3
