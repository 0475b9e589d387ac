"""``stridecue export SESSION --format csv|fit|parquet``: per-stride CSV, FIT activities,
or Parquet tables (also of every session at once: ``export --all --format parquet``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from stridecue.errors import StrideCueError
from stridecue.links.replay import resolve_session


class ExportUsage(StrideCueError):
    """An export asked for with options that do not go together."""


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
    p.add_argument(
        "session",
        nargs="?",
        help="session folder, or its name under the sessions root; with --all the "
        "sessions folder (default: the sessions root)",
    )
    p.add_argument(
        "--format", choices=("csv", "fit", "parquet"), default="csv", help="file format (csv)"
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="output folder (default: SESSION/export; with --all: SESSIONS/parquet)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="every session of the sessions folder (parquet only): one folder per session",
    )
    p.add_argument("--athlete", action="append", help="only this athlete (name or pod id)")
    p.set_defaults(func=run)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "athlete"


def run(args: argparse.Namespace) -> int:
    if args.format == "parquet" or args.all:
        from stridecue.commands._export_parquet import run_parquet  # pyarrow only when used

        return run_parquet(args)
    if args.session is None:
        raise ExportUsage("name the SESSION to export (or --all --format parquet)")
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
