"""Rehearsal modes: two processes under torchrun, a kill and resume compared with an uninterrupted rehearsal, and the
records of one entry per (config hash, mode) read next to those of the format before modes.

The two real rehearsals use Dia-GAN's single-mode Gaussian (two trainings of 24 steps, checkpoints every 6 steps;
about 20 s each on two shared cores)."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest
import torch
import yaml

from ganlab.core import repro
from ganlab.core.errors import GanlabError
from ganlab.core.rehearse_modes import compare_states, final_state, leftovers
from ganlab.core.rehearse_records import committed_records, config_hash, passed_modes, record_key, rehearsed

ROOT = Path(__file__).resolve().parents[3]
GAUSSIAN = "diagan/figure1e_gaussian"


def _cli(argv):
    parser = argparse.ArgumentParser()
    repro.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def _toy(tmp_path):
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(yaml.safe_dump({"train": {"steps": 1000}, "scales": {"smoke": {}, "paper": {}}}))
    return repro.Experiment("toy", "pkg", "a toy", cfg, lambda *a: [], scales=("smoke", "paper"))


def _record(experiment="pkg/toy", passed=True, **extra):
    return {"experiment": experiment, "passed": passed, "status": "pass" if passed else "fail", "wall_s": 3.0, **extra}


# ------------------------------------------------------------------------------------------------ records
def test_records_of_the_format_before_modes_are_one_process_records(tmp_path, monkeypatch, capsys):
    exp, cache = _toy(tmp_path), tmp_path / "cache"
    digest = config_hash(exp.config)
    cache.mkdir()
    (cache / "rehearsals.json").write_text(json.dumps({digest: _record()}))  # no mode: written before modes
    committed = tmp_path / "rehearsal.json"
    committed.write_text(json.dumps({"rehearsals": [{"config_hash": digest, **_record()}]}))
    assert rehearsed(exp.config, cache, committed) and passed_modes(exp.config, cache, committed) == ["1proc"]
    assert list(committed_records(committed)) == [digest] and committed_records(committed, "2proc") == {}
    assert passed_modes(exp.config, tmp_path / "none", committed) == ["1proc"]  # the committed row alone

    monkeypatch.setattr(repro, "all_experiments", lambda: {"pkg/toy": exp})
    _cli(["repro", "list", "--cache-dir", str(cache)])
    assert "(rehearsed)" in capsys.readouterr().out
    records = {digest: _record(), record_key(digest, "2proc"): _record(mode="2proc")}
    records[record_key(digest, "kill_resume")] = _record(passed=False, mode="kill_resume")
    (cache / "rehearsals.json").write_text(json.dumps(records))
    assert passed_modes(exp.config, cache, committed) == ["1proc", "2proc"]
    _cli(["repro", "list", "--cache-dir", str(cache)])
    assert "(rehearsed; 2proc passed too)" in capsys.readouterr().out
    records[digest]["passed"] = False  # a failed one-process rehearsal: not rehearsed, whatever else passed
    (cache / "rehearsals.json").write_text(json.dumps(records))
    assert not rehearsed(exp.config, cache, committed)
    _cli(["repro", "list", "--cache-dir", str(cache)])
    assert "(not rehearsed; 2proc passed too)" in capsys.readouterr().out


def test_make_table_keeps_old_rows_and_shows_one_column_per_mode():
    spec = importlib.util.spec_from_file_location("make_table", ROOT / "benchmarks/results/rehearsal/make_table.py")
    make_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_table)
    old = [{"config_hash": "a" * 16, **_record("p/x", when="2026-01-01")}]  # a committed row without a mode
    new = {
        "b" * 16: _record("p/y", mode="1proc", when="2026-02-01"),
        f"{'a' * 16}:2proc": _record("p/x", passed=False, mode="2proc", error="boom", when="2026-02-01"),
        f"{'a' * 16}:kill_resume": _record("p/x", mode="kill_resume", when="2026-02-01"),
    }
    table = make_table.merge(old, new)
    assert [(r["experiment"], r["mode"], r["config_hash"]) for r in table] == [
        ("p/x", "1proc", "a" * 16),
        ("p/x", "2proc", "a" * 16),
        ("p/x", "kill_resume", "a" * 16),
        ("p/y", "1proc", "b" * 16),
    ]
    lines = make_table.markdown(table, "here")
    row = next(x for x in lines if x.startswith("| p/x "))
    assert row.split(" | ")[1:7] == ["pass", "3", "fail", "3", "pass", "3"] and "2proc: boom" in row
    assert lines[-1] == "1 process: 2 of 2 passed; 2 processes: 0 of 1 passed; kill + resume: 1 of 1 passed."


def test_cli_refuses_mixed_mode_options(tmp_path):
    for argv in (["--kill-resume", "--nproc", "2"], ["--modes", "1proc,3proc"], ["--modes", "2proc", "--nproc", "2"]):
        with pytest.raises(GanlabError):
            _cli(["repro", "rehearse", GAUSSIAN, "--cache-dir", str(tmp_path), *argv])


# ------------------------------------------------------------------------------------------------ state compared
def _fake_run(root: Path, weight: float = 1.0, wall: float = 2.0, loss: float = 0.5) -> Path:
    ck = root / "runs" / "a_seed0" / "checkpoints"
    ck.mkdir(parents=True)
    early = {"step": 2, "models": {"G": {"w": torch.zeros(3)}}}
    torch.save(early, ck / "step_00000002.pt")
    final = {"step": 4, "models": {"G": {"w": torch.tensor([0.25, weight, 3.0])}, "D": {"v": torch.ones(2)}}}
    torch.save(final, ck / "step_00000004.pt")
    (root / "results.json").write_text(json.dumps([{"arm": "a", "fid": float("nan"), "wall_s": wall}]))
    lines = [{"step": 2, "g_loss": loss, "img_per_s": 100 * wall}, {"step": 4, "g_loss": 0.1, "img_per_s": 7.0}]
    (root / "runs" / "a_seed0" / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return root


def test_compare_states_names_a_weight_that_differs_and_ignores_wall_clock_fields(tmp_path):
    base = final_state(_fake_run(tmp_path / "base"))
    assert base["runs/a_seed0: step"] == 4 and "runs/a_seed0: models.D.v" in base
    assert compare_states(base, final_state(_fake_run(tmp_path / "clock", wall=9.0))) == []  # NaN equals NaN too
    nudged = torch.nextafter(torch.tensor(1.0), torch.tensor(2.0)).item()  # the next float: one bit apart
    assert compare_states(base, final_state(_fake_run(tmp_path / "bit", weight=nudged))) == ["runs/a_seed0: models.G.w"]
    assert compare_states(base, final_state(_fake_run(tmp_path / "loss", loss=0.6))) == ["runs/a_seed0/metrics.jsonl"]
    other = final_state(_fake_run(tmp_path / "more"))
    other["runs/b_seed0: step"] = 4
    assert compare_states(base, other) == ["runs/b_seed0: step (only in the second)"]


def test_leftovers_are_locks_temporary_and_failure_files(tmp_path):
    run = _fake_run(tmp_path / "run")
    assert leftovers(run) == []
    for name in ("runs/a_seed0/.lock", "runs/a_seed0/failed.json", "records/.x.json.abc.tmp", "worker_error_rank1.txt"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("")
    assert leftovers(run) == sorted(
        ["runs/a_seed0/.lock", "runs/a_seed0/failed.json", "records/.x.json.abc.tmp", "worker_error_rank1.txt"]
    )


# ------------------------------------------------------------------------------------------------ real rehearsals
@pytest.fixture(scope="module")
def gaussian():
    pytest.importorskip("ganlab.diagan")
    exp = repro.get_experiment(GAUSSIAN)
    return exp, config_hash(exp.config)


@pytest.mark.distributed
def test_two_process_rehearsal_passes_and_is_recorded_as_2proc(tmp_path, gaussian, capsys):
    exp, digest = gaussian
    assert _cli(["repro", "rehearse", GAUSSIAN, "--nproc", "2", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"pass    {GAUSSIAN} [2proc]")
    records = json.loads((tmp_path / "rehearsals.json").read_text())
    assert list(records) == [f"{digest}:2proc"]
    rec = records[f"{digest}:2proc"]
    assert rec["mode"] == "2proc" and rec["passed"] and rec["phases"]["steps_reached"] == 24
    run = tmp_path / "runs" / GAUSSIAN / f"{digest}-2proc"
    for ck in run.glob("runs/*/checkpoints/step_00000024.pt"):  # trained by two processes
        assert torch.load(ck, weights_only=False)["world_size"] == 2
    results = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert sorted(r["arm"] for r in results) == ["vanilla_rho0.9", "vanilla_rho0.99"]  # each pair's record once
    assert passed_modes(exp.config, tmp_path, tmp_path / "none.json") == ["2proc"]


def test_kill_resume_rehearsal_ends_as_the_uninterrupted_one(tmp_path, gaussian):
    from ganlab.core.rehearse_modes import rehearse_mode

    exp, digest = gaussian
    one = rehearse_mode(GAUSSIAN, exp, "1proc", cache_dir=tmp_path)
    killed = rehearse_mode(GAUSSIAN, exp, "kill_resume", cache_dir=tmp_path)
    assert one.passed and killed.passed, killed.error
    kill = killed.phases["kill"]
    assert kill["steps"] == 24 and 2 * kill["checkpoint"] >= 24 and kill["stopped_at"] == kill["checkpoint"] + 1
    assert "SIGTERM" in kill["failed_json"] and not kill["lock_left"] and kill["exit_status"] != 0
    assert killed.phases["compared_with"] == "the 1proc rehearsal" and killed.phases["differences"] == []
    assert passed_modes(exp.config, tmp_path, tmp_path / "none.json") == ["1proc", "kill_resume"]

    # the same comparison fails once one weight of the reference's final state is changed
    runs = tmp_path / "runs" / GAUSSIAN
    resumed = final_state(runs / f"{digest}-kill_resume")
    assert compare_states(final_state(runs / digest), resumed) == []
    ck = sorted((runs / digest / kill["training"] / "checkpoints").glob("step_*.pt"))[-1]
    state = torch.load(ck, weights_only=False)
    name, w = next(iter(state["models"]["G"].items()))
    w.view(-1)[0] += 1e-3
    torch.save(state, ck)
    assert compare_states(final_state(runs / digest), resumed) == [f"{kill['training']}: models.G.{name}"]


def test_a_record_written_by_both_processes_fails_the_two_process_check(tmp_path):
    from ganlab.core.rehearse_modes import _written_twice

    run = _fake_run(tmp_path / "run")
    (run / "metrics.jsonl").write_text('{"arm": "a"}\n{"arm": "b"}\n')
    assert _written_twice(run) == []
    (run / "metrics.jsonl").write_text('{"arm": "a"}\n{"arm": "b"}\n{"arm": "a"}\n')
    assert _written_twice(run) == ["metrics.jsonl (1 records written twice)"]
