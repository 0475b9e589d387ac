"""stridecue analyze STRIDES.csv: run the analyzer over a stride table, print events.

The CSV (UTF-8 text) has a header naming at least t_s,stride_time_s,stride_length_m
(any order, contact_time_s optional, other columns ignored); one stride per row.
An optional flags column carries the pod's stride flags (a number, as `stridecue
export` writes it, or names such as LOW_QUALITY|TURN): a stride the pod could not
vouch for is counted in the distance but not judged (docs/detection.md, "Strides the
pod cannot trust"). Strides with impossible values (NaN, out of range, out of time
order) are counted and skipped. With --json every event is one JSON object per line:
{"t_s": ..., "stride_index": ..., "kind": ..., "detail": {...}}.

Training (docs/training.md): --plan gives the split plan (checkpoints metres:seconds,
e.g. 100:11.5,200:24,400:50; or even:50; or shape:50), each split then says how far
behind (+) or ahead (-) of it; --rep-distance tells the rep's true distance (each rep
is scaled to it, so a 400 m rep always has four 100 m splits); --distance-scale
applies an athlete's calibration (stridecue calibrate). With --all each rep summary
compares the first 200 m with the last 200 m.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import reprlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stridecue.analysis import Analyzer, AnalyzerSettings, Event, EventKind
from stridecue.analysis.plan import Plan
from stridecue.analysis.trust import parse_flags
from stridecue.analysis.types import ALERT_KINDS
from stridecue.commands._pipe import write_lines
from stridecue.errors import StrideCueError
from stridecue.training import rep_words

REQUIRED = ("t_s", "stride_time_s", "stride_length_m")
OPTIONAL = ("contact_time_s", "flags")


class StrideCsvError(StrideCueError):
    """A stride CSV that cannot be read."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="detect rhythm loss, stride shortening and recovery in a stride CSV",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("csv", type=Path, metavar="STRIDES.csv", help="stride table (see above)")
    p.add_argument("--json", action="store_true", help="one JSON object per line per event")
    p.add_argument(
        "--event",
        choices=("sprint", "distance"),
        default="sprint",
        help="default settings for this event group (default: sprint)",
    )
    p.add_argument(
        "--target-cadence",
        type=float,
        metavar="SPM",
        help="baseline rhythm from the coach, in steps/min (instead of the first strides)",
    )
    p.add_argument(
        "--target-stride-length",
        type=float,
        metavar="M",
        help="baseline stride length from the coach, in metres",
    )
    p.add_argument(
        "--goal-400",
        "--goal-400m",
        dest="goal_400m",
        type=float,
        metavar="S",
        help="400 m goal time for splits (as `stridecue report --goal-400`)",
    )
    p.add_argument(
        "--goal-baseline",
        action="store_true",
        help="with --goal-400: judge stride length against the length that holds goal pace",
    )
    p.add_argument(
        "--max-stride-length",
        type=float,
        default=5.5,
        metavar="M",
        help="longer strides (two steps) are rejected as impossible (default 5.5 m)",
    )
    p.add_argument(
        "--all", action="store_true", help="also print rep starts/ends, splits and rep summaries"
    )
    add_distance_options(p)
    p.set_defaults(func=run)


def add_distance_options(p: Any) -> None:
    """--plan, --rep-distance and --distance-scale (also used by other commands)."""
    p.add_argument(
        "--plan",
        metavar="SPEC",
        help="split plan: 100:11.5,200:24,400:50 (metres:seconds), even:50 or shape:50",
    )
    p.add_argument(
        "--rep-distance",
        type=float,
        metavar="M",
        help="each rep's true distance: its strides are scaled to sum to it (and a "
        "plan even:S runs S seconds over it)",
    )
    p.add_argument(
        "--distance-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="the athlete's calibration: stride lengths x F (0.8..1.2; stridecue calibrate)",
    )


