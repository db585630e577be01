"""Kill and resume (issue 21, item 5): a training run in a subprocess is killed between two schedule points, resumed,
and must end exactly where an uninterrupted run ends (final weights bit-equal, metrics.jsonl byte-equal), leaving no
lock, temporary or failure file in its run directory.

Dia-GAN (phase switch after step 3, 8 steps) is paused after step 5 and GOLD (re-weighting from step 10, 20 steps)
after step 13, between two checkpoints (every 2 steps), and stopped with SIGTERM (the run stops as on Ctrl-C:
failed.json written, lock released) or SIGKILL (nothing runs: the .lock file stays, and must not block the resume).
The 2-process variant sends SIGTERM to torchrun (which passes it on) or SIGKILL to torchrun and both workers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

WORKER = Path(__file__).with_name("kill_resume_worker.py")
PAUSE = {"diagan": 5, "gold": 13, "stylegan2": 5}


def _command(world: int) -> list[str]:
    if world == 1:
        return [sys.executable, str(WORKER)]
    torchrun = [sys.executable, "-m", "torch.distributed.run"]  # this interpreter's torch, wherever its scripts lie
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return [*torchrun, "--nproc_per_node", "2", "--master_port", str(port), str(WORKER)]


def _launch(world: int, *args: object) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [*_command(world), *map(str, args)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _finish(proc: subprocess.Popen, timeout: int = 300) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()[-4000:]


def _checkpoints(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").glob("step_*.pt"))


def _final_state(run: Path) -> dict:
    return torch.load(run / "checkpoints" / _checkpoints(run)[-1], weights_only=False)


def _leftovers(run: Path) -> list[str]:
    names = (".lock", "failed.json")
    return [str(p.relative_to(run)) for p in run.rglob("*") if p.name.endswith(".tmp") or p.name in names]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """One uninterrupted run per (method, processes), made when first asked for."""
    root, made = tmp_path_factory.mktemp("uninterrupted"), {}

    def get(method: str, world: int) -> Path:
        if (method, world) not in made:
            run = root / f"{method}_{world}" / "run"
            _finish(_launch(world, run, method, "fresh"))
            made[method, world] = run
        return made[method, world]

    return get


def _kill_and_resume(tmp_path: Path, method: str, sig: signal.Signals, world: int, uninterrupted) -> None:
    run, marker, pause = tmp_path / "run", tmp_path / "paused", PAUSE[method]
    proc = _launch(world, run, method, "fresh", pause, marker)
    markers = [Path(f"{marker}.{r}") for r in range(world)]
    deadline = time.monotonic() + 300
    while not all(m.exists() for m in markers):
        if proc.poll() is not None:
            pytest.fail(f"the run ended before step {pause}: " + proc.stderr.read().decode()[-4000:])
        assert time.monotonic() < deadline, "the run never reached the pause"
        time.sleep(0.2)
    time.sleep(0.2)  # the marker's writer is asleep by now
    if sig == signal.SIGKILL:  # torchrun runs its workers in their own sessions: each one is killed itself
        for m in markers:
            os.kill(int(m.read_text()), sig)
    os.killpg(proc.pid, sig)  # the process, or torchrun (which passes a SIGTERM on to its workers)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert _checkpoints(run)[-1] == f"step_{pause // 2 * 2:08d}.pt"  # the resume goes back to the step before
    if sig == signal.SIGTERM:  # stopped as on Ctrl-C: the reason is written and the lock released
        assert not (run / ".lock").exists()
        failed = json.loads((run / "failed.json").read_text())
        assert failed["step"] == pause and "SIGTERM" in failed["reason"]
    else:  # nothing ran: the lock file stays (the OS dropped the lock itself) and must not block the resume
        assert (run / ".lock").exists()
    _finish(_launch(world, run, method, "resume"))

    full = uninterrupted(method, world)
    assert (run / "metrics.jsonl").read_bytes() == (full / "metrics.jsonl").read_bytes()
    a, b = _final_state(full), _final_state(run)
    for name in a["models"]:
        for key, value in a["models"][name].items():
            assert torch.equal(value, b["models"][name][key]), (name, key)
    assert _leftovers(run) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_diagan_killed_after_the_phase_switch_resumes_to_the_same_end(sig, tmp_path, uninterrupted):
    _kill_and_resume(tmp_path, "diagan", sig, 1, uninterrupted)


def test_stylegan2_killed_between_lazy_regularisation_steps_resumes_bit_identically(tmp_path, uninterrupted):
    """The 32-px StyleGAN2 with its recipe on the bundled 5k MNIST, SIGKILLed after step 5 (R1 / path length ran
    at step 4, next at 6): the resume from step 4 ends with the uninterrupted run's weights and metrics."""
    _kill_and_resume(tmp_path, "stylegan2", signal.SIGKILL, 1, uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_gold_killed_after_reweighting_starts_resumes_to_the_same_end(sig, tmp_path, uninterrupted):
    _kill_and_resume(tmp_path, "gold", sig, 1, uninterrupted)


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_two_process_diagan_killed_and_resumed_ends_as_an_uninterrupted_run(sig, tmp_path, uninterrupted):
    _kill_and_resume(tmp_path, "diagan", sig, 2, uninterrupted)
