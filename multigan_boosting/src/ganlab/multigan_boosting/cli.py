"""``ganlab multigan-boosting ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "multigan-boosting", help="Boosting Generative Networks for Incremental Learning (Slim, 2020)"
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
