"""One command-line grammar for every package (core/cli.py's docstring and the root README's CLI section).

Every parser and subparser of ``ganlab`` is walked in-process (no command runs):

- an option is spelled from the vocabulary: lower-case words joined by dashes; a run folder is ``--run-dir``, an
  output folder ``--out-dir``, an output file ``--out-file``, a count ``-n/--num``, the seed ``--seed``, the scale
  ``--scale``; the spellings a user may reach for instead (``--out``, ``--n``, ``--output``, ``--run_dir``, ...)
  exist only as hidden deprecated aliases that print a one-line notice;
- package commands are the distributions' short names, one spelling each (older spellings: a notice);
- every command that the project's messages suggest (``ganlab ...`` in backticks or parentheses inside a string
  literal of the source) parses with the real parser, in its current spelling.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from pathlib import Path

import pytest
import tomllib

from ganlab.core import cli
from ganlab.core.config import SCALES

ROOT = Path(__file__).resolve().parents[1]
WORD_OPTION = re.compile(r"^--[a-z0-9]+(-[a-z0-9]+)*$")
SHORT_OPTIONS = {"-h", "-n", "-o"}  # help, the count, a dataset/writer option (KEY=VALUE)
# spellings a user might guess for a meaning the grammar spells otherwise; never a visible option
OFF_GRAMMAR = {
    "--out", "--output", "--outdir", "--output-dir", "--outfile", "--output-file", "--out-path", "--dest",
    "--run", "--rundir", "--run-path", "--run-folder", "--n", "--number", "--count", "--num-samples",
    "--n-samples", "--samples", "--random-seed", "--rng-seed", "--seed-value", "--size",
}  # fmt: skip
# meaning (argparse dest) -> the one spelling
DEST_SPELLING = {"out_dir": "--out-dir", "run_dir": "--run-dir", "num": "--num", "seed": "--seed", "scale": "--scale"}
CORE_COMMANDS = {"data", "train", "sample", "demo", "features", "eval", "repro"}
VERB_COMMANDS = {"bench"}  # ganlab-benchmarks' command is the verb it offers, not a paper package


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out.update(action.choices)
    return out


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for name, sub in _subparsers(parser).items():
        yield from walk(sub, (*path, name))


@pytest.fixture(scope="module")
def parser():
    return cli.build_parser()


@pytest.fixture(scope="module")
def commands(parser):
    return list(walk(parser))


def test_every_help_renders_and_the_walk_is_complete(commands):
    paths = {" ".join(p) for p, _ in commands}
    expected = ["train", "sample", "eval", "data show", "repro run", "bench run", "diagan scores", "gold rejection",
                "icgan sample", "instance-selection select", "multigan-boosting ensemble"]  # fmt: skip
    assert set(expected) <= paths
    for path, p in commands:
        text = p.format_help()  # what `ganlab ... --help` prints
        assert text.startswith("usage: ganlab"), path


def test_every_option_is_spelled_in_the_grammar(commands):
    problems = []
    for path, p in commands:
        visible = {s for a in p._actions if not isinstance(a, cli.DeprecatedOption) for s in a.option_strings}
        for action in p._actions:
            where = f"ganlab {' '.join(path)}"
            if isinstance(action, cli.DeprecatedOption):  # an old spelling: hidden, and its new one exists here
                assert action.help == argparse.SUPPRESS
                for new in re.findall(r"--[a-z-]+", action.replacement):
                    if new not in visible:
                        problems.append(f"{where}: {action.option_strings} points to missing {new}")
                continue
            for opt in action.option_strings:
                if opt.startswith("--") and not WORD_OPTION.match(opt):
                    problems.append(f"{where}: {opt} (lower-case words joined by dashes)")
                if not opt.startswith("--") and opt not in SHORT_OPTIONS:
                    problems.append(f"{where}: short option {opt}")
                if opt in OFF_GRAMMAR:
                    problems.append(f"{where}: {opt} is spelled outside the grammar")
            want = DEST_SPELLING.get(action.dest)
            if want and action.option_strings and want not in action.option_strings:
                problems.append(f"{where}: {action.option_strings} stores {action.dest!r}; spell it {want}")
            if "-n" in action.option_strings and action.option_strings != ["-n", "--num"]:
                problems.append(f"{where}: -n is always -n/--num, got {action.option_strings}")
            if "--scale" in action.option_strings and tuple(action.choices or ()) != SCALES:
                problems.append(f"{where}: --scale takes {SCALES}")
            out_flags = {"--out-dir", "--out-file"} & set(action.option_strings)
            if out_flags and action.dest not in ("out", "out_dir", "_config_out_dir"):
                problems.append(f"{where}: {sorted(out_flags)} stores {action.dest!r}")
    assert not problems, "\n".join(problems)


def _distributions() -> dict[str, dict]:
    out = {}
    for pyproject in ROOT.glob("*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        out[project["name"].removeprefix("ganlab-")] = project.get("entry-points", {})
    return out


def test_package_commands_are_the_distribution_short_names(parser):
    top = set(_subparsers(parser))
    dists = _distributions()
    packages = {short for short, eps in dists.items() if eps.get("ganlab.commands") and short not in ("core",)}
    papers = packages - {"benchmarks"}
    assert papers == set(cli.PACKAGES) == {"diagan", "gold", "icgan", "instance-selection", "multigan-boosting"}
    assert top == CORE_COMMANDS | papers | VERB_COMMANDS
    for short in papers:  # the entry points carry the same name (the repro keys are package/experiment)
        assert set(dists[short]["ganlab.commands"]) == {short}
        assert set(dists[short].get("ganlab.repro", {short: 0})) == {short}
    assert not set(cli.OLD_PACKAGE_NAMES) & top  # an old spelling is not listed, only rewritten


def test_repro_keys_use_the_package_command_names():
    from ganlab.core.repro import all_experiments

    packages = {key.split("/")[0] for key in all_experiments()}
    assert packages and packages <= set(cli.PACKAGES)


def _notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("ganlab: deprecated:")]


@pytest.mark.parametrize(
    ("argv", "expect", "old"),
    [
        (["multigan", "ensemble", "a", "--n", "10", "--out", "x.npz"], {"num": 10, "out": "x.npz"},
         ["ganlab multigan", "--n", "--out"]),
        (["instance_selection", "select", "mnist5k", "--out", "d"], {"out": "d"},
         ["ganlab instance_selection", "--out"]),
        (["features", "extract", "--dataset", "d", "--n", "5", "--out", "f.npy"], {"num": 5, "out": "f.npy"},
         ["--n", "--out"]),
        (["sample", "runs/x", "--out", "g.png"], {"run": "runs/x", "out": "g.png"}, ["--out"]),
        (["train", "demo", "out_dir=runs/a"], {"overrides": ["out_dir=runs/a"]}, ["out_dir=runs/a"]),
        (["gold", "rejection", "r", "--n", "20", "--out", "o"], {"num": 20, "out": "o"}, ["--n", "--out"]),
        (["icgan", "kmeans", "f", "--n", "3", "--out", "s.npz"], {"num": 3, "out": "s.npz"}, ["--n", "--out"]),
    ],
)  # fmt: skip
def test_old_spellings_still_work_with_one_notice_each(argv, expect, old, capsys):
    args = cli.parse(argv)
    for key, value in expect.items():
        assert getattr(args, key) == value
    notices = _notices(capsys.readouterr().err)
    assert len(notices) == len(old)
    for line, spelling in zip(notices, old, strict=True):
        assert line.startswith(f"ganlab: deprecated: {spelling} -> use ")


def test_new_spellings_parse_without_notices(capsys):
    args = cli.parse(["sample", "--run-dir", "runs/x", "--out-file", "g.png", "-n", "4"])
    assert (args.run, args.out, args.num) == ("runs/x", "g.png", 4)
    args = cli.parse(["train", "demo", "--out-dir", "runs/a", "train.steps=2"])
    assert args.overrides == ["train.steps=2", "out_dir=runs/a"]
    args = cli.parse(["repro", "run", "diagan/figure2", "seeds=[0]", "--scale", "smoke", "--out-dir", "r"])
    assert (args.experiments, args.overrides, args.out_dir) == (["diagan/figure2"], ["seeds=[0]"], "r")
    assert capsys.readouterr().err == ""


def test_a_required_output_or_run_is_still_required(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse(["sample", "--run-dir", "runs/x"])
    assert exc.value.code == 2 and "required: --out-file or --out-dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse(["sample", "--out-file", "g.png"])
    assert "required: --run-dir (or RUN)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse(["sample", "a", "--run-dir", "b", "--out-file", "g.png"])
    assert "RUN given twice" in capsys.readouterr().err


def test_package_repro_is_an_alias_of_repro_run(monkeypatch, capsys):
    from ganlab.core import repro

    seen = []
    monkeypatch.setattr(repro, "_run_cli", lambda keys, a: seen.append((keys, a.scale, a.out_dir)) or 0)
    args = cli.parse(["diagan", "repro", "figure2", "--scale", "smoke", "--out-dir", "r"])
    assert args.func(args) == 0 and seen == [(["diagan/figure2"], "smoke", "r")]
    assert _notices(capsys.readouterr().err) == [
        "ganlab: deprecated: ganlab diagan repro figure2 -> use ganlab repro run diagan/figure2 "
        "(the old spelling goes in the next release)"
    ]
    args = cli.parse(["multigan", "repro", "table1_M"])  # both old spellings at once: two notices
    args.func(args)
    assert seen[-1][0] == ["multigan-boosting/table1_M"] and len(_notices(capsys.readouterr().err)) == 2


# ------------------------------------------------------------------------------- commands the project suggests
SUGGESTION = re.compile(r"`(ganlab [^`]+)`|\((ganlab [a-z][^)]*)\)")


def _literals(tree: ast.AST):
    """(line, text) of every string literal that is not a docstring; an f-string's fields read ``{x}``."""
    docs, inner = set(), set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body:
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            inner.update(id(v) for v in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs | inner:
            yield node.lineno, node.value


def suggested_commands() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.glob("*/src/ganlab/**/*.py")):
        for line, text in _literals(ast.parse(path.read_text())):
            for m in SUGGESTION.finditer(text):
                found.append((f"{path.relative_to(ROOT)}:{line}", m.group(1) or m.group(2)))
    return sorted(set(found))


