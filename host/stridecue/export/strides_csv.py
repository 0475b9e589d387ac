"""Per-stride CSV, one file per athlete, with the analysis columns a spreadsheet needs.

Names come from the session's metadata: one that a spreadsheet would take for a
formula (``=HYPERLINK(...)``) is written with a leading quote, as text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from stridecue.export.checked import replace_file
from stridecue.sessiondata import AthleteData

COLUMNS = (
    "athlete",
    "pod",
    "seq",
    "t_s",
    "device_ms",
    "stride_time_s",
    "contact_time_s",
    "stride_length_m",
    "cadence_spm",
    "speed_mps",
    "distance_m",
    "rep",
    "flags",
)


def rep_of(a: AthleteData, t_s: float) -> int | None:
    """1-based rep number the time falls in, or None (recovery)."""
    for r in a.reps:
        if r.start_s <= t_s <= r.end_s:
            return r.index + 1
    return None


def _text(value: str) -> str:
    """A name a spreadsheet shows as text: one that would start a formula gets a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_csv(a: AthleteData, path: Path) -> Path:
    """Write ``a``'s strides to ``path``; the header is :data:`COLUMNS`."""
    distance = 0.0
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(COLUMNS)
    for s in a.strides:
        distance += s.stride_length_m
        rep = rep_of(a, s.t_s)
        w.writerow(
            (
                _text(a.name),
                _text(a.pod),
                s.seq,
                f"{s.t_s:.3f}",
                s.device_ms,
                f"{s.stride_time_s:.3f}",
                "" if a.rsc_only else f"{s.contact_time_s:.3f}",
                f"{s.stride_length_m:.3f}",
                f"{s.cadence_spm:.1f}",
                f"{s.speed_mps:.3f}",
                f"{distance:.2f}",
                "" if rep is None else rep,
                s.flags,
            )
        )
    return replace_file(path, text.getvalue().encode("utf-8"))
