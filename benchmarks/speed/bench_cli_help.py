"""Start-up time of ``ganlab --help`` (every installed package registers its commands), beside a bare interpreter
(``python -c pass``) and, for scale, ``python -c "import torch"``: the help must not pay for torch.

    python benchmarks/speed/bench_cli_help.py [--rounds 7] [--out runs/bench/bench_cli_help.json]

Each command runs ``--rounds`` times in a fresh process (wall clock, median reported; one warm-up run first so that
the page cache and the bytecode caches are filled). Bytecode is cached as an installed package's is, even where
PYTHONDONTWRITEBYTECODE is set (the caches go to a temporary PYTHONPYCACHEPREFIX, removed afterwards). The
``ganlab`` console script is used when it is on PATH, else ``python -m ganlab.core.cli``. Writes
runs/bench/bench_cli_help.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall_times(cmd: list[str], rounds: int, env: dict[str, str]) -> list[float]:
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--no-torch", action="store_true", help="skip the `import torch` reference")
    p.add_argument("--out", default="runs/bench/bench_cli_help.json")
    a = p.parse_args()
    script = shutil.which("ganlab")
    help_cmd = [script, "--help"] if script else [sys.executable, "-m", "ganlab.core.cli", "--help"]
    commands = {
        "ganlab --help": help_cmd,
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    if not a.no_torch:
        commands["python -c 'import torch'"] = [sys.executable, "-c", "import torch"]
    rows = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["OMP_NUM_THREADS"] = "1"
    with tempfile.TemporaryDirectory() as pycache:
        env.setdefault("PYTHONPYCACHEPREFIX", pycache)
        for label, cmd in commands.items():
            times = wall_times(cmd, a.rounds, env)
            median = statistics.median(times)
            rows.append({"command": label, "argv": cmd, "median_s": median, "min_s": min(times), "times_s": times})
            print(f"{label:28s} median {median:.3f} s  min {min(times):.3f} s  ({a.rounds} runs)")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    info = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "load_1min": load, "rows": rows}
    out.write_text(json.dumps(info, indent=2))
    print(f"(1-minute load average {load:.1f} on {os.cpu_count()} CPUs)" if load is not None else "")


if __name__ == "__main__":
    main()