def distance_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings --plan, --rep-distance and --distance-scale give (checked later)."""
    return {
        "plan": None if args.plan is None else Plan.for_rep(args.plan, args.rep_distance),
        "rep_distance_m": args.rep_distance,
        "distance_scale": args.distance_scale,
    }


def read_strides(path: Path) -> Iterator[tuple[int, float, float, float, float, int]]:
    """(line number, t_s, stride_time_s, stride_length_m, contact_time_s or NaN, flags or 0)
    per row."""
    try:
        f = path.open(newline="", encoding="utf-8-sig")  # -sig: a spreadsheet's BOM is fine
    except OSError as e:
        raise StrideCsvError(
            f"cannot open {path}: {e.strerror}; give a readable CSV file"
        ) from None
    with f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise StrideCsvError(
                f"{path} is empty; it needs a header line {','.join(REQUIRED)}"
            ) from None
        except (csv.Error, UnicodeDecodeError) as e:
            raise _unreadable(path, reader.line_num, e) from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise StrideCsvError(
                f"{path}: header lacks {', '.join(missing)}; the first line must name "
                f"{','.join(REQUIRED)} (optionally contact_time_s, flags), "
                f"got {reprlib.repr(','.join(header))}"
            )
        cols = [header.index(c) for c in REQUIRED]
        ci = header.index("contact_time_s") if "contact_time_s" in header else -1
        fi = header.index("flags") if "flags" in header else -1
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    raise StrideCsvError(
                        f"{path} line {line}: {len(row)} fields, the header has {len(header)}"
                    )
                t, st, sl = (_number(path, line, header[c], row[c]) for c in cols)
                ct = math.nan
                if ci >= 0 and row[ci].strip():
                    ct = _number(path, line, "contact_time_s", row[ci])
                flags = 0 if fi < 0 else _flags(path, line, row[fi])
                yield line, t, st, sl, ct, flags
        except (csv.Error, UnicodeDecodeError) as e:
            raise _unreadable(path, reader.line_num, e) from None


def _unreadable(path: Path, line: int, e: csv.Error | UnicodeDecodeError) -> StrideCsvError:
    if isinstance(e, UnicodeDecodeError):
        return StrideCsvError(f"{path}: not UTF-8 text, so not a stride CSV; save it as UTF-8 CSV")
    return StrideCsvError(f"{path} line {line}: {e}; one stride per line, fields split by commas")


def _number(path: Path, line: int, name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise StrideCsvError(
            f"{path} line {line}: {name}={reprlib.repr(text.strip())} is not a number "
            "(seconds or metres)"
        ) from None


def _flags(path: Path, line: int, text: str) -> int:
    try:
        return parse_flags(text)
    except ValueError as e:
        raise StrideCsvError(
            f"{path} line {line}: flags {e}; write a number (as stridecue export does), "
            "names such as LOW_QUALITY|TURN, or leave it empty"
        ) from None


def run(args: argparse.Namespace) -> int:
    if args.goal_baseline and args.goal_400m is None:
        raise StrideCsvError("--goal-baseline needs --goal-400 SECONDS (the goal time)")
    settings = AnalyzerSettings.for_event(
        args.event,
        target_cadence_spm=args.target_cadence,
        target_stride_length_m=args.target_stride_length,
        goal_400m_s=args.goal_400m,
        goal_sets_stride_length=args.goal_baseline,
        max_stride_length_m=args.max_stride_length,
        **distance_settings(args),
    )
    analyzer = Analyzer(settings)
    show: set[str] | None = None if args.all else set(ALERT_KINDS)
    shown = [0]
    code = write_lines(_lines(_events(analyzer, args.csv), show, args.json, shown))
    if code:
        return code
    if not shown[0] and not args.json:
        what = "events" if args.all else "rhythm loss or stride shortening"
        more = "" if args.all else " (--all also lists reps and splits)"
        print(f"nothing to report: no {what} in {analyzer.n_accepted} strides{more}")
    rejected = {k: v for k, v in analyzer.rejected.items() if v}
    if rejected:
        parts = ", ".join(f"{k}={v}" for k, v in rejected.items())
        print(f"stridecue analyze: warning: rejected strides: {parts}", file=sys.stderr)
    return 0


def _events(analyzer: Analyzer, path: Path) -> Iterator[Event]:
    for _, t, st, sl, ct, flags in read_strides(path):
        yield from analyzer.feed_values(t, st, sl, ct, -1, flags)
    yield from analyzer.finish()


def _lines(
    events: Iterator[Event], show: set[str] | None, as_json: bool, shown: list[int]
) -> Iterator[str]:
    for e in events:
        if show is not None and e.kind not in show:
            continue
        shown[0] += 1
        if as_json:
            yield json.dumps(e.as_json(), allow_nan=False) + "\n"
        else:
            # reps count from 1 for people (the JSON keeps the 0-based index tools use)
            values = {k: v + 1 if k == "rep" else v for k, v in e.detail.items()}
            detail = " ".join(f"{k}={v}" for k, v in values.items() if not isinstance(v, dict))
            yield f"{e.t_s:9.3f}s  stride {e.stride_index:5d}  {e.kind:18s} {detail}\n"
            if e.kind == EventKind.REP_SUMMARY:
                yield f"{'':36s}{rep_words(e.detail)}\n"
