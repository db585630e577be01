"""``ganlab bench ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="compare methods on common settings")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
