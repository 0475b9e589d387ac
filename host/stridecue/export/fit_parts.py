"""The parts of a FIT activity that say what the session was, beyond the records.

* **Laps**: each rep is cut into a lap per 100 m split (the analysis's split length),
  the last one holding what is left of the rep, so the rep's laps add up to the rep's
  ONE distance (its summary's ``distance_m``: after a told rep distance or the
  calibration scale). Laps, not FIT ``split`` messages, because laps are what Garmin
  Connect, Strava, GoldenCheetah and intervals.icu list and chart; the rep as a whole
  is also written as one ``split`` message (``interval_active``) for the tools that
  read those. Between reps, the recoveries are rest laps (cut at the coach's lap
  marks, as before), with the strides' own distance.
* **The pod**: a ``device_info`` (manufacturer "development", the pod's name as
  product name, its id/address as descriptor and a serial number derived from it,
  its firmware version, its last battery level), next to the host's (creator).
* **Alerts, cues and marks** as ``event`` messages: an alert or a cue is a
  ``user_marker`` marker whose ``data`` says which (:data:`MARKER_CODES`); a coach's
  lap mark inside a rep (where the laps are the splits) is a ``lap`` marker.
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from stridecue.sessiondata import AthleteData, Rep, SessionData, Stride

#: ``data`` of a ``user_marker`` event: what happened there
MARKER_CODES = {
    "rhythm_loss": 1,
    "stride_shortening": 2,
    "cue_rhythm": 11,  # the pod buzzed: three short pulses (rhythm lost)
    "cue_stride": 12,  # one long pulse (strides shortening)
    "cue_identify": 13,  # two pulses (the coach picked this pod)
    "cue_pulse": 14,  # the coach's manual cue
}
OTHER_CUE = 10  # a cue pattern not listed above
#: device_type of a Bluetooth LE foot pod (FIT ble_device_type "footpod")
BLE_FOOTPOD = 6


@dataclass(frozen=True, slots=True)
class Lap:
    start_s: float
    end_s: float
    active: bool
    strides: tuple[Stride, ...]
    distance_m: float
    trigger: str  # FIT lap_trigger: "distance" for a 100 m split, else "manual"
    rep: int | None  # 0-based rep index


def _when(start: datetime, t_s: float) -> datetime:
    return start + timedelta(seconds=t_s)


def rep_scale(a: AthleteData, rep: Rep) -> float:
    """The rep's one distance over the strides' raw sum inside it (1 when unknown)."""
    raw = sum(s.stride_length_m for s in a.strides if rep.start_s < s.t_s <= rep.end_s)
    one = rep.summary.get("distance_m")
    if not isinstance(one, int | float) or raw <= 0 or one <= 0:
        return 1.0
    return float(one) / raw


def one_distance(a: AthleteData) -> AthleteData:
    """``a`` with each rep's strides scaled to the rep's one distance (records then agree
    with the laps); strides outside reps keep their length."""
    scales = [(r.start_s, r.end_s, rep_scale(a, r)) for r in a.reps]
    out: list[Stride] = []
    for s in a.strides:
        k = next((f for lo, hi, f in scales if lo < s.t_s <= hi), 1.0)
        out.append(s if k == 1.0 else replace(s, stride_length_m=s.stride_length_m * k))
    scaled = replace(a, strides=out)
    return scaled


def _split_edges(a: AthleteData, rep: Rep) -> list[float]:
    """Session times at which the rep's 100 m splits were crossed."""
    splits = rep.splits_s
    if not splits:
        return []
    live = [
        e
        for e in a.events
        if e.kind == "split" and rep.start_s <= e.t_s <= rep.end_s and "elapsed_s" in e.detail
    ]
    t0 = live[0].t_s - float(live[0].detail["elapsed_s"]) if live else rep.start_s
    edges = [t0 + t for t in itertools.accumulate(splits)]
    return [t for t in edges if rep.start_s < t < rep.end_s]


def laps(a: AthleteData, split_m: float = 100.0) -> list[Lap]:
    """The activity's laps (module doc), covering every stride once."""
    if not a.strides:
        return []
    first = a.strides[0].t_s - a.strides[0].stride_time_s
    last = a.strides[-1].t_s
    in_rep = [(r.start_s, r.end_s) for r in a.reps]
    cuts = {first, last}
    for r in a.reps:
        cuts.update((r.start_s, r.end_s))
    cuts.update(
        t
        for t, text in a.marks
        if text.lower().startswith("lap") and not any(lo < t < hi for lo, hi in in_rep)
    )
    edges = sorted(c for c in cuts if first <= c <= last)
    out: list[Lap] = []
    for lo, hi in itertools.pairwise(edges):
        if hi - lo < 0.5:
            continue
        inside = tuple(s for s in a.strides if lo < s.t_s <= hi)
        rep = next((r for r in a.reps if r.start_s <= (lo + hi) / 2 <= r.end_s), None)
        if rep is None:
            dist = sum(s.stride_length_m for s in inside)
            out.append(Lap(lo, hi, False, inside, dist, "manual", None))
            continue
        total = rep.summary.get("distance_m")
        if isinstance(total, int | float) and total > 0:
            one = float(total)
        else:
            one = sum(s.stride_length_m for s in inside)
        bounds = [lo, *_split_edges(a, rep), hi]
        left = one
        for k, (t0, t1) in enumerate(itertools.pairwise(bounds)):
            last_lap = k == len(bounds) - 2
            dist = max(left, 0.0) if last_lap else min(split_m, max(left, 0.0))
            left -= dist
            part = tuple(s for s in inside if t0 < s.t_s <= t1)
            out.append(
                Lap(t0, t1, True, part, dist, "manual" if last_lap else "distance", rep.index)
            )
    return out


