"""The ``ganlab`` command. One grammar for every package::

    ganlab [PACKAGE] COMMAND [TARGET] [--options] [key=value ...]

PACKAGE is the distribution's short name (``ganlab-instance-selection`` -> ``instance-selection``). TARGET is the
thing the command works on (a YAML file or shipped config name, a suite, a run directory); ``key=value`` are dotted
config overrides and may stand before, between or after the options. Options mean one thing each:

    --run-dir RUN   a run folder: the one a training writes (or resumes), or the run a command reads
    --out-dir DIR   a folder the command writes its outputs into
    --out-file F    a single file the command writes
    -n / --num N    how many (samples, images, instances)
    --seed S        the random seed          --scale S   smoke | mini | paper

``ganlab repro run PACKAGE/EXPERIMENT`` is the one way to run a reproduction. Old spellings (``--out``, ``--n``,
``out_dir=``, ``multigan``, ``instance_selection``, ``ganlab PACKAGE repro EXP``) still work for one release and
print a one-line deprecation notice on stderr (see :data:`PACKAGES`, :func:`add_out`, :func:`add_num`).

Subcommands come from the ``ganlab.commands`` entry-point group: each installed package registers a function
``register(subparsers)`` that adds its commands (``ganlab diagan ...``, ``ganlab instance-selection ...``). Core's own
commands (``data``, ``train``, ``sample``, ``eval``, ``features``, ``repro``, ``demo``) live in the modules listed
below, each with a ``register(subparsers)`` function. Registering imports no torch: ``ganlab --help`` stays fast.

Errors caused by user input (:class:`~ganlab.core.errors.GanlabError`) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from ganlab.core.errors import ConfigError, GanlabError

OVERRIDE = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*=")

# package command name (the distribution's short name) -> older spellings kept for one release
PACKAGES: dict[str, tuple[str, ...]] = {
    "diagan": (),
    "gold": (),
    "icgan": (),
    "instance-selection": ("instance_selection",),
    "multigan-boosting": ("multigan", "multigan_boosting"),
}
OLD_PACKAGE_NAMES = {old: new for new, olds in PACKAGES.items() for old in olds}


def canonical_package(name: str) -> str:
    """A package's command name for any of its spellings (``multigan`` -> ``multigan-boosting``)."""
    return OLD_PACKAGE_NAMES.get(name, name)


def deprecated(old: str, new: str) -> None:
    """The one-line notice an old spelling prints (on stderr) when it is used."""
    print(f"ganlab: deprecated: {old} -> use {new} (the old spelling goes in the next release)", file=sys.stderr)


class DeprecatedOption(argparse.Action):
    """An old option spelling: hidden from the help, stores into the new option's dest, prints a notice."""

    def __init__(self, option_strings, dest, replacement: str, **kwargs):
        self.replacement = replacement
        kwargs.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        deprecated(str(option_string), self.replacement)
        setattr(namespace, self.dest, values)


def _require(parser: argparse.ArgumentParser, dest: str, flag: str) -> None:
    """``flag`` is required, but may come through an old spelling too (checked in :func:`main` after parsing)."""
    parser.set_defaults(_required=[*(parser.get_default("_required") or []), (dest, flag, parser.prog)])


def add_out(
    parser: argparse.ArgumentParser,
    kind: str,
    help: str,
    *,
    required: bool = False,
    default: str | None = None,
    dest: str = "out",
    old: tuple[str, ...] = ("--out",),
) -> None:
    """``--out-dir`` (kind ``dir``), ``--out-file`` (``file``) or both (``either``: a file or a folder) into
    ``args.<dest>``; the old ``--out`` stores there too, with a notice."""
    flags = {"dir": ["--out-dir"], "file": ["--out-file"], "either": ["--out-file", "--out-dir"]}[kind]
    for flag in flags:
        parser.add_argument(flag, dest=dest, default=default, metavar=flag[6:].upper(), help=help)
    for o in old:
        parser.add_argument(o, dest=dest, action=DeprecatedOption, replacement=" or ".join(flags))
    if required:
        _require(parser, dest, " or ".join(flags))


def add_num(parser: argparse.ArgumentParser, help: str, *, default: int | None = None, old=("--n",)) -> None:
    """``-n/--num`` into ``args.num``; the old ``--n`` stores there too, with a notice."""
    parser.add_argument("-n", "--num", type=int, default=default, help=help)
    for o in old:
        parser.add_argument(o, dest="num", type=int, action=DeprecatedOption, replacement="-n/--num")


def add_run(parser: argparse.ArgumentParser, help: str, *, dest: str = "run") -> None:
    """The run a command reads: ``--run-dir RUN`` or, as the command's target, a positional ``RUN``."""
    parser.add_argument(dest, nargs="?", default=None, metavar="RUN", help=f"{help} (or --run-dir RUN)")
    parser.add_argument("--run-dir", dest=f"_{dest}_option", default=None, metavar="RUN", help=help)
    parser.set_defaults(_runs=[*(parser.get_default("_runs") or []), (dest, parser.prog)])


