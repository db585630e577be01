"""The ganlab command: subcommands from entry points, one-line errors for user mistakes."""

from __future__ import annotations

import argparse

from ganlab.core import cli
from ganlab.core.errors import ConfigError


def test_core_registers_its_commands():
    # Method packages' groups are checked in the cross-package tests (tests/): core must pass installed alone.
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("data", "demo", "eval", "features", "repro", "sample", "train"):
        assert name in sub.choices


def test_user_error_prints_one_line_and_exits_2(capsys, monkeypatch):
    def failing(args):
        raise ConfigError("unknown config key 'x'")

    real = cli.build_parser

    def parser_with_failing_command():
        p = real()
        sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        sub.add_parser("fail").set_defaults(func=failing)
        return p

    monkeypatch.setattr(cli, "build_parser", parser_with_failing_command)
    assert cli.main(["fail"]) == 2
    err = capsys.readouterr().err
    assert err == "ganlab: error: unknown config key 'x'\n"


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: ganlab" in capsys.readouterr().out
