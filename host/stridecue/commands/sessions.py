"""``stridecue sessions``: the recorded sessions, newest last (``--repair`` rebuilds metadata)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stridecue.commands._practice import sessions_dir
from stridecue.errors import StrideCueError
from stridecue.session import Session, find_sessions, printable


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions: date, athletes, duration",
        description=(
            "List the sessions in the sessions folder, with their athletes and length. A "
            "damaged session is listed as such, with what is wrong. --repair SESSION "
            "rebuilds a missing or damaged session.json from what is left (the old file "
            "is kept beside it)."
        ),
    )
    p.add_argument(
        "--sessions-dir", default=None, help="($STRIDECUE_SESSIONS or ~/stridecue-sessions)"
    )
    p.add_argument(
        "--repair",
        metavar="SESSION",
        help="rebuild SESSION's session.json from its frame files and what of it is sound",
    )
    p.set_defaults(func=run)


def _duration(s: float) -> str:
    return f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"


def _started(s: Session) -> str:
    start = s.meta.get("start_time")
    if isinstance(start, str):
        return start[:19].replace("T", " ")
    if not s.start_ns:
        return ""
    return f"{datetime.fromtimestamp(s.start_ns / 1e9, UTC):%Y-%m-%d %H:%M:%S}"


def _row(path: Path) -> str | None:
    """The listing's line for one session, or None when it is damaged."""
    s = Session.open(path)
    who = ", ".join(sorted(s.athletes.values())) or "-"
    note = "" if s.meta.get("end_time") else "  (not closed: recorder stopped early)"
    if "repaired" in s.meta:
        note = "  (metadata rebuilt by --repair)"
    if s.bad_tails:
        note += f"  (damaged end in {len(s.bad_tails)} file(s))"
    others = s.problems[len(s.bad_tails) :]
    if others:
        note += f"  ({len(others)} problem(s): {others[0]})"
    name = printable(path.name)
    return f"{name:<36} {_started(s):<20} {_duration(s.duration_s()):>9}  {who}{note}"


def run(args: argparse.Namespace) -> int:
    root = sessions_dir(args)
    if args.repair is not None:
        return _repair(args.repair, root)
    paths = find_sessions(root)
    if not paths:
        print(f"no sessions in {root}; record one with `stridecue record LINK...`")
        return 0
    print(f"{'session':<36} {'started (UTC)':<20} {'duration':>9}  athletes")
    damaged = []
    for path in paths:
        try:
            print(_row(path))
        except StrideCueError as e:
            damaged.append(printable(path.name))
            why = str(e).replace(f"{path}{os.sep}", "")  # its files by their names
            print(f"{damaged[-1]:<36} damaged: {printable(why)}")
    print(f"\n{len(paths)} session(s) in {root}")
    if damaged:
        print(
            f"stridecue sessions: error: {len(damaged)} of {len(paths)} sessions damaged "
            f"({', '.join(damaged[:3])}{', ...' if len(damaged) > 3 else ''}): "
            "what is wrong is listed above",
            file=sys.stderr,
        )
        return 1
    return 0


def _repair(name: str, root: Path) -> int:
    from stridecue.recorder import repair

    folder = Path(name).expanduser()
    if not folder.is_dir() and (root / name).is_dir():
        folder = root / name
    print(repair(folder))
    return 0
