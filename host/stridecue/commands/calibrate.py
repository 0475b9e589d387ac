"""stridecue calibrate SESSION --athlete NAME --rep N --distance 400: calibrate a pod's distance.

As a watch does it: the athlete ran a rep of a known distance (a 400 m on the track);
the pod measured its strides a little short or long. The scale ``distance / measured``
is stored for the athlete in the roster file (with the date and the number of reps it
rests on) and combines with earlier calibrations, each weighted by its reps. Live
sessions and analyses then multiply every stride length by it (``stridecue analyze
--distance-scale F``). Reps are numbered from 1, as ``stridecue analyze`` prints them;
--rep may be given more than once (the scale then rests on all of them).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stridecue import roster as rosters
from stridecue.errors import ConfigError
from stridecue.links.replay import resolve_session, sessions_root
from stridecue.sessiondata import load


def register(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate",
        help="store an athlete's distance scale from a rep of known distance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("session", help="session folder, or its name under the sessions root")
    p.add_argument("--athlete", required=True, help="athlete name or pod id")
    p.add_argument(
        "--rep",
        type=int,
        action="append",
        required=True,
        metavar="N",
        help="the rep (1 = the first; repeatable)",
    )
    p.add_argument(
        "--distance", type=float, required=True, metavar="M", help="the rep's true distance"
    )
    p.add_argument("--roster", type=Path, default=None, help="roster file (SESSIONS/roster.toml)")
    p.set_defaults(func=run)


def measured_m(summary: dict[str, Any]) -> float:
    """The pod's own distance for a rep: before calibration and rep scaling."""
    return float(summary.get("measured_distance_m", summary["distance_m"]))


def run(args: argparse.Namespace) -> int:
    if not args.distance > 0:
        raise ConfigError(f"--distance {args.distance:g} must be above 0 m (e.g. 400)")
    folder = resolve_session(args.session)
    athlete = load(folder).athlete(args.athlete)
    measured = []
    for n in args.rep:
        if not 1 <= n <= len(athlete.reps):
            raise ConfigError(
                f"{athlete.name or athlete.pod} has no rep {n} in {folder.name}: "
                f"reps 1..{len(athlete.reps)}"
            )
        measured.append(measured_m(athlete.reps[n - 1].summary))
    total = sum(measured)
    scale = args.distance * len(measured) / total if total > 0 else 0.0
    lo, hi = rosters.SCALE_RANGE
    if not lo <= scale <= hi:
        raise ConfigError(
            f"rep(s) {', '.join(map(str, args.rep))} measured "
            f"{', '.join(f'{m:.1f}' for m in measured)} m: scale {scale:.3f} for "
            f"{args.distance:g} m is outside {lo:g}..{hi:g}; is it the right rep and distance?"
        )
    new = rosters.Calibration(round(scale, 5), len(measured), rosters.today())
    path = args.roster or rosters.default_path(sessions_root())
    name = athlete.name or athlete.pod
    stored = rosters.calibrate(path, name, new)
    reps = ", ".join(f"rep {n} {m:.1f} m" for n, m in zip(args.rep, measured, strict=True))
    print(f"{name}: {reps} for {args.distance:g} m each: scale {scale:.4f}")
    print(
        f"{name}: stored scale {stored.scale:.4f} on {stored.reps} rep(s), {stored.date}, in {path}"
    )
    return 0
