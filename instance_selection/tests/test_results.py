"""The MNIST mini of instance_selection/README.md against the committed results under results/mini/ (numbers equal
at the printed precision): mean ± std (ddof = 1) over seeds recomputed from every run (``mini_per_seed.csv``), the
same as the aggregate ``mini.json``, and the scorers' Spearman correlations."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ganlab.core.results import markdown_rows, markdown_section

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
RESULTS_README = (ROOT / "results" / "README.md").read_text()
MINI = ROOT / "results" / "mini"
NUM = r"[-−+]?\d+(?:\.\d+)?"
METRICS = ("fid", "is", "precision", "recall", "density", "coverage")  # the README table's column order


def _section() -> str:
    return markdown_section(README, "Measured (mean ± std over seeds 0, 1, 2", end="\n## ")


def _rows(section: str) -> dict[str, list[str]]:
    return markdown_rows(section, keep="last")


def _same(text: str, values: list[float]) -> None:
    printed = re.findall(NUM, text)
    assert len(printed) == len(values), (text, values)
    for p, v in zip(printed, values):
        assert p == f"{v:.{len(p.partition('.')[2])}f}", (text, p, v)


def _per_seed() -> list[dict]:
    path = MINI / "mini_per_seed.csv"
    if not path.is_file():
        pytest.skip("no committed mini_per_seed.csv")
    with path.open() as f:
        return list(csv.DictReader(f))


def _aggregate() -> list[dict]:
    return json.loads((MINI / "mini.json").read_text())


def test_readme_mini_table_matches_the_per_seed_runs_and_the_aggregate():
    runs = _per_seed()
    agg = {(r["arm"], r.get("checkpoint")): r for r in _aggregate()}
    rows = _rows(_section())
    assert list(rows)[1:] == ["full", "uniform50", "gaussian50", "ppca50", "knn50"]
    for arm in list(rows)[1:]:
        kept, *cells = rows[arm]
        last = [r for r in runs if r["arm"] == arm and r["checkpoint"] == "last"]
        assert sorted(int(r["seed"]) for r in last) == [0, 1, 2] and {r["kept"] for r in last} == {kept}
        for cell, m in zip(cells, METRICS):
            v = np.array([float(r[m]) for r in last])
            _same(cell, [v.mean(), v.std(ddof=1)])
            assert agg[(arm, "last")][m] == pytest.approx(v.mean()), (arm, m)  # the committed aggregate agrees
            assert agg[(arm, "last")][f"{m}_std"] == pytest.approx(v.std(ddof=1)), (arm, m)


def test_readme_best_checkpoint_was_the_last_in_every_run():
    assert "the best checkpoint was the last one in every run" in " ".join(_section().split())
    runs = _per_seed()
    last = {(r["arm"], r["seed"]): r for r in runs if r["checkpoint"] == "last"}
    best = {(r["arm"], r["seed"]): r for r in runs if r["checkpoint"] == "best"}
    assert set(last) == set(best) and len(last) == 15
    assert all(best[k]["step"] == last[k]["step"] and best[k]["fid"] == last[k]["fid"] for k in last)


def test_readme_spearman_and_text_numbers_match_results():
    text = " ".join(_section().split())
    rho = {
        r["arm"].removeprefix("spearman "): r["spearman_within_class"] for r in _aggregate() if "spearman" in r["arm"]
    }
    assert len(rho) == 3
    for pair, value in rho.items():
        m = re.search(rf"{pair} = ({NUM})", text)
        assert m, pair
        _same(m.group(1), [value])
    means = {r["arm"]: r for r in _aggregate() if r.get("checkpoint") == "last"}
    g, f = means["gaussian50"], means["full"]
    _same(re.search(rf"lowers FID from ({NUM}) to ({NUM})", text).group(0), [f["fid"], g["fid"]])
    _same(re.search(rf"raises IS from ({NUM}) to ({NUM})", text).group(0), [f["is"], g["is"]])
    _same(re.search(rf"recall falls from ({NUM}) to ({NUM})", text).group(0), [f["recall"], g["recall"]])
    _same(re.search(rf"coverage does not fall \(({NUM}) → ({NUM})\)", text).group(0), [f["coverage"], g["coverage"]])


def test_results_readme_describes_the_committed_files():
    assert "mini_per_seed.csv" in RESULTS_README and "mini.json" in RESULTS_README
    assert {r["checkpoint"] for r in _per_seed()} == {"last", "best"}
