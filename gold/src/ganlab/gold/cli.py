"""``ganlab gold ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gold", help="Mining GOLD Samples for Conditional GANs (Mo, Kim, Kim, Cho, Shin; NeurIPS 2019)"
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
