"""``stridecue report SESSION``: an HTML report with PNG figures for a recorded session."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stridecue.analysis.targets import Targets
from stridecue.commands._pipe import cannot_write
from stridecue.links.replay import resolve_session
from stridecue.session import confine


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write an HTML report (and PNG figures) of a recorded session",
        description=(
            "Per athlete: cadence and stride length over the session with reps shaded and "
            "alerts marked, a per-rep table, 100 m splits, fatigue index; with --relay, "
            "both runners' speeds through each exchange."
        ),
    )
    p.add_argument("session", help="session folder, or its name under the sessions root")
    p.add_argument("-o", "--out", type=Path, help="output folder (default: SESSION/report)")
    p.add_argument(
        "--relay",
        help="relay order as athlete names or pod ids, comma separated (e.g. Ada,Ben,Cleo,Dan)",
    )
    p.add_argument(
        "--goal-400",
        type=float,
        help="400 m goal time in s: analyse with it (instead of the targets set live) "
        "and draw its split plan",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stridecue.report import load, write  # matplotlib loads only when used

    folder = resolve_session(args.session)
    targets = None if args.goal_400 is None else Targets(goal_400_s=args.goal_400)
    data = load(folder, targets=targets)
    relay = [x.strip() for x in args.relay.split(",") if x.strip()] if args.relay else []
    for key in relay:
        data.athlete(key)  # a clear error before any file is written
    out = args.out or confine(folder, folder / "report", "remove that link, or give -o DIR")
    try:
        path = write(data, out, relay=relay)
    except OSError as e:
        raise cannot_write(e, out, "write the report elsewhere with -o DIR") from None
    for problem in data.problems:
        print(f"note: {problem}")
    print(f"report: {path}")
    return 0
