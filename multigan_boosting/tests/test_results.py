"""The mini tables of multigan_boosting/README.md against the committed results under results/mini/ (numbers equal
at the printed precision): mean ± std (ddof = 1) over the seeds, recomputed here from the per-seed records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
RESULTS_README = (ROOT / "results" / "README.md").read_text()
MINI = ROOT / "results" / "mini"
PM = r"(\d+(?:\.\d+)?) ± (\d+(?:\.\d+)?)"


def _section(marker: str) -> str:
    start = README.index(marker)
    ends = [e for e in (README.find("\n**(", start + 1), README.find("\n## ", start + 1)) if e > 0]
    return README[start : min(ends, default=len(README))]


def _rows(section: str) -> list[list[str]]:
    """The rows of the first markdown table of a section, cells without bold marks, the header row left out."""
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            cells = line.replace("\\|", "\0").strip().strip("|").split("|")  # \| is a pipe inside a cell
            rows.append([c.strip().replace("**", "").replace("\0", "|") for c in cells])
    return rows[1:]


def _per_seed(name: str) -> list[dict]:
    path = MINI / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"no committed results {path.name}")
    return [r for r in json.loads(path.read_text()) if isinstance(r.get("seed"), int)]


def _printed(cell: str) -> list[str]:
    """``mean ± std`` as printed; ``—`` for an absent value."""
    m = re.fullmatch(PM, cell)
    return ["—"] if cell == "—" else [m.group(1), m.group(2)] if m else pytest.fail(f"not mean ± std: {cell!r}")


def _expected(values: list[float], printed: list[str], scale: float = 100.0) -> list[str]:
    """The mean and std (ddof = 1) of ``values`` x ``scale``, at the printed number of decimals."""
    v = np.asarray(values, dtype=np.float64)
    nd = [len(p.partition(".")[2]) for p in printed]
    return [f"{scale * v.mean():.{nd[0]}f}", f"{scale * v.std(ddof=1):.{nd[1]}f}"]


ACC = ("best_test_accuracy", "val_selected_test_accuracy", "final_test_accuracy", "acceptance_rate")


def _check_accuracy_cells(cells: list[str], recs: list[dict], where: str) -> None:
    assert len(recs) == 3, where
    for cell, key in zip(cells, ACC):
        printed = _printed(cell)
        if printed == ["—"]:
            # no filter: every sample is accepted (rate 1), or the real data (no rate)
            assert all(r.get(key, 1.0) == 1.0 for r in recs), f"{where}: {key} measured but printed —"
            continue
        assert printed == _expected([r[key] for r in recs], printed), f"{where}: {key}"


def test_readme_table1_mini_matches_results():
    rows = _rows(_section("**(a) Table 1 at mini**"))
    assert [r[0] for r in rows] == ["baseline", *"BCDEFGIJKLMN"]
    for column, _source, _report, *cells in rows:
        _check_accuracy_cells(cells, _per_seed(f"table1_{column}"), f"column {column}")


def test_readme_table3_mini_matches_results():
    recs = _per_seed("table3")
    rows = _rows(_section("**(b) Ensembles"))
    assert len(rows) == 9
    for scheme, n, weights, _report, *cells in rows:
        want = (
            "baseline" if scheme == "independent" else scheme,
            int(n),
            None if weights in ("—", "uniform") else [0.75, 0.25],
        )
        mine = [r for r in recs if (r["scheme"], r["n_gans"], r["weights"]) == want]
        _check_accuracy_cells(cells, mine, f"{scheme} |G| = {n} {weights}")


def test_readme_mini_c_matches_results():
    recs = _per_seed("mini_c")
    names = {
        "real (train vs test)": "real (train vs test)",
        "GAN 0 (the base GAN)": "GAN 0 (base)",
        "GAN 1, uniform data (new seed)": "GAN 1 unweighted",
        "GAN 1, Algorithm 1 B": "GAN 1 B",
        "GAN 1, Algorithm 1 C": "GAN 1 C",
        "|G| = 2, uniform": "|G|=2 unweighted",
        "|G| = 2, B": "|G|=2 B",
        "|G| = 2, C": "|G|=2 C",
    }
    rows = _rows(_section("**(c) Algorithm 1"))
    assert [r[0] for r in rows] == list(names)
    for label, fid, msssim in rows:
        mine = [r for r in recs if r["source"] == names[label]]
        assert len(mine) == 3
        assert _printed(fid) == _expected([r["fid"] for r in mine], _printed(fid), 1.0), label
        assert _printed(msssim) == _expected([r["ms_ssim"] for r in mine], _printed(msssim), 1.0), label
    # the text's per-seed FIDs of GAN 1 B vs the unweighted GAN 1, and the mean paired differences
    text = " ".join(_section("**(c) Algorithm 1").split())  # line breaks as spaces
    fid = {s: {r["seed"]: r["fid"] for r in recs if r["source"] == s} for s in names.values()}
    pairs = ", ".join(f"{fid['GAN 1 B'][s]:.1f} vs {fid['GAN 1 unweighted'][s]:.1f}" for s in range(3))
    assert f"(B: {pairs};" in text
    diff = np.mean([fid["GAN 1 B"][s] - fid["GAN 1 unweighted"][s] for s in range(3)])
    assert f"mean paired difference {diff:.1f}".replace("-", "−") in text
    diff2 = np.mean([fid["|G|=2 B"][s] - fid["|G|=2 unweighted"][s] for s in range(3)])
    assert f"({diff2:.1f} with B)".replace("-", "−") in text


def test_readme_classify_synthetic_and_summary_table_match_results():
    recs = _per_seed("classify_synthetic")
    g = [r["accuracy"] for r in recs if r["source"] == "G"]
    psi = [r["accuracy"] for r in recs if r["source"] == "G psi=1.5"]
    line = next(x for x in README.split("\n\n") if x.startswith("§4.1 (`classify_synthetic`)"))
    (a, b), (c, d) = re.findall(PM, line)[:2]
    assert [a, b] == _expected(g, [a, b]) and [c, d] == _expected(psi, [c, d])
    # the summary table of the Reproductions section quotes the same numbers
    summary = {r[0]: r for r in _rows(README[README.index("## Reproductions") : README.index("### Mini results")])}
    assert f"{a} ± {b} / {c} ± {d}" in summary["`classify_synthetic`"][4]
    base = _per_seed("table1_baseline")
    (m, s) = re.findall(PM, summary["`table1_baseline`"][4])[0]
    assert [m, s] == _expected([r["best_test_accuracy"] for r in base], [m, s])
    best = _per_seed("table1_M")
    (m, s) = re.findall(PM, summary["`table1_I` … `table1_N`"][4])[0]
    assert [m, s] == _expected([r["best_test_accuracy"] for r in best], [m, s])


def test_results_readme_describes_the_committed_files():
    """results/README.md: one record per seed, then the mean and std over seeds, in every mini file."""
    assert "mean and std over seeds" in RESULTS_README
    for path in sorted(MINI.glob("*.json")):
        recs = json.loads(path.read_text())
        seeds = [r["seed"] for r in recs if isinstance(r.get("seed"), int)]
        means = [r for r in recs if not isinstance(r.get("seed"), int)]
        assert sorted(set(seeds)) == [0, 1, 2] and means, path.name
