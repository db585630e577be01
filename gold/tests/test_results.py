"""The mini tables of gold/README.md against the committed results under gold/results/ (numbers equal to the
printed precision): mean ± std (ddof = 1) over seeds, recomputed here from the per-seed records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ganlab.core.results import markdown_rows, markdown_section

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
RESULTS = ROOT / "results"
NUM = r"[-−+]?\d+(?:\.\d+)?"


def _section(marker: str) -> str:
    return markdown_section(README, marker)


_rows = markdown_rows  # first cell -> the other cells; the first row of a name wins


def _nums(text: str) -> list[float]:
    return [float(x.replace("−", "-")) for x in re.findall(NUM, text)]


def _fmt(x: float, nd: int) -> str:
    s = f"{x:.{nd}f}"
    return "0." + "0" * nd if s == "-0." + "0" * nd else s


def _same(printed: list[float], values: list[float], nd: int) -> None:
    assert [_fmt(p, nd) for p in printed] == [_fmt(v, nd) for v in values]


def _records(pattern: str) -> list[dict]:
    files = sorted(RESULTS.glob(pattern))
    if not files:
        pytest.skip(f"no committed results match {pattern}")
    recs = [r for f in files for r in json.loads(f.read_text())]
    return [r for r in recs if isinstance(r.get("seed"), int)]  # per-seed rows, not the aggregates


def _mean_std(v) -> list[float]:
    v = np.asarray(v, dtype=np.float64)
    return [v.mean(), v.std(ddof=1)]


def test_readme_figure1_mini_matches_results():
    rows = _rows(_section("### (b)"))
    recs = _records("figure1_mini/seed*/results.json")
    for variant, label in (("baseline", "baseline"), ("gold", "GOLD re-weighting")):
        caps = [100 * r["fitting_capacity"] for r in sorted(recs, key=lambda r: r["seed"]) if r["variant"] == variant]
        assert len(caps) == 3
        _same(_nums(rows[label][0]), [*_mean_std(caps), *caps], 1)
        # the mean GOLD of generated samples in the last logged batch of each run, and its two terms
        last = []
        for f in sorted(RESULTS.glob(f"figure1_mini/seed*/runs/{variant}_seed*/metrics.jsonl")):
            logs = [json.loads(x) for x in f.read_text().splitlines() if '"gold_mean"' in x]
            last.append(max(logs, key=lambda r: r["step"]))
        g = [r["gold_mean"] for r in last]
        m, c = np.mean([r["gold_marginal"] for r in last]), np.mean([r["gold_conditional"] for r in last])
        _same(_nums(rows[label][1]), [*_mean_std(g), m, c], 2)


def test_readme_figure3_mini_matches_results():
    sec = _section("### (a)")
    rows = _rows(sec)
    recs = _records("figure3_mini/seeds_*/results.json")
    sizes = [int(x) for x in rows["labels"]]
    per_trial = {}
    for variant, label in (("gold_balanced", "GOLD (eq. 9)"), ("random", "random")):
        printed = [_nums(cell) for cell in rows[label]]
        for n, cell in zip(sizes, printed):
            caps = [100 * r["cap_test"] for r in recs if r["variant"] == variant and r["n_labelled"] == n]
            assert len(caps) == 6
            _same(cell, _mean_std(caps), 1)
        per_trial[variant] = {
            r["seed"]: 100 * r["cap_test"] for r in recs if r["variant"] == variant and r["n_labelled"] == sizes[-1]
        }
    line = next(x for x in sec.splitlines() if x.startswith(f"Per trial at {sizes[-1]} labels"))
    pairs = _nums(line.split(":", 1)[1])
    want = [v for s in sorted(per_trial["random"]) for v in (per_trial["gold_balanced"][s], per_trial["random"][s])]
    _same(pairs, want, 1)
    wins = sum(per_trial["gold_balanced"][s] > per_trial["random"][s] for s in per_trial["random"])
    assert f"GOLD ends higher in {wins} of 6 trials" in sec


def test_readme_figure3_clusters_holding_a_label():
    from ganlab.core.data import get_dataset

    rows = _rows(_section("### (a)"))
    label = next(k for k in rows if k.startswith("clusters"))
    modes = get_dataset("clusters6").modes
    runs = sorted(RESULTS.glob("figure3_mini/seeds_*/runs/*/active.json"))
    if not runs:
        pytest.skip("no committed figure3 results")
    counts: dict[str, list[list[int]]] = {"gold_balanced": [], "random": []}
    for f in runs:
        with np.load(f.parent / "round_00_split.npz") as s:
            labelled = set(s["labelled"].tolist())
        per_round = []
        for r in json.loads(f.read_text())["rounds"]:
            per_round.append(len(set(modes[sorted(labelled)].tolist())))
            labelled |= set(r.get("queried") or [])
        counts[f.parent.name.rsplit("_seed", 1)[0]].append(per_round)
    printed = [_nums(cell) for cell in rows[label]]
    want = [[np.mean(counts["gold_balanced"], 0)[i], np.mean(counts["random"], 0)[i]] for i in range(len(printed))]
    for p, w in zip(printed, want):
        _same(p, w, 1)


def test_readme_table3_mini_matches_results():
    rows = _rows(_section("### (c)"))
    recs = sorted(_records("table3_mnist_mini/seed*/results.json"), key=lambda r: r["seed"])
    for variant, label in (("random", "no rejection"), ("gold_p0.1", "GOLD rejection, p = 0.1")):
        rs = [r for r in recs if r["variant"] == variant]
        assert len(rs) == 3 and all(r["fid_extractor"] == "lenet_indomain" for r in rs)
        caps = [100 * r["fitting_capacity"] for r in rs]
        _same(_nums(rows[label][0]), [*_mean_std(caps), *caps], 1)
        _same(_nums(rows[label][1]), _mean_std([r["fid"] for r in rs]), 1)
        _same(_nums(rows[label][2]), [np.mean([r["acceptance_rate"] for r in rs])], 3)
    ratios = [r["stats_ratio"] for r in recs if r["variant"] == "gold_p0.1"]
    assert all(_fmt(v, 3) in _section("### (c)") for v in ratios)  # the sigma ratios quoted in the text
