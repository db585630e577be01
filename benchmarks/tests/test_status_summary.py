"""`ganlab bench status` counts the cells of the run it looks at; a resumed suite's summary states its total and its
resumed wall time. On hand-made run folders: nothing is trained."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from ganlab.benchmarks.report import report
from ganlab.benchmarks.sessions import SuiteClock, read_sessions
from ganlab.benchmarks.suite import load_suite
from ganlab.core.cli import main
from ganlab.core.config import to_dict

TINY = Path(__file__).with_name("tiny.yaml")


def _cell(root: Path, setting: str, method: str, seed: int, status: str, **extra) -> None:
    d = root / setting / method / f"seed{seed}"
    d.mkdir(parents=True)
    rec = {"setting": setting, "method": method, "seed": seed, "baseline": "vanilla", "status": status, **extra}
    (d / "cell.json").write_text(json.dumps(rec))


def _fake_run(root: Path, methods: list[str], seeds: int):
    """What `ganlab bench run tiny --methods ... --seeds N` leaves before any cell finished: its suite.yaml."""
    suite = load_suite(TINY, methods=methods, seeds=seeds)
    root.mkdir(parents=True, exist_ok=True)
    (root / "suite.yaml").write_text(yaml.safe_dump(to_dict(suite), sort_keys=False))
    return suite


def _status(capsys, *args: str) -> list[str]:
    assert main(["bench", "status", str(TINY), *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_status_counts_only_the_methods_of_the_run(tmp_path, capsys):
    root = tmp_path / "run"
    suite = _fake_run(root, ["topk"], seeds=1)
    assert list(suite.methods) == ["vanilla", "topk"]  # the baseline joins the chosen method
    _cell(root, "digits", "topk", 0, "done", metrics={"fid": 10.0})
    _cell(root, "gauss", "vanilla", 0, "failed", message="TrainingDivergedError: d_loss is nan")
    out = _status(capsys, "--out-dir", str(root))
    cells = sorted(line.split()[1] for line in out[1:-1])
    # 2 settings x 2 methods x 1 seed: not the 15 methods x 2 seeds of the whole suite
    assert cells == ["digits/topk/seed0", "digits/vanilla/seed0", "gauss/topk/seed0", "gauss/vanilla/seed0"]
    assert out[-1] == "1 done, 1 failed, 2 pending"
    assert "vanilla, topk" in out[0]
    # --methods still chooses from the shipped suite (here: vanilla alone, both seeds)
    out = _status(capsys, "--out-dir", str(root), "--methods", "vanilla")
    assert out[-1] == "1 failed, 3 pending" and len(out) == 5


def test_status_of_a_folder_without_a_run_counts_the_whole_suite(tmp_path, capsys):
    out = _status(capsys, "--out-dir", str(tmp_path / "none"), "--seeds", "1")
    full = load_suite(TINY, seeds=1)
    assert out[-1] == f"{len(full.cells())} pending"


def test_clock_adds_one_session_per_run_and_keeps_the_earlier_ones(tmp_path):
    first = SuiteClock(tmp_path, t0=time.perf_counter() - 300)
    first.tick(jobs=1)
    first.tick(jobs=1)  # a killed session keeps what it had written at its last finished job
    second = SuiteClock(tmp_path, t0=time.perf_counter() - 60)
    second.tick(jobs=1)
    sessions = read_sessions(tmp_path)
    assert [s["jobs"] for s in sessions] == [2, 1]
    assert 300 <= sessions[0]["wall_s"] < 330 and 60 <= sessions[1]["wall_s"] < 90


def test_summary_of_a_resumed_suite_reports_total_and_resumed_wall_time(tmp_path):
    suite = _fake_run(tmp_path, ["topk"], seeds=1)
    for setting in ("digits", "gauss"):
        for method in suite.methods:
            _cell(tmp_path, setting, method, 0, "done", metrics={"fid": 1.0})
    sessions = [{"started": "a", "wall_s": 480.0, "jobs": 3}, {"started": "b", "wall_s": 150.0, "jobs": 1},
                {"started": "c", "wall_s": 90.0, "jobs": 0}]  # fmt: skip
    (tmp_path / "wall_time.json").write_text(json.dumps({"sessions": sessions}))
    text = report(tmp_path, suite, plots=False, wall_s=90.0).read_text()
    assert "Wall time: 12.0 min in total, 4.0 min of it resumed (3 sessions: 8.0 + 2.5 + 1.5 min)." in text
    assert "Wall time of this run" not in text
    # a suite run once states that one time
    (tmp_path / "wall_time.json").write_text(json.dumps({"sessions": sessions[:1]}))
    text = report(tmp_path, suite, plots=False).read_text()
    assert "Wall time of this run: 8.0 min." in text and "resumed" not in text
