"""Run directories (atomic files, JSONL, result tables) and registries."""

from __future__ import annotations

import csv
import json
import os

import pytest

from ganlab.core.errors import RegistryError
from ganlab.core.registry import Registry
from ganlab.core.results import RunDir, atomic_write_text, records_to_markdown


def test_run_dir_layout_and_result_tables(tmp_path):
    run = RunDir.create(tmp_path, "exp")
    run.log_metrics({"step": 1, "metric": "fid", "value": 12.5})
    run.log_metrics({"step": 2, "metric": "fid", "value": float("nan")})
    assert [r["step"] for r in run.read_metrics()] == [1, 2]
    assert run.read_metrics()[1]["value"] == "nan"  # JSON has no NaN: written as a string, file stays valid
    records = [{"method": "vanilla", "fid": 10.0}, {"method": "gaussian", "fid": 8.25, "recall": 0.5}]
    run.write_results(records, title="t")
    assert json.loads((run.path / "results.json").read_text()) == records
    rows = list(csv.DictReader((run.path / "results.csv").open()))
    assert rows[1] == {"method": "gaussian", "fid": "8.25", "recall": "0.5"} and rows[0]["recall"] == ""
    md = (run.path / "summary.md").read_text().splitlines()
    assert md[0] == "# t" and md[2] == "| method | fid | recall |" and md[5] == "| gaussian | 8.25 | 0.5 |"
    assert not run.samples.exists()  # folders appear when something is written into them, never empty


def test_run_dir_is_created_by_the_first_write_only(tmp_path):
    run = RunDir(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()
    run.log_event({"event": "x"})
    assert sorted(p.name for p in run.path.iterdir()) == ["events.jsonl"]
    assert run.read_events() == [{"event": "x"}] and run.read_metrics() == []


def test_atomic_write_leaves_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary left behind


def test_markdown_of_nothing():
    assert "(no results)" in records_to_markdown([])


def test_registry_errors_list_names_and_closest():
    reg: Registry = Registry("loss")
    reg.register("hinge")(object)
    reg.register("ns")(int)
    assert reg.get("ns") is int and list(reg) == ["hinge", "ns"] and "hinge" in reg
    with pytest.raises(RegistryError) as err:
        reg.get("hinj")
    assert str(err.value) == "unknown loss 'hinj'; choose one of: hinge, ns (did you mean 'hinge'?)"
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("ns")(float)
