"""``stridecue record LINK...``: record a practice (and coach it live)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from stridecue.commands._practice import add_practice_args, record_or_watch
from stridecue.links import usage


def register(sub: Any) -> None:
    p = sub.add_parser(
        "record",
        help="record a practice: every frame of every pod, cues sent, coach marks",
        description=(
            "Connect to the pods, record every frame they send (with host receive times), "
            "the cues sent and the coach's marks into a new session folder, while showing "
            "the live view. Stop with Ctrl-C or --duration. Lines typed while recording: "
            "`cue NAME` buzzes an athlete, anything else is a mark."
        ),
    )
    p.add_argument("links", nargs="+", metavar="LINK", help=f"pods: {usage()}")
    add_practice_args(p, recording=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(record_or_watch(args, record=True))
