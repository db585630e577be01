"""``ganlab icgan ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "icgan", help="Instance-Conditioned GAN (Casanova, Careil, Verbeek, Drozdzal, Romero-Soriano; NeurIPS 2021)"
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
