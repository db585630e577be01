"""The Colored MNIST minis of diagan/README.md ((c) ρ = 0.95 and (d) ρ = 0.99, official D) against the committed
per-seed results under diagan/results/mini/ (numbers equal at the printed precision): mean ± std (ddof = 1) over
seeds and the per-seed values, recomputed here from the records."""

from __future__ import annotations

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
SECTIONS = {  # README section -> the committed files of its runs
    "### (c) Colored MNIST, ρ = 0.95": "table5_colored_mnist_rho95_seed*.json",
    "### (d) Colored MNIST, ρ = 0.99": "table5_colored_mnist_rho95_rho0.99_seed*.json",
}


def _section(marker: str) -> str:
    return markdown_section(README, marker)


def _rows(section: str) -> dict[str, list[str]]:
    return markdown_rows(section, keep="last")


def _same(text: str, values: list[float], scale: float = 1.0) -> None:
    """The numbers printed in ``text`` equal ``values`` x ``scale``, each at its own printed decimals."""
    printed = [p.replace("−", "-").lstrip("+") for p in re.findall(NUM, text)]
    assert len(printed) == len(values), (text, values)
    for p, v in zip(printed, values):
        nd = len(p.partition(".")[2])
        want = f"{scale * v:.{nd}f}"
        assert p == ("0" + want[2:] if want.startswith("-0") and float(want) == 0 else want), (text, p, scale * v)


def _records(pattern: str) -> dict[str, list[dict]]:
    files = sorted(MINI.glob(pattern))
    if not files:
        pytest.skip(f"no committed results match {pattern}")
    recs = [r for f in files for r in json.loads(f.read_text()) if isinstance(r.get("seed"), int)]
    by = {v: sorted((r for r in recs if r["variant"] == v), key=lambda r: r["seed"]) for v in ("vanilla", "diagan")}
    assert [r["seed"] for r in by["vanilla"]] == [r["seed"] for r in by["diagan"]] == [0, 1, 2]
    return by


def _ms(values: list[float]) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    return [v.mean(), v.std(ddof=1)]


@pytest.mark.parametrize("marker", list(SECTIONS))
def test_readme_colored_mnist_table_matches_results(marker):
    by = _records(SECTIONS[marker])
    rows = _rows(_section(marker))
    for variant, label in (("vanilla", "vanilla"), ("diagan", "Dia-GAN")):
        rs = by[variant]
        occ, re_minor, re_major = (rows[label][i] for i in range(3))
        g = [r["minor_occurrence"] for r in rs]
        _same(occ, [*_ms(g), *g], 100.0)
        m = [r["re_minor"] for r in rs]
        _same(re_minor, [*_ms(m), *m])
        _same(re_major, _ms([r["re_major"] for r in rs]))


@pytest.mark.parametrize("marker", list(SECTIONS))
def test_readme_colored_mnist_diagnosis_and_paired_change_match_results(marker):
    by = _records(SECTIONS[marker])
    # the prose (the protocol line before the table, checked by tests/test_readme_protocols.py, also names LDRV)
    prose = [line for line in _section(marker).splitlines() if not line.startswith("Evaluation protocol")]
    text = " ".join(" ".join(prose).split())
    van, dia = by["vanilla"], by["diagan"]
    assert all(a[k] == b[k] for a, b in zip(van, dia) for k in ("ldrv_minor", "score_minor"))  # one phase 1
    green = [r["ldrv_minor"] for r in van]
    ldrv = re.search(r"LDRV(?: of green digits)? (.+?) vs red (\S+ ± \S+?),", text).group(0)
    _same(ldrv, [*_ms(green), *green, *_ms([r["ldrv_major"] for r in van])])
    score = re.search(rf"({NUM} ± {NUM}) vs ({NUM} ± {NUM})\)?", text[text.index("score") :]).group(0)
    _same(score, [*_ms([r["score_minor"] for r in van]), *_ms([r["score_major"] for r in van])])
    change = re.search(rf"RE (?:of green digits changed by|got worse by) ({NUM} ± {NUM})", text).group(1)
    _same(change, _ms([d["re_minor"] - v["re_minor"] for v, d in zip(van, dia)]))


def test_results_readme_names_the_committed_files():
    assert "one file per seed" in RESULTS_README
    for pattern in SECTIONS.values():
        assert len(sorted(MINI.glob(pattern))) == 3, pattern
