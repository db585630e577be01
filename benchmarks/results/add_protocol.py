"""Give a committed suite run's result files the protocol of their numbers, from their own records (no training,
no evaluation): every record gets the ``eval_*`` columns of its (setting, method)'s core ``EvalProtocol``
(``Suite.eval_protocol``: the setting's, as the method draws its samples), ``results.csv`` is rewritten from the
records as ``ganlab bench report`` writes it, and each setting's ``Protocol:`` line of ``summary.md`` is replaced by
the report's words (core's ``describe()``, the methods whose protocol differs, the suite's own columns).

Nothing else changes: before writing, the script checks that every non-``eval_*`` column of every row of
``results.csv`` and every non-``eval_*`` key of every record of ``results.json`` is equal before and after, and that
``summary.md`` differs only in its ``Protocol:`` lines. The suite is the run's own snapshot (``suite.yaml`` of the
folder); its recorded counts (fakes, P/R/D/C reals and k) must agree with the protocol given to it.

    python benchmarks/results/add_protocol.py benchmarks/results/cpu
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

from ganlab.benchmarks.protocol import describe_methods, describe_setting
from ganlab.benchmarks.report import _flat
from ganlab.benchmarks.suite import Suite, load_suite
from ganlab.core.evaluation.protocol import EvalProtocol
from ganlab.core.results import records_to_csv

EVAL_COLUMNS = set(EvalProtocol().as_record())  # every eval_* column core's protocol writes (not the eval_s metric)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _check_counts(suite: Suite, rec: dict[str, Any]) -> None:
    """The record was measured under the protocol it is given: its own protocol columns say the same counts."""
    proto, own = suite.eval_protocol(rec["setting"], rec["method"]), rec.get("protocol") or {}
    where = f"{rec['setting']}/{rec['method']}/seed{rec['seed']}"
    assert own.get("n_fake") == proto.n_fake, where
    if proto.metrics:
        assert (own.get("prdc_n_real"), own.get("k")) == (proto.prdc.n_real, proto.prdc.k), where
        assert str(own.get("fid_reference", "")).startswith("all "), where  # every training image: draw "all"


def with_protocol(records: list[dict[str, Any]], suite: Suite) -> list[dict[str, Any]]:
    """The records with their (setting, method)'s ``eval_*`` columns (replaced where present, else appended)."""
    out = []
    for rec in records:
        _check_counts(suite, rec)
        cols = suite.eval_protocol(rec["setting"], rec["method"]).as_record()
        new = {k: v for k, v in rec.items() if k not in EVAL_COLUMNS or k in cols}
        new.update(cols)  # a column the record had keeps its place; the others follow its last key
        out.append(new)
    return out


def protocol_lines(summary: str, suite: Suite, records: list[dict[str, Any]]) -> str:
    """``summary`` with each setting's ``Protocol:`` line in the report's words."""
    lines, setting = summary.split("\n"), None
    for i, line in enumerate(lines):
        if line.startswith("## ") and line[3:] in suite.settings:
            setting = line[3:]
        elif setting is not None and line.startswith("Protocol: "):
            recorded = next((r.get("protocol") for r in records if r["setting"] == setting and r.get("protocol")), None)
            words = describe_setting(suite.settings[setting], recorded, methods=describe_methods(suite, setting))
            lines[i] = "Protocol: " + words
            setting = None
    return "\n".join(lines)


def _without_eval(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in EVAL_COLUMNS}


def main(folder: str) -> None:
    root = Path(folder)
    suite = load_suite(root / "suite.yaml")
    old_json, old_csv, old_md = ((root / f).read_text() for f in ("results.json", "results.csv", "summary.md"))
    records = json.loads(old_json)
    # the files are what the report writes from these records (so rewriting them changes only what is added)
    assert json.dumps(records, indent=2, default=str) == old_json
    assert records_to_csv([_flat(r) for r in records]) == old_csv
    new = with_protocol(records, suite)
    new_json = json.dumps(new, indent=2, default=str)
    new_csv = records_to_csv([_flat(r) for r in new])
    new_md = protocol_lines(old_md, suite, new)

    # nothing but the protocol changed: every non-eval column of every row, every non-eval key of every record
    before, after = _rows(old_csv), _rows(new_csv)
    assert len(before) == len(after) == len(records)
    for a, b in zip(before, after):
        assert _without_eval(a) == _without_eval(b), (a["setting"], a["method"], a["seed"])
    assert [_without_eval(r) for r in records] == [_without_eval(r) for r in json.loads(new_json)]
    changed = [(a, b) for a, b in zip(old_md.split("\n"), new_md.split("\n")) if a != b]
    assert len(old_md.split("\n")) == len(new_md.split("\n"))
    assert all(a.startswith("Protocol: ") and b.startswith("Protocol: ") for a, b in changed)

    (root / "results.json").write_text(new_json)
    (root / "results.csv").write_text(new_csv)
    (root / "summary.md").write_text(new_md)
    n_cols = len(after[0]) if after else 0
    print(f"{root}: {len(new)} records, {n_cols} columns, {len(changed)} Protocol lines rewritten; others unchanged")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a committed suite run folder (results.json, results.csv, summary.md)")
    main(parser.parse_args().folder)
