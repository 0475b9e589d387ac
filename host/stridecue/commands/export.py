"""``stridecue export SESSION --format csv|fit|parquet``: per-stride CSV, FIT activities,
or Parquet tables (also of every session at once: ``export --all --format parquet``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stridecue.commands._pipe import cannot_write
from stridecue.errors import StrideCueError
from stridecue.links.replay import resolve_session
from stridecue.session import confine


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


def run(args: argparse.Namespace) -> int:
    if args.format == "parquet" or args.all:
        from stridecue.commands._export_parquet import run_parquet  # pyarrow only when used

        return run_parquet(args)
    if args.session is None:
        raise ExportUsage("name the SESSION to export (or --all --format parquet)")
    from stridecue.export import ExportError, exportable, write_csv, write_fit  # FIT SDK here
    from stridecue.export.checked import limits
    from stridecue.sessiondata import file_stems, load

    folder = resolve_session(args.session)
    data = load(folder)
    athletes = [data.athlete(k) for k in args.athlete] if args.athlete else data.athletes
    limit = data.settings.max_stride_length_m
    checked = [exportable(a, limit) for a in athletes]
    if not any(a.strides for a, _ in checked):
        whose = f" of {', '.join(a.name for a in athletes)}" if args.athlete else ""
        left_out = sum(n for _, n in checked)
        if left_out:
            raise ExportError(
                f"{folder}: all {left_out} strides recorded{whose} are impossible "
                f"({limits(limit)}): nothing to export; `stridecue replay` shows them"
            )
        raise ExportError(f"no strides recorded{whose} in {folder}: nothing to export")
    for problem in data.problems:
        print(f"note: {problem}")
    out: Path = args.out or confine(folder, folder / "export", "remove that link, or give -o DIR")
    stems = file_stems(data.athletes)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for a, left_out in checked:
            if not a.strides:
                print(f"{a.name}: no strides, nothing to export")
                continue
            path = out / f"{data.name}-{stems[a.pod]}.{args.format}"
            if args.format == "csv":
                write_csv(a, path)
            else:
                write_fit(data, a, path)
            skipped = f" ({left_out} impossible left out)" if left_out else ""
            print(f"{a.name}: {len(a.strides)} strides{skipped}, {len(a.reps)} rep(s) -> {path}")
    except BrokenPipeError:
        raise  # stdout's reader left: the boundary (cli.main) ends quietly
    except OSError as e:
        raise cannot_write(e, out, "export elsewhere with -o DIR") from None
    return 0
