"""The ``ganlab`` command.

Subcommands come from the ``ganlab.commands`` entry-point group: each installed package registers a function
``register(subparsers)`` that adds its commands (``ganlab diagan ...``, ``ganlab instance-selection ...``). Core's own
commands (``data``, ``train``, ``sample``, ``eval``, ``features``) live in the modules listed below, each with a
``register(subparsers)`` function.

Errors caused by user input (:class:`~ganlab.core.errors.GanlabError`) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from ganlab.core.errors import GanlabError

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
    """The trailing ``key.sub=value`` overrides that every config-driven command accepts."""
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides, e.g. train.steps=1000"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
