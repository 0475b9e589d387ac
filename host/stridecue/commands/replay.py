"""``stridecue replay SESSION``: play a recorded session through the live pipeline."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from stridecue.commands._practice import add_practice_args, dashboard_address, sessions_dir
from stridecue.errors import ConfigError
from stridecue.links import ReplayOptions, open_link
from stridecue.links.replay import ReplayLink
from stridecue.liveview import run_practice, summary
from stridecue.practice import Practice


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recorded session (1x, Nx or as fast as possible)",
        description=(
            "Play a session back byte for byte through the same analysis and view as a "
            "live practice. A damaged end of a recording is reported (where, how many "
            "bytes) and everything before it plays."
        ),
    )
    p.add_argument("session", help="a session folder, or its name under --sessions-dir")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--speed", type=float, default=1.0, help="times real time (1)")
    speed.add_argument("--fast", action="store_true", help="as fast as possible")
    add_practice_args(p, recording=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.fast and not 0.1 <= args.speed <= 1000:
        raise ConfigError(f"--speed={args.speed:g} is out of range: allowed 0.1..1000 (or --fast)")
    name = args.session
    if args.sessions_dir is not None and (sessions_dir(args) / name).is_dir():
        name = str(sessions_dir(args) / name)
    link = open_link(f"replay:{name}", ReplayOptions(speed=0.0 if args.fast else args.speed))
    assert isinstance(link, ReplayLink)
    practice = Practice([link], analyze=not args.no_analysis, cues=not args.no_cues)
    return asyncio.run(_replay(args, link, practice))


async def _replay(args: argparse.Namespace, link: ReplayLink, practice: Practice) -> int:
    speed = "as fast as possible" if args.fast else f"{args.speed:g}x"
    await run_practice(
        practice,
        f"StrideCue replay at {speed}",
        headless=args.headless,
        dashboard=dashboard_address(args),
        notes=(str(link.target),),
        verbose=args.verbose,
        interactive=False,  # nothing to buzz or mark in a recording
    )
    for tail in link.bad_tails:
        print(f"warning: damaged recording: {tail}", file=sys.stderr)
    for line in summary(practice, verbose=args.verbose):
        print(line)
    if args.verbose:
        print(f"replayed {practice.frames} frames")
    return 0
