"""The process group is set up the same way by whoever asks first (a device or ``is_main`` check before any
trainer), and a run directory has one writer: under ``torchrun --nproc_per_node 2`` on the CPU, a plain
``PartialState()`` built first used to leave both ranks believing they were rank 0 of 1, so both wrote every record
and took the run's lock (instance selection's rehearsal failed on its own lock; Dia-GAN's wrote records twice)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from ganlab.core.processes import process_state
    from ganlab.core.results import RunDir

    state = process_state()  # first, as a harness asking for its device does
    from accelerate import Accelerator
    from ganlab.core.processes import accelerator_cpu_flag
    acc = Accelerator(cpu=accelerator_cpu_flag())
    out = Path(sys.argv[1])
    RunDir(out / "run").log_metrics({"rank_says": state.process_index})
    RunDir(out / "run").log_event({"event": "x"})
    RunDir(out / "run").write_results([{"a": 1}])
    report = {"index": state.process_index, "n": state.num_processes, "main": state.is_main_process,
              "acc_index": acc.process_index, "acc_n": acc.num_processes}
    (out / f"rank{os.environ['RANK']}.json").write_text(json.dumps(report))
    """
)


@pytest.mark.distributed
def test_two_ranks_see_two_processes_and_write_each_record_once(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([*cmd, str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["index"] for r in reports] == [0, 1] and all(r["n"] == 2 and r["acc_n"] == 2 for r in reports)
    assert [r["main"] for r in reports] == [True, False] and [r["acc_index"] for r in reports] == [0, 1]
    run = tmp_path / "run"
    assert [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()] == [{"rank_says": 0}]
    assert len((run / "events.jsonl").read_text().splitlines()) == 1
    assert json.loads((run / "results.json").read_text()) == [{"a": 1}]
