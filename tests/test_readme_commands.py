"""Every command and example a README shows runs, as shown, at smoke scale.

- each ```bash block line that calls ``ganlab`` is run in-process (``ganlab.core.cli.main``), in order, in one
  scratch folder per README, with ``--scale <s>`` replaced by ``--scale smoke``; it must exit 0;
- each ```python block is executed as a script in that folder;
- ``pip``/``nox``/``git`` lines are installation steps and ``python benchmarks/speed/...`` lines are the speed
  benchmarks (run by ``nox -s bench``); they are not run here. Templates with placeholders go in
  ```text blocks, which are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import shlex
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
READMES = sorted([ROOT / "README.md", *ROOT.glob("*/README.md")])
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# installation steps, and the speed benchmarks (full-size by design; `nox -s bench` runs every one of them)
SKIP = ("pip ", "nox ", "git ", "cd ", "python -m pip", "python3 -m pip", "python benchmarks/speed/")
# `for s in 1 2 3; do CMD & done` (seeds run side by side): checked once, with the loop variable's first value
LOOP = re.compile(r"^for (\w+) in (\S+)[^;]*; do (.+?)\s*[;&]\s*done$")


def blocks(readme: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(readme.read_text())]


def commands(text: str) -> list[list[str]]:
    """The ganlab command lines of a bash block (continuations joined, comments and env prefixes dropped)."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"^(?:[A-Z_]+=\S*\s+)+", "", line.split(" #", 1)[0].strip())  # OMP_NUM_THREADS=1 ganlab ...
        if not line or line.startswith("#") or line.startswith(SKIP):
            continue
        loop = LOOP.match(line)
        if loop:
            var, first, body = loop.groups()
            line = re.sub(rf"\$(?:{var}\b|{{{var}}})", first, body)
        argv = shlex.split(line.removesuffix("&").strip())  # `CMD &`: run in the background, checked in order
        while argv and re.match(r"^[A-Z_]+=", argv[0]):  # OMP_NUM_THREADS=1 ganlab ...
            argv = argv[1:]
        if argv and argv[0] == "ganlab":
            argv = argv[1:]
            for i, a in enumerate(argv[:-1]):
                if a == "--scale":
                    argv[i + 1] = "smoke"
            out.append(argv)
        elif argv:
            raise AssertionError(f"a bash block runs {argv[0]!r}, which this test cannot check: {line}")
    return out


def test_the_parser_reads_continuations_env_and_scales():
    text = "pip install ./core\nOMP_NUM_THREADS=1 ganlab repro run a/b \\\n  --scale paper  # comment\n"
    assert commands(text) == [["repro", "run", "a/b", "--scale", "smoke"]]
    loop = 'for s in 4 5; do OMP_NUM_THREADS=1 ganlab repro run x "e.seeds=[$s]" --scale mini --out-dir r/b_$s & done\n'
    assert commands(loop) == [["repro", "run", "x", "e.seeds=[4]", "--scale", "smoke", "--out-dir", "r/b_4"]]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name if p.parent != ROOT else "README")
def test_readme_commands_and_examples_run(readme, tmp_path, monkeypatch):
    from ganlab.core.cli import main

    found = blocks(readme)
    if not any(kind in ("bash", "python") for kind, _ in found):
        pytest.skip("no commands")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for kind, text in found:
            if kind == "bash":
                for argv in commands(text):
                    err = io.StringIO()
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                        try:
                            code = main(argv)
                        except SystemExit as exc:  # --help
                            code = exc.code or 0
                    assert code == 0, f"`ganlab {' '.join(argv)}` exited {code}: {err.getvalue()[-2000:]}"
            elif kind == "python":
                script = tmp_path / "example.py"
                script.write_text(text)
                with contextlib.redirect_stdout(io.StringIO()):
                    runpy.run_path(str(script), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
        os.chdir(ROOT)
