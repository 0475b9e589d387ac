"""First 200 m against last 200 m of a rep: did the athlete hold rhythm and stride?

Each section is measured on distance (the rep's strides after any scaling): a stride
that crosses a section's edge counts for the fraction of its length inside, so the
sections are exact in metres. Per section: cadence (steps/min), stride length (m),
speed (m/s) and, when the strides carry it, ground contact time (s).

The sections never overlap: in a rep of 400 m or more they are the first and the last
200 m; in a shorter rep (down to :data:`MIN_REP_M`) they are its two halves, and each
section says where it starts and ends (``from_m``, ``to_m``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SECTION_M = 200.0
#: shorter reps get no comparison
MIN_REP_M = 100.0
METRICS = ("cadence_spm", "stride_length_m", "speed_mps", "contact_time_s")


def section(
    stride_time_s: Sequence[float],
    stride_length_m: Sequence[float],
    contact_time_s: Sequence[float],
    from_m: float,
    to_m: float,
) -> dict[str, Any]:
    """Cadence, stride length, speed (and contact time) over ``from_m``..``to_m``."""
    n = t = d = ct = ct_n = 0.0
    covered = 0.0
    for st, sl, c in zip(stride_time_s, stride_length_m, contact_time_s, strict=True):
        start = covered
        covered += sl
        if covered <= from_m or sl <= 0.0:
            continue
        if start >= to_m:
            break
        w = (min(covered, to_m) - max(start, from_m)) / sl
        n += w
        t += w * st
        d += w * sl
        if c == c:
            ct += w * c
            ct_n += w
    out: dict[str, Any] = {"from_m": round(from_m, 1), "to_m": round(to_m, 1)}
    out["cadence_spm"] = round(120.0 * n / t, 1) if t > 0 else None
    out["stride_length_m"] = round(d / n, 3) if n > 0 else None
    out["speed_mps"] = round(d / t, 3) if t > 0 else None
    if ct_n > 0:
        out["contact_time_s"] = round(ct / ct_n, 4)
    return out


def compare(
    stride_time_s: Sequence[float],
    stride_length_m: Sequence[float],
    contact_time_s: Sequence[float],
) -> dict[str, Any]:
    """``first_200``, ``last_200`` and ``last_vs_first_pct`` ({} for a rep under 100 m)."""
    total = math.fsum(stride_length_m)
    if total < MIN_REP_M:
        return {}
    half = min(SECTION_M, total / 2.0)
    first = section(stride_time_s, stride_length_m, contact_time_s, 0.0, half)
    last = section(stride_time_s, stride_length_m, contact_time_s, total - half, total)
    change: dict[str, float | None] = {}
    for k in METRICS:
        a, b = first.get(k), last.get(k)
        if a is None or b is None:
            if k != "contact_time_s":
                change[k] = None
            continue
        change[k] = round(100.0 * (b / a - 1.0), 1) if a else None
    return {"first_200": first, "last_200": last, "last_vs_first_pct": change}
