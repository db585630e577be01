"""The mini results printed in icgan/README.md against the committed results under icgan/results/mini/ (every
number equal at its printed precision): mean ± std (ddof = 1) over seeds, recomputed here from the per-seed
records; icgan/results/README.md prints no number of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
MINI = ROOT / "results" / "mini"
NUM = r"[-−+]?\d+(?:\.\d+)?"


def _section(marker: str) -> str:
    start = README.index(marker)
    end = min(i for i in (README.find("\n**(", start + 1), README.find("\n## ", start + 1)) if i > 0)
    return README[start:end]


def _table(section: str) -> list[list[str]]:
    """The rows of the first markdown table of a section (header and rule excluded, bold marks removed)."""
    lines = [x for x in section.splitlines() if x.startswith("|")]
    return [[c.strip().replace("**", "") for c in x.strip().strip("|").split("|")] for x in lines[2:]]


def _nums(text: str) -> list[float]:
    return [float(x.replace("−", "-")) for x in re.findall(NUM, text)]


def _fmt(x: float, nd: int) -> str:
    s = f"{x:.{nd}f}"
    return "0." + "0" * nd if s == "-0." + "0" * nd else s


def _same(printed: list[float], values: list[float], nd: int) -> None:
    assert [_fmt(p, nd) for p in printed] == [_fmt(v, nd) for v in values]


def _per_seed(name: str) -> list[dict]:
    path = MINI / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"no committed results {path.name}")
    return [r for r in json.loads(path.read_text()) if isinstance(r.get("seed"), int)]  # not the aggregates


def _mean_std(v) -> list[float]:
    v = np.asarray(v, dtype=np.float64)
    return [v.mean(), v.std(ddof=1)]


def _by_seed(recs: list[dict], metric: str, **where) -> list[float]:
    rows = sorted((r for r in recs if all(r.get(k) == v for k, v in where.items())), key=lambda r: r["seed"])
    return [r[metric] for r in rows]


def test_readme_table1_mini_matches_results():
    sec = _section("**(a) IC-GAN vs the unconditional baseline**")
    recs = _per_seed("table1_imagenet64")
    rows = _table(sec)
    assert [r[0].split(" (")[0] for r in rows] == ["unconditional", "IC-GAN"]
    metrics = ("fid", "precision", "recall", "density", "coverage")
    for arm, row in zip(("uncond", "icgan"), rows):
        assert len(_by_seed(recs, "fid", arm=arm)) == 3
        for metric, cell in zip(metrics, row[1:]):
            _same(_nums(cell), _mean_std(_by_seed(recs, metric, arm=arm)), 1 if metric == "fid" else 3)
    line = next(x for x in sec.splitlines() if x.startswith("Per seed (FID unconditional → IC-GAN)"))
    pairs = _nums(line.split(":", 1)[1].split(". ")[0])
    want = [v for u, i in zip(_by_seed(recs, "fid", arm="uncond"), _by_seed(recs, "fid", arm="icgan")) for v in (u, i)]
    _same(pairs, want, 1)
    higher = [
        m for m in metrics[1:] if all(i > u for u, i in zip(*(_by_seed(recs, m, arm=a) for a in ("uncond", "icgan"))))
    ]
    claim = re.search(r"and its ([a-z, ]+) are higher in every seed", sec.replace("\n", " "))
    assert claim and sorted(re.split(r", | and ", claim.group(1))) == sorted(higher)


def test_readme_figure4_mini_matches_results():
    sec = _section("**(b, c) Stored instances and neighbourhood size**")
    recs = _per_seed("figure4")
    rows = _table(sec)
    assert len(rows) == 16
    for row in rows:
        k, stored = int(row[0]), int(row[1])
        for i, (metric, sel) in enumerate(
            [(m, s) for m in ("fid", "precision", "recall") for s in ("kmeans", "random")]
        ):
            vals = _by_seed(recs, metric, k=k, stored=stored, selection=sel)
            assert len(vals) == 3, (k, stored, sel)
            _same(_nums(row[2 + i]), _mean_std(vals), 1 if metric == "fid" else 3)


def test_readme_figure1_mini_matches_results():
    sec = _section("**(d) Transfer**")
    recs = _per_seed("figure1")
    assert len(recs) == 3
    pct = re.findall(rf"\*\*({NUM}) ± ({NUM}) %\*\*", sec)
    assert len(pct) == 2
    for (mean, std), key in zip(pct, ("train_sample_class_agreement", "transfer_sample_class_agreement")):
        _same([float(mean), float(std)], _mean_std([100 * r[key] for r in recs]), 1)
    acc = re.search(rf"recognises ({NUM}) % of the MNIST instances and ({NUM}) % of the upsampled", sec)
    _same(
        [float(acc.group(1)), float(acc.group(2))],
        [
            100 * np.mean([r[k] for r in recs])
            for k in ("train_instance_classifier_acc", "transfer_instance_classifier_acc")
        ],
        1,
    )


def test_results_readme_prints_no_number_of_its_own():
    text = (ROOT / "results" / "README.md").read_text()
    assert "|" not in text  # no table: the numbers are the package README's, tested above
