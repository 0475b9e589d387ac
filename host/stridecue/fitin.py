"""A running FIT activity turned into a StrideCue session folder (``stridecue import-fit``).

The file is read with Garmin's own decoder (``garmin-fit-sdk``, integrity checked).
A watch's FIT file has no per-stride data: its ``record`` messages, about one a
second, carry cadence (FIT: strides of one foot a minute, plus a fractional part),
speed, distance and, from a running-dynamics source (an HRM-Pro, a Running Dynamics
Pod, a Stryd, a StrideCue export), stance time and step length. The strides are
rebuilt from them as :class:`stridecue.analysis.rsc.RscStrides` does for a standard
RSC pod: between two records ``dt`` apart at ``c`` strides/min the athlete made
``dt * c / 60`` strides (fractions carry over to the next record, a gap of more than
5 s starts afresh), each lasting ``60 / c`` s and covering the distance the records
say was run in that time (from their ``distance``, else ``speed``), with the record's
stance time as contact time (0, "not measured", without it).

The strides are written by the :class:`stridecue.recorder.Recorder` as StrideCue
stride records on the FIT file's own clock (the session starts at the first record,
each stride's host time is its FIT time), so replay, analyze, report and export read
the folder like any other. ``session.json`` ``settings`` say where it came from and
what it lacks: ``{"source": "fit", "fit_file": ..., "missing": [...]}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stridecue.errors import StrideCueError

MAX_GAP_S = 5.0
#: what a FIT file never gives: the pod's own stride timing, measured stride by stride
ALWAYS_MISSING = "stride_timing"


class FitImportError(StrideCueError):
    """A file that is not a running FIT activity StrideCue can import."""


@dataclass(slots=True)
class FitRun:
    """What the import takes from a FIT file."""

    start: datetime
    records: list[dict[str, Any]]
    sport: str
    device_name: str = ""
    serial: int | None = None
    firmware: str = ""
    strides: list[tuple[float, float, float, float]] = field(default_factory=list)
    # (t_s from the start, stride_time_s, stride_length_m, contact_time_s)

    @property
    def missing(self) -> list[str]:
        out = [ALWAYS_MISSING]
        if not any(s[3] > 0 for s in self.strides):
            out.append("contact_time")
        return out


def _time(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def read(path: Path) -> FitRun:
    """Decode ``path``; a one-line :class:`FitImportError` for anything not importable."""
    from garmin_fit_sdk import Decoder, Stream

    try:
        blob = path.read_bytes()
    except OSError as e:
        raise FitImportError(f"cannot read {path}: {e.strerror or e}") from None
    if not Decoder(Stream.from_byte_array(bytearray(blob))).is_fit():
        raise FitImportError(f"{path}: not a FIT file")
    if not Decoder(Stream.from_byte_array(bytearray(blob))).check_integrity():
        raise FitImportError(f"{path}: FIT file truncated or corrupted (its CRC does not match)")
    decoded, errors = Decoder(Stream.from_byte_array(bytearray(blob))).read()
    messages: dict[str, list[dict[str, Any]]] = {
        k: [m for m in v if isinstance(m, dict)] for k, v in decoded.items() if isinstance(v, list)
    }
    if errors:
        raise FitImportError(f"{path}: FIT file does not decode ({errors[0]})")
    sports = [
        str(m.get("sport"))
        for m in messages.get("session_mesgs", []) + messages.get("sport_mesgs", [])
        if m.get("sport") is not None
    ]
    if sports and "running" not in sports:
        raise FitImportError(f"{path}: a {sports[0]} activity, not running: nothing to import")
    records = [r for r in messages.get("record_mesgs", []) if _time(r.get("timestamp")) is not None]
    if not records:
        raise FitImportError(f"{path}: no records (no data a second) in this FIT file")
    records.sort(key=lambda r: _time(r["timestamp"]) or 0.0)
    t0 = _time(records[0]["timestamp"])
    assert t0 is not None
    # the activity starts at its session's start_time (the first record closes its first
    # second or so): strides before the first record are rebuilt from it
    starts = [_time(m.get("start_time")) for m in messages.get("session_mesgs", [])]
    begun = min((t for t in starts if t is not None and t0 - MAX_GAP_S <= t <= t0), default=t0)
    t0 = begun
    run = FitRun(datetime.fromtimestamp(t0, UTC), records, sports[0] if sports else "running")
    pods = [
        d
        for d in messages.get("device_info_mesgs", [])
        if d.get("device_index") not in (0, "creator")
    ]
    dev: dict[str, Any] = pods[0] if pods else next(iter(messages.get("file_id_mesgs", [])), {})
    run.device_name = str(dev.get("product_name") or dev.get("manufacturer") or "")
    serial = dev.get("serial_number")
    run.serial = serial if isinstance(serial, int) else None
    version = _num(dev.get("software_version"))
    run.firmware = f"{version:g}" if version is not None else ""
    run.strides = rebuild(records, t0)
    if not run.strides:
        raise FitImportError(f"{path}: its records have no running cadence: no strides to rebuild")
    return run


def rebuild(
    records: list[dict[str, Any]], t0: float | None = None
) -> list[tuple[float, float, float, float]]:
    """Strides (t_s, stride_time_s, stride_length_m, contact_time_s) from records.

    ``t0`` (Unix s): when the activity started, if before the first record (its
    distance then counts from 0 there); the times returned are from ``t0``.
    """
    first = _time(records[0]["timestamp"]) or 0.0
    out: list[tuple[float, float, float, float]] = []
    last_t: float | None = None
    last_d: float | None = None
    if t0 is None or t0 >= first:
        t0 = first
    else:
        last_t, last_d = 0.0, 0.0
    owed = owed_m = 0.0  # strides made, metres run, not yet handed out
    for r in records:
        t = (_time(r["timestamp"]) or t0) - t0
        d = _num(r.get("distance"))
        cad = _num(r.get("cadence"))
        frac = _num(r.get("fractional_cadence")) or 0.0
        speed = _num(r.get("enhanced_speed"))
        speed = speed if speed is not None else _num(r.get("speed"))
        prev_t, prev_d = last_t, last_d
        last_t, last_d = t, d if d is not None else last_d
        per_min = (cad or 0.0) + frac  # FIT: strides (one foot) a minute
        if prev_t is None or per_min <= 0:
            owed = owed_m = 0.0
            continue
        dt = t - prev_t
        if not 0.0 < dt <= MAX_GAP_S:
            owed = owed_m = 0.0
            continue
        stride_time = 60.0 / per_min
        if d is not None and prev_d is not None and d >= prev_d:
            run_m = d - prev_d
        elif speed is not None:
            run_m = speed * dt
        else:
            step = _num(r.get("step_length"))  # mm, one step
            run_m = 2.0 * step / 1000.0 * dt / stride_time if step else 0.0
        stance = _num(r.get("stance_time"))
        contact = stance / 1000.0 if stance and stance > 0 else 0.0
        owed += dt / stride_time
        owed_m += run_m
        n = int(owed)
        length = owed_m / owed  # metres are handed out with the strides: none is lost
        owed -= n
        owed_m -= n * length
        out.extend((t - (n - 1 - k) * stride_time, stride_time, length, contact) for k in range(n))
    return out


def write_session(run: FitRun, source: Path, root: Path, athlete: str = "") -> Path:
    """Record ``run``'s strides into a new session folder under ``root``."""
    from stridecue.links.base import Channel, PodInfo, Received
    from stridecue.protocol import StrideEvent
    from stridecue.recorder import Recorder
    from stridecue.session import slug

    start_ns = round(run.start.timestamp() * 1e9)
    pod = f"fit-{run.serial}" if run.serial else f"fit-{slug(source.stem)}"
    name = athlete or source.stem
    stamp = run.start.strftime("%Y-%m-%dT%H%M%SZ")
    path = root / f"{stamp}-fit-{slug(source.stem)}"
    n = 2
    while path.exists():
        path = root / f"{stamp}-fit-{slug(source.stem)}-{n}"
        n += 1
    settings = {"source": "fit", "fit_file": source.name, "missing": run.missing,
                "sport": run.sport}  # fmt: skip
    rec = Recorder(path, athletes={pod: name}, settings=settings)
    rec.meta["start_ns"] = start_ns
    rec.meta["start_time"] = run.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    info = PodInfo(pod=pod, name=run.device_name or "FIT file", firmware=run.firmware)
    info.clock_offset_ms = start_ns / 1e6  # pod ms = ms from the first record
    rec.add_pod(info, link=f"fit:{source.name}", athlete=name)
    seq = 0
    try:
        for t, stride_time, length, contact in run.strides:
            t_ms = round(t * 1000.0)
            if t_ms < 0:
                continue
            ev = StrideEvent(
                seq, t_ms, min(round(stride_time * 1000), 0xFFFF),
                min(round(contact * 1000), 0xFFFF), min(round(length * 1000), 0xFFFF),
            )  # fmt: skip
            rec.write(Received(pod, start_ns + t_ms * 1_000_000, Channel.POD, bytes(ev), ev))
            seq += 1
    finally:
        rec.close()
    last = run.strides[-1][0] if run.strides else 0.0
    rec.meta["end_time"] = datetime.fromtimestamp(run.start.timestamp() + last, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    rec.meta["duration_s"] = round(last, 3)
    rec.save_meta()
    return path
