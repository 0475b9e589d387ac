"""``stridecue export --format parquet``: a session, or every session, as Parquet tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from stridecue.commands.export import ExportUsage
from stridecue.errors import StrideCueError
from stridecue.links.replay import resolve_session, sessions_root
from stridecue.session import SessionError, find_sessions


def run_parquet(args: argparse.Namespace) -> int:
    if args.format != "parquet":
        raise ExportUsage("--all exports Parquet only: add --format parquet")
    if args.athlete:
        raise ExportUsage("--athlete is for csv and fit; Parquet holds every athlete")
    try:
        from stridecue.export.parquet import write_session
    except ImportError as e:  # pyarrow is the optional extra stridecue[parquet]
        raise ExportUsage(
            f"Parquet export needs pyarrow ({e}): pip install 'stridecue[parquet]'"
        ) from None
    from stridecue.sessiondata import load

    if not args.all:
        if args.session is None:
            raise ExportUsage("name the SESSION to export (or --all)")
        folder = resolve_session(args.session)
        data = load(folder)
        if not any(a.strides for a in data.athletes):
            raise ExportUsage(
                f"no strides recorded in {folder} (no pod strides, no RSC measurements): "
                "nothing to export"
            )
        out = write_session(data, args.out or folder / "export")
        n = sum(len(a.strides) for a in data.athletes)
        print(f"{data.name}: {n} strides, {len(data.athletes)} athlete(s) -> {out}")
        return 0
    root = Path(args.session) if args.session else sessions_root()
    folders = find_sessions(root)
    if not folders:
        raise ExportUsage(f"no sessions in {root}: nothing to export")
    out_root: Path = args.out or root / "parquet"
    written = 0
    for folder in folders:
        try:
            data = load(folder)
        except StrideCueError as e:  # one damaged session does not stop the others
            print(f"{folder.name}: skipped, {e}")
            continue
        if not any(a.strides for a in data.athletes):
            print(f"{folder.name}: skipped, no strides")
            continue
        write_session(data, out_root)
        written += 1
        print(f"{folder.name}: {sum(len(a.strides) for a in data.athletes)} strides")
    if not written:
        raise SessionError(f"none of the {len(folders)} sessions in {root} has strides")
    print(f"{written} of {len(folders)} session(s) -> {out_root}")
    return 0
