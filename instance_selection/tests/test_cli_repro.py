"""The CLI (select, show, bad input) and every reproduction at smoke scale."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from ganlab.core.cli import main
from ganlab.core.repro import get_experiment, run_experiment
from ganlab.instance_selection.repro import EXPERIMENTS
from ganlab.instance_selection.selection import Selection


def test_select_command_writes_index_counts_and_sheet(tmp_path, capsys):
    out = tmp_path / "sel"
    rc = main(
        [
            "instance-selection",
            "select",
            "digits",
            "--resolution",
            "32",
            "--embedding",
            "random:lenet",
            "--scorer",
            "ppca",
            "--ppca-rule",
            "official",
            "--retention-ratio",
            "40",
            "--out-dir",
            str(out),
            "--sheet-classes",
            "0",
            "7",
            "--sheet-n",
            "4",
        ]
    )
    assert rc == 0
    sel = Selection.load(out / "indices.npz")
    assert sel.settings["component_rule"] == "official" and sel.settings["scorer"] == "ppca"
    assert (out / "likelihood_sheet.png").stat().st_size > 1000
    rows = (out / "kept_per_class.csv").read_text().strip().splitlines()
    assert rows[0].startswith("class,kept,total") and len(rows) == 11
    assert "kept" in capsys.readouterr().out
    assert main(["instance-selection", "show", str(out / "indices.npz")]) == 0


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--retention-ratio", "0"], "retention_ratio"),
        (["--retention-ratio", "150"], "retention_ratio"),
        (["--scorer", "gausian"], "did you mean 'gaussian'"),
        (["--embedding", "nope"], "unknown feature extractor"),
    ],
)
def test_select_command_bad_input(tmp_path, capsys, args, msg):
    rc = main(["instance-selection", "select", "digits", "--out-dir", str(tmp_path), *args])
    assert rc == 2
    assert msg in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_runs_at_smoke_scale(tmp_path, name):
    exp = get_experiment(f"instance_selection/{name}")
    run_dir, records = run_experiment(exp, "smoke", [], tmp_path)
    assert records and (run_dir.path / "summary.md").is_file()
    saved = json.loads((run_dir.path / "results.json").read_text())
    assert len(saved) == len(records)
    key = "precision" if name == "figure12" else "fid"
    rows = [r for r in records if key in r]
    assert rows and all(np.isfinite(r[key]) for r in rows)
    if name in ("table1", "table3", "mini"):
        kept = {r["arm"]: r["kept"] for r in rows}
        assert max(kept.values()) == 1797 and min(kept.values()) < 1797
    if name == "mini":
        assert any(str(r.get("arm", "")).startswith("spearman") for r in records)
    if name in ("table1", "table2", "table3", "figure5", "mini"):
        # issue 11: IS (10 splits) in every result; best (periodic FID) and last generators both reported
        assert all(np.isfinite(r["is"]) and r["is"] >= 1.0 for r in rows)
        per_seed = list(csv.DictReader(io.StringIO((run_dir.path / "per_seed.csv").read_text())))
        assert all(int(r["eval_is_splits"]) == 10 for r in per_seed)
        # issue 20: every record, per seed and aggregated, carries core's protocol columns
        assert all(r["eval_network"] == "random:lenet" and r["eval_resize"] == "none" for r in [*per_seed, *rows])
        if name != "table2":
            assert {r["checkpoint"] for r in per_seed} == {"best", "last"}
