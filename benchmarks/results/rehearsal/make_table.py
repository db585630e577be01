"""Write the committed rehearsal table (``rehearsal.json`` and ``rehearsal.md`` beside this file) from the records
``ganlab repro rehearse`` keeps (``<cache>/rehearse/rehearsals.json``, or ``--cache-dir``'s).

    python benchmarks/results/rehearsal/make_table.py --records /tmp/rh/cache/rehearsals.json --machine "..."

A row of the committed table is kept until a newer record of the same experiment replaces it; ``ganlab repro list``
reads the JSON (by config hash), so a changed paper config shows as not rehearsed until it is rehearsed again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _phases(ph: dict) -> str:
    if not ph:
        return "-"
    return (
        f"steps {ph.get('steps_reached', '-')}/{ph.get('steps_planned', '-')}, {ph.get('trainings', 0)} trainings, "
        f"{ph.get('checkpoints', 0)} checkpoints, {ph.get('periodic_evals', 0)} periodic evals, "
        f"evaluation {'done' if ph.get('evaluated') else 'no'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", required=True, help="rehearsals.json written by ganlab repro rehearse")
    ap.add_argument("--machine", default="", help="where the rehearsals ran (cores, load)")
    args = ap.parse_args()
    new = json.loads(Path(args.records).read_text())
    out = HERE / "rehearsal.json"
    old = json.loads(out.read_text()) if out.is_file() else {"rehearsals": []}
    rows = {r["experiment"]: r for r in old["rehearsals"]}
    for digest, rec in new.items():
        prev = rows.get(rec["experiment"])
        if prev is None or prev.get("when", "") <= rec.get("when", ""):
            rows[rec["experiment"]] = {"config_hash": digest, **rec}
    table = sorted(rows.values(), key=lambda r: r["experiment"])
    machine = args.machine or old.get("machine", "")
    out.write_text(json.dumps({"machine": machine, "rehearsals": table}, indent=2) + "\n")
    lines = [
        "# Dress rehearsals of the paper configs",
        "",
        "`ganlab repro rehearse EXP`: the paper config with its schedule shrunk (every schedule point kept in order),",
        "stand-in datasets in the real on-disk formats and stand-in evaluation weights; one process on a CPU.",
        f"Machine: {machine}. Written by `make_table.py` from the rehearsal records; `ganlab repro list` reads",
        "`rehearsal.json` (a changed paper config has another hash and shows as not rehearsed).",
        "",
        "| config | result | wall time (s) | batch per process | phases | error |",
        "|---|---|---|---|---|---|",
    ]
    for r in table:
        err = (r.get("error") or "").replace("|", "/")[:160]
        lines.append(
            f"| {r['experiment']} | {r.get('status', 'pass' if r['passed'] else 'fail')} | {r['wall_s']:.0f} | "
            f"{r.get('batch', '')} | {_phases(r.get('phases') or {})} | {err} |"
        )
    passed = sum(r["passed"] for r in table)
    lines += ["", f"{passed} of {len(table)} rehearsed configs passed."]
    (HERE / "rehearsal.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
