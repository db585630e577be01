"""Every command and the Python example of gold/README.md run as written (smoke scale)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ganlab.core.cli import main

README = (Path(__file__).parents[1] / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_python_example_runs(capsys):
    example = next(b for b in _blocks("python") if "class MyD" in b)
    exec(compile(example, "README example", "exec"), {})
    assert "torch.Size([300, 2])" in capsys.readouterr().out


def test_api_imports_exist():
    imports = next(b for b in _blocks("python") if "from ganlab.gold.api import" in b)
    exec(compile(imports, "README imports", "exec"), {})


@pytest.mark.slow  # a minute on the loaded build machine; the same paths run in test_cli.py
def test_cli_commands_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    block = next(b for b in _blocks("bash") if "ganlab gold train" in b)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("ganlab gold")]
    assert len(commands) >= 5
    for cmd in commands:
        argv = shlex.split(cmd)[1:]
        assert main(argv) == 0, cmd
    assert (tmp_path / "runs/gold/demo/rejection/gold_p0.1.npz").is_file()
    assert (tmp_path / "runs/repro/gold/table3_mnist/smoke/summary.md").is_file()


@pytest.mark.parametrize("cmd", [line for line in _blocks("bash")[0].splitlines() if line.startswith("ganlab")])
def test_install_block_help(cmd, capsys):
    with pytest.raises(SystemExit) as info:  # argparse exits after printing help
        main(shlex.split(cmd)[1:])
    assert info.value.code == 0 and "rejection" in capsys.readouterr().out
