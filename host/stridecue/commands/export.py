"""``stridecue export SESSION --format csv|fit``: per-stride CSV or FIT activities."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from stridecue.links.replay import resolve_session


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a recorded session: per-stride CSV or a FIT activity per athlete",
        description=(
            "Writes one file per athlete. csv: every stride with its time, cadence, stride "
            "length, contact time, speed, distance and rep. fit: a running activity that "
            "opens in Garmin Connect, Strava and other tools (records each second, a lap per "
            "rep and per recovery)."
        ),
    )
    p.add_argument("session", help="session folder, or its name under the sessions root")
    p.add_argument("--format", choices=("csv", "fit"), default="csv", help="file format (csv)")
    p.add_argument("-o", "--out", type=Path, help="output folder (default: SESSION/export)")
    p.add_argument("--athlete", action="append", help="only this athlete (name or pod id)")
    p.set_defaults(func=run)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "athlete"


def run(args: argparse.Namespace) -> int:
    from stridecue.export import write_csv, write_fit  # FIT SDK loads only when used
    from stridecue.sessiondata import load

    folder = resolve_session(args.session)
    data = load(folder)
    athletes = [data.athlete(k) for k in args.athlete] if args.athlete else data.athletes
    out: Path = args.out or folder / "export"
    out.mkdir(parents=True, exist_ok=True)
    for a in athletes:
        if not a.strides:
            print(f"{a.name}: no strides, nothing to export")
            continue
        path = out / f"{data.name}-{_slug(a.name)}.{args.format}"
        if args.format == "csv":
            write_csv(a, path)
        else:
            write_fit(data, a, path)
        print(f"{a.name}: {len(a.strides)} strides, {len(a.reps)} rep(s) -> {path}")
    return 0
