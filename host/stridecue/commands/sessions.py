"""``stridecue sessions``: the recorded sessions, newest last."""

from __future__ import annotations

import argparse
from typing import Any

from stridecue.commands._practice import sessions_dir
from stridecue.errors import StrideCueError
from stridecue.session import Session, find_sessions


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions: date, athletes, duration",
        description="List the sessions in the sessions folder, with their athletes and length.",
    )
    p.add_argument(
        "--sessions-dir", default=None, help="($STRIDECUE_SESSIONS or ~/stridecue-sessions)"
    )
    p.set_defaults(func=run)


def _duration(s: float) -> str:
    return f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"


def run(args: argparse.Namespace) -> int:
    root = sessions_dir(args)
    paths = find_sessions(root)
    if not paths:
        print(f"no sessions in {root}; record one with `stridecue record LINK...`")
        return 0
    print(f"{'session':<36} {'started (UTC)':<20} {'duration':>9}  athletes")
    for path in paths:
        try:
            s = Session.open(path)
        except StrideCueError as e:
            print(f"{path.name:<36} unreadable: {e}")
            continue
        start = str(s.meta.get("start_time", ""))[:19].replace("T", " ")
        who = ", ".join(sorted(s.athletes.values())) or "-"
        note = "" if s.meta.get("end_time") else "  (not closed: recorder stopped early)"
        if s.bad_tails:
            note += f"  (damaged end in {len(s.bad_tails)} file(s))"
        print(f"{path.name:<36} {start:<20} {_duration(s.duration_s()):>9}  {who}{note}")
    print(f"\n{len(paths)} session(s) in {root}")
    return 0
