"""The ``ganlab`` command. One grammar for every package::

    ganlab [PACKAGE] COMMAND CONFIG [key=value ...] [--options]

CONFIG is the thing the command works on (a YAML file or shipped config name, an experiment, a suite, a run
directory); ``key=value`` are dotted config overrides and may stand before, between or after the options.

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    _collect_overrides(parser, args, extra)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
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
