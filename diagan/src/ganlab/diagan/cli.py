"""``ganlab diagan ...`` commands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diagan", help="Self-Diagnosing GAN (Lee, Kim, Hong, Lee, Shin; NeurIPS 2021)")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