def _argv(command: str) -> list[str]:
    """A suggestion's placeholders filled: ``{x}``/``<what>``/UPPER -> a value, ``[...]`` and ``...`` dropped."""
    text = re.sub(r"\[[^\]]*\]|\.\.\.", " ", command)
    text = re.sub(r"<[^>]*>|\{x\}", "x", text)
    argv = shlex.split(text)[1:]
    return [re.sub(r"\b[A-Z][A-Z_]*\b", "1", a) if not a.startswith("-") else a for a in argv]


def test_suggestions_are_found():
    where = {cmd for _, cmd in suggested_commands()}
    assert "ganlab repro list" in where and any(c.startswith("ganlab train ") for c in where)


@pytest.mark.parametrize(("where", "command"), suggested_commands(), ids=lambda v: v)
def test_every_suggested_command_parses(where, command, parser, capsys):
    argv = _argv(command)
    node, rest = parser, list(argv)
    while rest and rest[0] in _subparsers(node):
        node = _subparsers(node)[rest.pop(0)]
    assert node is not parser, f"{where}: `{command}` names no command"
    if rest or _subparsers(node):  # an invocation (or a group): the real parser must read it
        try:
            args = cli.parse(argv, parser)
        except SystemExit as exc:
            pytest.fail(f"{where}: `{command}` does not parse ({capsys.readouterr().err.strip()}) [exit {exc.code}]")
        assert rest == [] or getattr(args, "func", None) is not None
    assert not _notices(capsys.readouterr().err), f"{where}: `{command}` uses a deprecated spelling"


def test_the_resume_hint_is_a_command_that_parses(tmp_path):
    from ganlab.core.results import RunDir
    from ganlab.core.train.checkpointing import Checkpointing

    holder = Checkpointing()
    holder.run_dir = RunDir(tmp_path / "my run")
    args = cli.parse(shlex.split(holder.resume_command("--allow-config-change"))[1:])
    assert args.resume and args.allow_config_change and args.run_dir == str(tmp_path / "my run")
    assert args.config == str(tmp_path / "my run" / "config.yaml")
