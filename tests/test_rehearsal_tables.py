"""The rehearsal tables of the package READMEs say what the committed rehearsal records say (issue 21: "its table is
in the README of each package"): every paper config of the package is a row, and its result and wall time per mode
equal the committed ``benchmarks/results/rehearsal/rehearsal.json`` row (``-`` where none is committed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "results" / "rehearsal"))
import make_table  # noqa: E402


def _rows(readme: Path) -> dict[str, list[str]]:
    text = readme.read_text().split("\n")
    start = text.index(make_table.SECTION)
    out = {}
    for line in text[start + 1 :]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and "/" in cells[0]:
            out[cells[0]] = cells[1:]
    return out


@pytest.mark.parametrize("package", sorted(make_table.READMES))
def test_readme_rehearsal_rows_equal_the_committed_records(package):
    table = json.loads((ROOT / "benchmarks" / "results" / "rehearsal" / "rehearsal.json").read_text())["rehearsals"]
    by = {(r["experiment"], r.get("mode", "1proc")): r for r in table}
    rows = _rows(ROOT / make_table.READMES[package] / "README.md")
    assert sorted(rows) == sorted(make_table.paper_configs()[package])  # every paper config, nothing else
    for exp, cells in rows.items():
        want = []
        for mode in make_table.MODES:
            r = by.get((exp, mode))
            status = None if r is None else r.get("status", "pass" if r["passed"] else "fail")
            want += ["-", "-"] if r is None else [status, f"{r['wall_s']:.0f}"]
        assert cells == want, exp
