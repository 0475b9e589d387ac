"""A FIT activity per athlete, written with Garmin's own FIT SDK (``garmin-fit-sdk``).

Records are written once a second (what watches and Garmin Connect, Strava or
GoldenCheetah expect): distance, speed, cadence (FIT counts strides of one foot per
minute, "rpm", plus the fractional part), step length and ground contact time, from
the strides that ended in that second. Laps follow the session: each rep is an
active lap, the time between reps a rest lap, and the coach's lap marks split them.
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from garmin_fit_sdk import Encoder, Profile

from stridecue.export import fit_parts
from stridecue.sessiondata import AthleteData, SessionData, Stride

MESG = Profile["mesg_num"]
PRODUCT_NAME = "StrideCue"


@dataclass(frozen=True, slots=True)
class Segment:
    start_s: float
    end_s: float
    active: bool
    strides: tuple[Stride, ...]

    @property
    def distance_m(self) -> float:
        return sum(s.stride_length_m for s in self.strides)


def segments(a: AthleteData) -> list[Segment]:
    """The laps: cut at every rep start/end and coach lap mark, covering all strides."""
    if not a.strides:
        return []
    first = a.strides[0].t_s - a.strides[0].stride_time_s
    last = a.strides[-1].t_s
    cuts = {first, last}
    for r in a.reps:
        cuts.update((r.start_s, r.end_s))
    cuts.update(t for t, text in a.marks if text.lower().startswith("lap"))
    edges = sorted(c for c in cuts if first <= c <= last)
    out: list[Segment] = []
    for lo, hi in itertools.pairwise(edges):
        if hi - lo < 0.5:
            continue
        inside = tuple(s for s in a.strides if lo < s.t_s <= hi)
        active = any(r.start_s <= (lo + hi) / 2 <= r.end_s for r in a.reps)
        out.append(Segment(lo, hi, active, inside))
    return out


def _when(start: datetime, t_s: float) -> datetime:
    return start + timedelta(seconds=t_s)


def _cadence(strides: tuple[Stride, ...] | list[Stride]) -> tuple[int, float] | None:
    """FIT cadence (strides/min) as whole and fractional parts."""
    if not strides:
        return None
    per_min = 60.0 * len(strides) / sum(s.stride_time_s for s in strides)
    whole = int(per_min)
    return whole, per_min - whole


def _records(enc: Encoder, a: AthleteData, start: datetime) -> None:
    by_second: dict[int, list[Stride]] = {}
    for s in a.strides:
        by_second.setdefault(math.floor(s.t_s), []).append(s)
    distance = 0.0
    for sec in sorted(by_second):
        group = by_second[sec]
        distance += sum(s.stride_length_m for s in group)
        cad = _cadence(group)
        assert cad is not None
        speed = sum(s.stride_length_m for s in group) / sum(s.stride_time_s for s in group)
        rec: dict[str, Any] = {
            "mesg_num": MESG["RECORD"],
            "timestamp": _when(start, sec + 1),
            "distance": round(distance, 2),
            "speed": round(speed, 3),
            "enhanced_speed": round(speed, 3),
            "cadence": cad[0],
            "fractional_cadence": round(cad[1], 3),
            "step_length": round(500.0 * sum(s.stride_length_m for s in group) / len(group), 1),
        }
        contact = [s.contact_time_s for s in group if s.contact_time_s > 0]
        if contact:
            rec["stance_time"] = round(1000.0 * sum(contact) / len(contact), 1)
        enc.write_mesg(rec)


def _summary(
    seg_strides: tuple[Stride, ...] | list[Stride], t0: float, t1: float
) -> dict[str, Any]:
    dist = sum(s.stride_length_m for s in seg_strides)
    elapsed = max(t1 - t0, 0.001)
    out: dict[str, Any] = {
        "total_elapsed_time": round(elapsed, 3),
        "total_timer_time": round(elapsed, 3),
        "total_distance": round(dist, 2),
        "avg_speed": round(dist / elapsed, 3),
        "total_cycles": len(seg_strides),
        "sport": "running",
    }
    if seg_strides:
        out["max_speed"] = round(max(s.speed_mps for s in seg_strides), 3)
        cad = _cadence(seg_strides)
        assert cad is not None
        out["avg_cadence"] = cad[0]
        out["max_cadence"] = min(255, int(max(60.0 / s.stride_time_s for s in seg_strides)))
    return out


def encode_fit(data: SessionData, a: AthleteData) -> bytes:
    """The FIT activity file of one athlete, as bytes."""
    if not a.strides:
        raise ValueError(f"{a.name} has no strides to export")
    start = data.start
    t0 = a.strides[0].t_s - a.strides[0].stride_time_s
    t1 = a.strides[-1].t_s
    enc = Encoder()
    enc.write_mesg({
        "mesg_num": MESG["FILE_ID"], "type": "activity", "manufacturer": "development",
        "product": 0, "serial_number": zlib.crc32(a.pod.encode()) % 0xFFFFFFF0 + 1,
        "time_created": _when(start, t0), "product_name": PRODUCT_NAME,
    })  # fmt: skip
    for info in fit_parts.device_infos(data, a, MESG["DEVICE_INFO"], _when(start, t0)):
        enc.write_mesg(info)
    enc.write_mesg({
        "mesg_num": MESG["EVENT"], "timestamp": _when(start, t0), "event": "timer",
        "event_type": "start",
    })  # fmt: skip
    a = fit_parts.one_distance(a)  # each rep's strides add up to the rep's one distance
    _records(enc, a, start)
    for event in fit_parts.events(a, MESG["EVENT"], start, t0, t1):
        enc.write_mesg(event)
    segs = fit_parts.laps(a, data.settings.split_m)
    for i, seg in enumerate(segs):
        lap = _summary(seg.strides, seg.start_s, seg.end_s)
        dist, elapsed = seg.distance_m, max(seg.end_s - seg.start_s, 0.001)
        lap.update({
            "mesg_num": MESG["LAP"], "message_index": i, "timestamp": _when(start, seg.end_s),
            "start_time": _when(start, seg.start_s), "event": "lap", "event_type": "stop",
            "intensity": "active" if seg.active else "rest", "lap_trigger": seg.trigger,
            "sub_sport": "track", "total_distance": round(dist, 2),
            "avg_speed": round(dist / elapsed, 3),
        })  # fmt: skip
        enc.write_mesg(lap)
    for split in fit_parts.rep_splits(segs, MESG["SPLIT"], start):
        enc.write_mesg(split)
    end = _when(start, t1)
    enc.write_mesg({
        "mesg_num": MESG["EVENT"], "timestamp": end, "event": "timer", "event_type": "stop_all",
    })  # fmt: skip
    session = _summary(a.strides, t0, t1)
    total = sum(seg.distance_m for seg in segs)  # the laps' (the reps' one distance)
    session["total_distance"] = round(total, 2)
    session["avg_speed"] = round(total / max(t1 - t0, 0.001), 3)
    session.update({
        "mesg_num": MESG["SESSION"], "message_index": 0, "timestamp": end,
        "start_time": _when(start, t0), "event": "session", "event_type": "stop",
        "sub_sport": "track", "first_lap_index": 0, "num_laps": len(segs),
        "trigger": "activity_end",
    })  # fmt: skip
    enc.write_mesg(session)
    enc.write_mesg({
        "mesg_num": MESG["ACTIVITY"], "timestamp": end,
        "total_timer_time": round(t1 - t0, 3), "num_sessions": 1, "type": "manual",
        "event": "activity", "event_type": "stop",
    })  # fmt: skip
    return enc.close()


def write_fit(data: SessionData, a: AthleteData, path: Path) -> Path:
    path.write_bytes(encode_fit(data, a))
    return path
