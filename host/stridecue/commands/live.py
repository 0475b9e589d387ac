"""``stridecue live LINK...``: watch athletes live (and cue them) without recording."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from stridecue.commands._practice import add_practice_args, record_or_watch
from stridecue.links import usage


def register(sub: Any) -> None:
    p = sub.add_parser(
        "live",
        help="live view: one row per athlete (cadence, stride length, contact, alerts)",
        description=(
            "Connect to one or more pods and show each athlete's cadence, stride length, "
            "contact time, link state and alerts, cueing when form breaks down. "
            "Use `stridecue record` to keep the session."
        ),
    )
    p.add_argument("links", nargs="+", metavar="LINK", help=f"pods: {usage()}")
    add_practice_args(p, recording=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(record_or_watch(args, record=False))
