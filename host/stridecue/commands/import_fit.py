"""``stridecue import-fit FILE.fit``: a running FIT activity as a session folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stridecue.links.replay import sessions_root


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import-fit",
        help="turn a running FIT activity (a watch with a Stryd, running dynamics, a "
        "StrideCue export) into a session folder",
        description=(
            "Rebuilds the strides from the FIT records' cadence and speed (stance time as "
            "contact time when the file has it) and records them as a session that replay, "
            "analyze, report and export read like any other; session.json says what the "
            "file lacked."
        ),
    )
    p.add_argument("file", type=Path, help="the .fit file")
    p.add_argument("--athlete", default="", help="the athlete's name (default: the file name)")
    p.add_argument(
        "--sessions-dir",
        type=Path,
        default=None,
        help="where to write the session ($STRIDECUE_SESSIONS or ~/stridecue-sessions)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stridecue.fitin import read, write_session

    fit = read(args.file)
    root: Path = args.sessions_dir or sessions_root()
    path = write_session(fit, args.file, root, args.athlete)
    length = sum(s[2] for s in fit.strides)
    print(
        f"{args.file.name}: {len(fit.strides)} strides, {length:.0f} m "
        f"(missing: {', '.join(fit.missing)}) -> {path}"
    )
    return 0
