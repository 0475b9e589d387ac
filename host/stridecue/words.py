"""What the coach reads: times as mm:ss, pace per 100 m, and what happened in plain words.

Every view (the terminal table, the dashboard tiles, the event lines) words things
here, so they say the same. Statistics, thresholds and latencies are not coach's
words: they appear only where a view is asked to be verbose (``-v``).
"""

from __future__ import annotations

import math
from typing import Any

from stridecue.analysis import Event, EventKind
from stridecue.protocol.records import Pattern, PodCoach

#: per problem: the alert, and the line when the athlete has recovered
_PROBLEM = {
    EventKind.RHYTHM_LOSS: ("rhythm lost", "back in rhythm"),
    EventKind.STRIDE_SHORTENING: ("strides shortening", "stride length back"),
}
_RHYTHM_HOW = {
    "cusum_slower": "cadence dropping",
    "cusum_faster": "cadence rising",
    "variance_cusum": "strides uneven",
}
_CUE = {
    Pattern.RHYTHM: "rhythm buzz",
    Pattern.STRIDE: "stride buzz",
    Pattern.PULSE: "coach's buzz",
    Pattern.IDENTIFY: "identify buzz",
}


def mmss(t_s: float) -> str:
    """``83.4`` → ``01:23``; an hour or more → ``1:02:03``; unknown → ``--:--``."""
    if not math.isfinite(t_s):
        return "--:--"
    t = max(0, int(t_s))
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def pace(speed_mps: float) -> str:
    """Time per 100 m at ``speed_mps``: ``13.2 s/100 m`` (a dash when not running)."""
    if not (math.isfinite(speed_mps) and speed_mps > 0.5):
        return "\u2013"
    return f"{100.0 / speed_mps:.1f} s/100 m"


def alert_name(kind: str) -> str:
    """``rhythm lost`` / ``strides shortening`` for a problem's event kind."""
    return _PROBLEM[EventKind(kind)][0]


def is_problem(kind: str) -> bool:
    return kind in _PROBLEM


def event_line(e: Event, *, verbose: bool = False) -> str:
    """One line for an analyzer event, in the coach's words (statistics with ``verbose``)."""
    d: dict[str, Any] = e.detail
    kind = e.kind
    if kind == EventKind.RHYTHM_LOSS:
        how = _RHYTHM_HOW.get(str(d.get("detector")), "")
        text = "rhythm lost" + (f": {how}" if how else "")
    elif kind == EventKind.STRIDE_SHORTENING:
        pct = d.get("deviation_pct")
        text = "strides shortening" + (f": {abs(float(pct)):.0f} % shorter" if pct else "")
        if d.get("distance_m") is not None:
            text += f" at {float(d['distance_m']):.0f} m"
    elif kind == EventKind.RECOVERED:
        problem = str(d.get("problem", ""))
        text = _PROBLEM[EventKind(problem)][1] if problem in _PROBLEM else "recovered"
    else:
        text = str(kind).replace("_", " ")
    if verbose and "statistic" in d:
        text += f" ({d.get('detector')} {d['statistic']} > {d.get('threshold')})"
    return text


def cue_line(pattern: Pattern, by: str, reason: str = "", *, verbose: bool = False) -> str:
    """``rhythm buzz sent`` / ``coach's buzz sent`` (with the policy's reason when verbose)."""
    what = _CUE.get(pattern, f"{pattern.name.lower()} buzz")
    text = f"{what} sent" + (" (coach)" if by == "coach" and pattern is not Pattern.PULSE else "")
    if verbose and reason:
        text += f": {reason}"
    return text


def pod_coach_line(state: PodCoach) -> str:
    """What the pod's own coach does, from its status: ``pod: pacing``, ``pod: rhythm
    held, in a rep, behind plan``; ``""`` when the pod runs no coach (or cannot say)."""
    if PodCoach.ACTIVE not in state:
        return ""
    parts = []
    if PodCoach.PACER in state:
        parts.append("pacing" if PodCoach.PACING in state else "rhythm held")
    if PodCoach.IN_REP in state:
        parts.append("in a rep")
        if PodCoach.BEHIND in state:
            parts.append("behind plan")
    return "pod: " + (", ".join(parts) if parts else "coach on, no rep")
