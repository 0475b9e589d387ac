"""A FIT activity per athlete, written with Garmin's own FIT SDK (``garmin-fit-sdk``).

Records are written once a second (what watches and Garmin Connect, Strava or
GoldenCheetah expect): distance, speed, cadence (FIT counts strides of one foot per
minute, "rpm", plus the fractional part), step length and ground contact time, from
the strides that ended in that second. Laps follow the session: each rep is an
active lap, the time between reps a rest lap, and the coach's lap marks split them.

Every value is clamped into its FIT field (the SDK would wrap it around silently),
a stride without a stride time is left out of the records, and a session whose
times fall outside the dates a FIT file holds is refused (:class:`ExportError`).
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from garmin_fit_sdk import Encoder, Profile

from stridecue.export import fit_parts
from stridecue.export.checked import ExportError, replace_file
from stridecue.sessiondata import AthleteData, SessionData, Stride

MESG = Profile["mesg_num"]
PRODUCT_NAME = "StrideCue"
#: a FIT date_time counts s from 1989-12-31 in a u32; below 0x10000000 it would read as
#: seconds since the device powered on, 0xFFFFFFFF is "invalid"
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
FIRST_DATE = FIT_EPOCH + timedelta(seconds=0x10000000)
LAST_DATE = FIT_EPOCH + timedelta(seconds=0xFFFFFFFE)
#: the largest value of each field written (its base type and scale in Profile)
U8, U16_MS, U16_MM, U32 = 254, 65.534, 6553.4, 4294967.294


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
    time_s = sum(s.stride_time_s for s in strides)
    if time_s <= 0:
        return None
    per_min = min(60.0 * len(strides) / time_s, U8)
    whole = int(per_min)
    return whole, per_min - whole


def _speed(strides: tuple[Stride, ...] | list[Stride], time_s: float) -> float:
    return round(min(sum(s.stride_length_m for s in strides) / time_s, U16_MS), 3)


def _records(enc: Encoder, a: AthleteData, start: datetime) -> None:
    by_second: dict[int, list[Stride]] = {}
    for s in a.strides:
        if s.stride_time_s > 0:
            by_second.setdefault(math.floor(s.t_s), []).append(s)
    distance = 0.0
    for sec in sorted(by_second):
        group = by_second[sec]
        distance += sum(s.stride_length_m for s in group)
        cad = _cadence(group)
        assert cad is not None
        step_mm = 500.0 * sum(s.stride_length_m for s in group) / len(group)
        rec: dict[str, Any] = {
            "mesg_num": MESG["RECORD"],
            "timestamp": _when(start, sec + 1),
            "distance": round(min(distance, U32 * 10), 2),
            "speed": _speed(group, sum(s.stride_time_s for s in group)),
            "enhanced_speed": _speed(group, sum(s.stride_time_s for s in group)),
            "cadence": cad[0],
            "fractional_cadence": round(cad[1], 3),
            "step_length": round(min(step_mm, U16_MM), 1),
        }
        contact = [s.contact_time_s for s in group if s.contact_time_s > 0]
        if contact:
            rec["stance_time"] = round(min(1000.0 * sum(contact) / len(contact), U16_MM), 1)
        enc.write_mesg(rec)


def _summary(
    seg_strides: tuple[Stride, ...] | list[Stride], t0: float, t1: float
) -> dict[str, Any]:
    dist = sum(s.stride_length_m for s in seg_strides)
    elapsed = min(max(t1 - t0, 0.001), U32)  # laps and sessions: u32 ms
    out: dict[str, Any] = {
        "total_elapsed_time": round(elapsed, 3),
        "total_timer_time": round(elapsed, 3),
        "total_distance": round(min(dist, U32 * 10), 2),
        "avg_speed": _speed(seg_strides, elapsed),
        "total_cycles": len(seg_strides),
        "sport": "running",
    }
    timed = [s for s in seg_strides if s.stride_time_s > 0]
    if timed:
        out["max_speed"] = round(min(max(s.speed_mps for s in timed), U16_MS), 3)
        cad = _cadence(timed)
        assert cad is not None
        out["avg_cadence"] = cad[0]
        out["max_cadence"] = int(min(max(60.0 / s.stride_time_s for s in timed), U8))
    return out


def encode_fit(data: SessionData, a: AthleteData) -> bytes:
    """The FIT activity file of one athlete, as bytes."""
    if not a.strides:
        raise ValueError(f"{a.name} has no strides to export")
    start = data.start
    t0 = a.strides[0].t_s - a.strides[0].stride_time_s
    t1 = a.strides[-1].t_s
    for t in (min(s.t_s - s.stride_time_s for s in a.strides), max(s.t_s for s in a.strides)):
        try:
            when = _when(start, t)
        except OverflowError:  # beyond any calendar: no date is right
            when = LAST_DATE + timedelta(days=1)
        if not FIRST_DATE <= when <= LAST_DATE:
            raise ExportError(
                f"{data.path}: {a.name}'s strides fall on {when:%Y-%m-%d}, outside the dates "
                f"a FIT file holds ({FIRST_DATE:%Y-%m-%d}..{LAST_DATE:%Y-%m-%d}): the "
                "recording's clock was off (start_ns, or a pod's clock_offset_ms in "
                "session.json); --format csv exports the strides on the session's time"
            )
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
        "total_timer_time": round(min(max(t1 - t0, 0.0), U32), 3), "num_sessions": 1,
        "type": "manual",
        "event": "activity", "event_type": "stop",
    })  # fmt: skip
    return enc.close()


def write_fit(data: SessionData, a: AthleteData, path: Path) -> Path:
    return replace_file(path, encode_fit(data, a))
