"""Write the committed rehearsal table (``rehearsal.json`` and ``rehearsal.md`` beside this file) from the records
``ganlab repro rehearse`` keeps (``<cache>/rehearse/rehearsals.json`` by default, or ``--records``).

    python benchmarks/results/rehearsal/make_table.py --records /tmp/rh/cache/rehearsals.json --machine "..."
    python benchmarks/results/rehearsal/make_table.py --print-only   # the table with this machine's records

One row per (experiment, mode): ``1proc`` (one process), ``2proc`` (torchrun, two processes) and ``kill_resume``
(stopped mid-run and resumed); a row of the committed table is kept until a newer record of the same experiment and
mode replaces it (a row without a mode, from before modes, is a ``1proc`` row). ``ganlab repro list`` reads the JSON
(by config hash), so a changed paper config shows as not rehearsed until it is rehearsed again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.rehearse_records import MODES, mode_of, records_dir

HERE = Path(__file__).resolve().parent
TITLES = {"1proc": "1 process", "2proc": "2 processes", "kill_resume": "kill + resume"}


def _phases(ph: dict) -> str:
    if not ph:
        return "-"
    return (
        f"steps {ph.get('steps_reached', '-')}/{ph.get('steps_planned', '-')}, {ph.get('trainings', 0)} trainings, "
        f"{ph.get('checkpoints', 0)} checkpoints, {ph.get('periodic_evals', 0)} periodic evals, "
        f"evaluation {'done' if ph.get('evaluated') else 'no'}"
    )


def merge(old_rows: list[dict], new: dict[str, dict]) -> list[dict]:
    """The committed rows updated with the records ``new`` (by record key), one row per (experiment, mode)."""
    rows = {(r["experiment"], r.get("mode", "1proc")): {**r, "mode": r.get("mode", "1proc")} for r in old_rows}
    for key, rec in new.items():
        digest, mode = mode_of(key, rec)
        prev = rows.get((rec["experiment"], mode))
        if prev is None or prev.get("when", "") <= rec.get("when", ""):
            rows[rec["experiment"], mode] = {**rec, "config_hash": digest, "mode": mode}
    return sorted(rows.values(), key=lambda r: (r["experiment"], MODES.index(r["mode"]) if r["mode"] in MODES else 9))


def _cell(r: dict | None) -> tuple[str, str]:
    if r is None:
        return "-", "-"
    return r.get("status", "pass" if r["passed"] else "fail"), f"{r['wall_s']:.0f}"


def markdown(table: list[dict], machine: str) -> list[str]:
    by = {}
    for r in table:
        by.setdefault(r["experiment"], {})[r["mode"]] = r
    cols = " | ".join(f"{TITLES[m]} | wall (s)" for m in MODES)
    lines = [
        "# Dress rehearsals of the paper configs",
        "",
        "`ganlab repro rehearse EXP`: the paper config with its schedule shrunk (every schedule point kept in order),",
        "stand-in datasets in the real on-disk formats and stand-in evaluation weights, on a CPU, in three modes:",
        "one process; two processes under `torch.distributed.run` (gloo; `--nproc 2`); and one process stopped once",
        "with SIGTERM after a checkpoint past the middle of a training, resumed, and compared with an uninterrupted",
        "rehearsal (final weights bit-equal, records equal but for wall-clock fields, no lock / temporary / failure",
        "file left; `--kill-resume`).",
        f"Machine: {machine}. Written by `make_table.py` from the rehearsal records; `ganlab repro list` reads",
        "`rehearsal.json` (a changed paper config has another hash and shows as not rehearsed).",
        "",
        f"| config | {cols} | batch per process | phases (1 process) | error |",
        "|---|" + "---|" * (2 * len(MODES) + 3),
    ]
    for exp, modes in by.items():
        cells = " | ".join(" | ".join(_cell(modes.get(m))) for m in MODES)
        first = modes.get("1proc") or next(iter(modes.values()))
        errors = [f"{m}: {modes[m]['error']}" for m in MODES if modes.get(m, {}).get("error")]
        err = "; ".join(errors).replace("|", "/")[:240]
        lines.append(f"| {exp} | {cells} | {first.get('batch', '')} | {_phases(first.get('phases') or {})} | {err} |")
    counts = []
    for m in MODES:
        rows = [r for r in table if r["mode"] == m]
        counts.append(f"{TITLES[m]}: {sum(r['passed'] for r in rows)} of {len(rows)} passed")
    return [*lines, "", "; ".join(counts) + "."]


ROOT = HERE.parents[2]
# package word of an experiment key -> the folder of its README
READMES = {
    "diagan": "diagan",
    "gold": "gold",
    "icgan": "icgan",
    "instance-selection": "instance_selection",
    "multigan-boosting": "multigan_boosting",
}
SECTION = "## Paper-scale rehearsal"


def package_section(table: list[dict], package: str, paper: list[str]) -> list[str]:
    """The README section of one package: every paper config of it (``paper``), its result and wall time per mode."""
    by: dict[str, dict] = {}
    for r in table:
        by.setdefault(r["experiment"], {})[r["mode"]] = r
    lines = [
        SECTION,
        "",
        "From `benchmarks/results/rehearsal/rehearsal.md` (`ganlab repro rehearse EXP`: the paper config with its",
        "schedule and evaluation sizes shrunk, on stand-in data in the real file formats and stand-in weights, on 2",
        "shared CPU cores; `--nproc 2`: two processes; `--kill-resume`: stopped mid-run, resumed and compared with an",
        "uninterrupted rehearsal). `-`: not rehearsed in that mode yet.",
        "",
        "| config | " + " | ".join(f"{TITLES[m]} | wall (s)" for m in MODES) + " |",
        "|---|" + "---|" * (2 * len(MODES)),
    ]
    for exp in paper:
        lines.append(f"| {exp} | " + " | ".join(" | ".join(_cell(by.get(exp, {}).get(m))) for m in MODES) + " |")
    done = [e for e in paper if by.get(e, {}).get("1proc")]
    passed = [e for e in done if by[e]["1proc"]["passed"]]
    lines += ["", f"{len(passed)} of {len(paper)} paper configs pass in one process ({len(done)} rehearsed)."]
    return lines


def write_sections(table: list[dict], paper_configs: dict[str, list[str]]) -> None:
    """Replace each package README's rehearsal section (from its heading to the next ``## ``) with the table's."""
    for package, folder in READMES.items():
        path = ROOT / folder / "README.md"
        text = path.read_text().split("\n")
        start = text.index(SECTION)
        end = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
        body = package_section(table, package, paper_configs.get(package, []))
        lines = [*text[:start], *body, *([""] if end < len(text) else []), *text[end:]]
        path.write_text("\n".join(lines).rstrip("\n") + "\n")


def paper_configs() -> dict[str, list[str]]:
    from ganlab.core.repro import all_experiments

    out: dict[str, list[str]] = {}
    for key, exp in all_experiments().items():
        if "paper" in exp.scales:
            out.setdefault(key.split("/")[0], []).append(key)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default=None, help="rehearsals.json written by ganlab repro rehearse")
    ap.add_argument("--machine", default="", help="where the rehearsals ran (cores, load)")
    ap.add_argument("--print-only", action="store_true", help="print the table, write nothing")
    args = ap.parse_args()
    records = Path(args.records) if args.records else records_dir(None) / "rehearsals.json"
    new = json.loads(records.read_text()) if records.is_file() else {}
    out = HERE / "rehearsal.json"
    old = json.loads(out.read_text()) if out.is_file() else {"rehearsals": []}
    table = merge(old["rehearsals"], new)
    machine = args.machine or old.get("machine", "")
    lines = markdown(table, machine)
    if not args.print_only:
        out.write_text(json.dumps({"machine": machine, "rehearsals": table}, indent=2) + "\n")
        (HERE / "rehearsal.md").write_text("\n".join(lines) + "\n")
        write_sections(table, paper_configs())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
