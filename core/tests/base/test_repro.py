"""Reproduction runner: scale selection, pending scales, result tables, CLI wiring."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from ganlab.core import repro
from ganlab.core.config import load_config
from ganlab.core.errors import GanlabError
from ganlab.core.repro import Experiment, run_experiment


def _toy_experiment(tmp_path):
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(yaml.safe_dump({"n": 3, "scales": {"smoke": {"n": 1}, "mini": {"n": 2}, "paper": {"n": 100}}}))

    from dataclasses import dataclass

    @dataclass
    class Toy:
        n: int = 0

    def run(path, scale, overrides, run_dir):
        c = load_config(Toy, path, overrides, scale)
        return [{"scale": scale, "n": c.n, "square": c.n**2}]

    return Experiment("toy", "paper_x", "squares", cfg, run, status={"paper": "pending: needs GPUs"})


def test_run_experiment_writes_tables_per_scale(tmp_path):
    exp = _toy_experiment(tmp_path)
    run_dir, records = run_experiment(exp, "mini", ["n=4"], tmp_path / "out")
    assert records == [{"scale": "mini", "n": 4, "square": 16}]
    assert run_dir.path == tmp_path / "out" / "paper_x" / "toy" / "mini"
    assert json.loads((run_dir.path / "results.json").read_text()) == records
    assert "| mini | 4 | 16 |" in (run_dir.path / "summary.md").read_text()
    with pytest.raises(GanlabError, match="pending: needs GPUs"):
        run_experiment(exp, "paper", [], tmp_path / "out")


def test_repro_cli_runs_named_experiment(tmp_path, monkeypatch, capsys):
    exp = _toy_experiment(tmp_path)
    monkeypatch.setattr(repro, "all_experiments", lambda: {"pkg/toy": exp})
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    repro.register(sub)
    args = parser.parse_args(["repro", "run", "pkg/toy", "--scale", "smoke", "--out-dir", str(tmp_path / "o")])
    assert args.func(args) == 0
    assert "| smoke | 1 | 1 |" in capsys.readouterr().out
    args = parser.parse_args(["repro", "run", "pkg/tyo"])
    with pytest.raises(GanlabError, match="did you mean 'pkg/toy'"):
        args.func(args)


def test_experiments_registry_from_rows(tmp_path):
    def run(path, scale, overrides, run_dir):
        return []

    exps = repro.experiments(
        "paper_x",
        tmp_path,
        run,
        [("a", "first"), ("b", "second", {"status": {"paper": "pending: data"}, "scales": ("smoke", "paper")})],
        protocol=lambda config: lambda scale: f"{config.name} at {scale}",
    )
    assert list(exps) == ["a", "b"]
    assert exps["a"].config == tmp_path / "a.yaml" and exps["a"].status == {} and exps["a"].paper == "paper_x"
    assert exps["b"].status == {"paper": "pending: data"} and exps["b"].description == "second"
    assert exps["b"].scales == ("smoke", "paper") and exps["a"].scales == repro.SCALES
    assert exps["b"].protocol("mini") == "b.yaml at mini"
    assert repro.experiments("p", tmp_path, run, [("c", "third")])["c"].protocol is None