def _finish(args: argparse.Namespace) -> None:
    """After parsing: merge ``--run-dir`` with a positional RUN, check the requirements old spellings share."""
    for dest, prog in getattr(args, "_runs", []):
        given, option = getattr(args, dest), getattr(args, f"_{dest}_option")
        if given is not None and option is not None and given != option:
            _usage_error(prog, f"RUN given twice ({given} and --run-dir {option}); pass one")
        if given is None and option is None:
            _usage_error(prog, "the following arguments are required: --run-dir (or RUN)")
        setattr(args, dest, given if given is not None else option)
    for dest, flag, prog in getattr(args, "_required", []):
        if getattr(args, dest, None) is None:
            _usage_error(prog, f"the following arguments are required: {flag}")


def _usage_error(prog: str, message: str) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _rewrite_old_names(argv: list[str]) -> list[str]:
    """``ganlab multigan ...`` -> ``ganlab multigan-boosting ...`` (with a notice)."""
    i = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if i is not None and argv[i] in OLD_PACKAGE_NAMES:
        new = OLD_PACKAGE_NAMES[argv[i]]
        deprecated(f"ganlab {argv[i]}", f"ganlab {new}")
        argv = [*argv[:i], new, *argv[i + 1 :]]
    return argv


def add_config_out_dir(parser: argparse.ArgumentParser) -> None:
    """``--out-dir DIR`` of a training command: the config's ``out_dir`` (the run goes to DIR/<name> unless
    ``--run-dir`` names it); the override ``out_dir=DIR`` still works, with a notice."""
    what = "the run goes to DIR/<config name> (the config's out_dir; --run-dir names the run folder exactly)"
    parser.add_argument("--out-dir", dest="_config_out_dir", default=None, metavar="DIR", help=what)


def _config_out_dir(args: argparse.Namespace) -> None:
    if not hasattr(args, "_config_out_dir"):
        return
    for o in args.overrides or []:
        if o.startswith("out_dir="):
            deprecated(o, f"--out-dir {o.partition('=')[2]}")
    if args._config_out_dir is not None:
        args.overrides = [*(args.overrides or []), f"out_dir={args._config_out_dir}"]


CORE_COMMAND_MODULES = (
    "ganlab.core.repro",
    "ganlab.core.data.cli",
    "ganlab.core.train.cli",
    "ganlab.core.features.cli",
    "ganlab.core.metrics.cli",
)


def register_core(subparsers: argparse._SubParsersAction) -> None:
    """Add core's commands; a module that does not exist yet is skipped."""
    for name in CORE_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganlab",
        description="Data-centric GAN training: instance selection, Dia-GAN, GOLD, IC-GAN, multi-GAN boosting.",
    )
    parser.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen = set()
    for ep in sorted(entry_points(group="ganlab.commands"), key=lambda e: (e.name != "core", e.name)):
        if ep.name in seen:  # the same distribution found twice on sys.path
            continue
        seen.add(ep.name)
        ep.load()(subparsers)
    if "core" not in seen:  # running from a source tree without installed metadata
        register_core(subparsers)
    return parser


def add_overrides_argument(parser: argparse.ArgumentParser) -> None:
    """The ``key.sub=value`` overrides every config-driven command accepts (anywhere on the command line)."""
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides, e.g. train.steps=1000"
    )


def parse_key_values(items: Sequence[str] | None, what: str = "option") -> dict[str, Any]:
    """``["rho=0.95", "k=5"]`` -> ``{"rho": 0.95, "k": 5}`` (values read as YAML)."""
    import yaml

    out: dict[str, Any] = {}
    for text in items or []:
        key, sep, raw = str(text).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"malformed {what} {text!r}: write KEY=VALUE, e.g. rho=0.95")
        try:
            out[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"malformed {what} {text!r}: {exc}") from None
    return out


def _collect_overrides(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> None:
    """Overrides that argparse left over (placed after options) join ``args.overrides``; anything else is an error."""
    stray = [a for a in extra if OVERRIDE.match(a)]
    unknown = [a for a in extra if not OVERRIDE.match(a)]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    for name in ("experiments", "keys"):  # a list positional may have swallowed overrides placed right after it
        values = getattr(args, name, None)
        if isinstance(values, list):
            stray = [v for v in values if OVERRIDE.match(v)] + stray
            setattr(args, name, [v for v in values if not OVERRIDE.match(v)])
    if stray:
        if not hasattr(args, "overrides"):
            parser.error(f"this command takes no key=value overrides: {' '.join(stray)}")
        args.overrides = [*(args.overrides or []), *stray]


def parse(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The real parser's reading of a command line (old spellings rewritten, overrides collected)."""
    parser = parser or build_parser()
    args, extra = parser.parse_known_args(_rewrite_old_names(list(sys.argv[1:] if argv is None else argv)))
    _collect_overrides(parser, args, extra)
    _finish(args)
    _config_out_dir(args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    func = getattr(args, "func", None)
    if func is None:
        build_parser().print_help()
        return 0
    try:
        result = func(args)
    except GanlabError as exc:
        if args.traceback:
            raise
        print(f"ganlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganlab: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
