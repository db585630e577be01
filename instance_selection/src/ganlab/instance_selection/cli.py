"""``ganlab instance-selection ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "instance-selection", help="Instance Selection for GANs (DeVries, Drozdzal, Taylor; NeurIPS 2020)"
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