def software_version(firmware: object) -> float | None:
    """A firmware string such as "1.2.3" as FIT's software_version (major.minor)."""
    m = re.match(r"\s*v?(\d+)(?:\.(\d+))?", str(firmware or ""))
    if not m:
        return None
    value = int(m.group(1)) + int(m.group(2) or 0) / 100.0
    return value if value <= 655.0 else None


def _battery_status(pct: int) -> str:
    return "good" if pct >= 50 else "ok" if pct >= 20 else "low" if pct >= 5 else "critical"


def device_infos(
    data: SessionData, a: AthleteData, mesg_num: int, when: datetime
) -> list[dict[str, Any]]:
    """The host (creator) and the pod, as FIT ``device_info`` messages."""
    from stridecue import __version__

    info = data.meta.get("pods", {}).get(a.pod, {})
    info = info if isinstance(info, dict) else {}
    default_name = "RSC foot pod" if a.rsc_only else "StrideCue pod"
    host: dict[str, Any] = {
        "mesg_num": mesg_num, "timestamp": when, "device_index": "creator",
        "manufacturer": "development", "product": 0, "product_name": "StrideCue host",
        "serial_number": serial_number("host"),
    }  # fmt: skip
    version = software_version(__version__)
    if version is not None:
        host["software_version"] = version
    pod: dict[str, Any] = {
        "mesg_num": mesg_num, "timestamp": when, "device_index": 1,
        "device_type": BLE_FOOTPOD, "source_type": "bluetooth_low_energy",
        "manufacturer": "development", "product": 1,
        "product_name": str(info.get("name") or default_name)[:40],
        "serial_number": serial_number(a.pod),
        "descriptor": str(info.get("address") or a.pod)[:40],
    }  # fmt: skip
    version = software_version(info.get("firmware"))
    if version is not None:
        pod["software_version"] = version
    if a.battery_pct is not None and 0 <= a.battery_pct <= 100:
        pod["battery_level"] = a.battery_pct
        pod["battery_status"] = _battery_status(a.battery_pct)
    return [host, pod]


def serial_number(pod: str) -> int:
    """A stable non-zero 32-bit serial for a pod id (FIT uint32z: 0 is invalid)."""
    return zlib.crc32(pod.encode()) % 0xFFFFFFF0 + 1


def events(
    a: AthleteData, mesg_num: int, start: datetime, t0: float, t1: float
) -> list[dict[str, Any]]:
    """Alerts, cues and in-rep lap marks as FIT ``event`` messages, in time order."""
    out: list[tuple[float, int, str, str]] = []  # (t, data, event, kind)
    for e in a.alerts:
        out.append((e.t_s, MARKER_CODES.get(e.kind, 0), "user_marker", e.kind))
    for t, pattern in a.cues:
        out.append((t, MARKER_CODES.get(f"cue_{pattern}", OTHER_CUE), "user_marker", pattern))
    in_rep = [(r.start_s, r.end_s) for r in a.reps]
    for t, text in a.marks:
        if text.lower().startswith("lap") and any(lo < t < hi for lo, hi in in_rep):
            out.append((t, 0, "lap", text))
    msgs = []
    for t, code, event, _kind in sorted(out):
        t = min(max(t, t0), t1)
        msgs.append({
            "mesg_num": mesg_num, "timestamp": start + timedelta(seconds=t), "event": event,
            "event_type": "marker", "data": code,
        })  # fmt: skip
    return msgs


def rep_splits(laps_: list[Lap], mesg_num: int, start: datetime) -> list[dict[str, Any]]:
    """Each rep as one FIT ``split`` (interval_active) with its one distance."""
    out = []
    for rep, group in itertools.groupby(
        (lap for lap in laps_ if lap.rep is not None), key=lambda lap: lap.rep
    ):
        g = list(group)
        t0, t1 = g[0].start_s, g[-1].end_s
        dist = sum(lap.distance_m for lap in g)
        elapsed = max(t1 - t0, 0.001)
        out.append({
            "mesg_num": mesg_num, "message_index": rep, "timestamp": _when(start, t1),
            "start_time": _when(start, t0), "split_type": "interval_active",
            "total_elapsed_time": round(elapsed, 3), "total_timer_time": round(elapsed, 3),
            "total_distance": round(dist, 2), "avg_speed": round(dist / elapsed, 3),
            "sport": "running",
        })  # fmt: skip
    return out
