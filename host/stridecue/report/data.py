"""A recorded session as per-athlete tables: strides on one clock, analysis, cues and marks.

Every athlete's strides are put on the session's clock from the pod's own contact
times (device clock + offset), so a relay team lines up: the offset is the one the
time sync measured when the session has it, else the smallest host-minus-device
difference seen (the stride that arrived fastest). A simulated session recorded
faster than real time (settings ``speed``) is put back on the athletes' time: the
pods' clocks ran ``speed`` times faster than the host's. The analysis is the same
streaming :class:`stridecue.analysis.Analyzer` that ran live, run again over the strides.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stridecue.analysis import Analyzer, AnalyzerSettings, Event
from stridecue.errors import ProtocolError
from stridecue.protocol import Cue, Status, StrideEvent, decode_record
from stridecue.session import Session, SessionError

log = logging.getLogger(__name__)

CH_POD, CH_CUE = 1, 3


@dataclass(frozen=True, slots=True)
class Stride:
    t_s: float  # session time of the contact that ends the stride
    seq: int
    device_ms: int
    stride_time_s: float
    contact_time_s: float
    stride_length_m: float
    flags: int

    @property
    def cadence_spm(self) -> float:
        return 120.0 / self.stride_time_s if self.stride_time_s > 0 else 0.0

    @property
    def speed_mps(self) -> float:
        return self.stride_length_m / self.stride_time_s if self.stride_time_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Rep:
    index: int  # 0-based
    start_s: float
    end_s: float
    summary: dict[str, Any]

    @property
    def splits_s(self) -> list[float]:
        return [float(x) for x in self.summary.get("splits_s", [])]

    @property
    def fatigue_index(self) -> float | None:
        fi = self.summary.get("fatigue_index")
        return None if fi is None else float(fi)


@dataclass(slots=True)
class AthleteData:
    pod: str
    name: str
    strides: list[Stride] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # analyzer events (session time)
    reps: list[Rep] = field(default_factory=list)
    cues: list[tuple[float, str]] = field(default_factory=list)  # (t_s, pattern)
    marks: list[tuple[float, str]] = field(default_factory=list)
    battery_pct: int | None = None
    offset_ms: float = 0.0

    @property
    def alerts(self) -> list[Event]:
        return [e for e in self.events if e.kind in ("rhythm_loss", "stride_shortening")]

    @property
    def distance_m(self) -> float:
        return sum(s.stride_length_m for s in self.strides)


@dataclass(slots=True)
class SessionData:
    path: Path
    name: str
    start_ns: int
    athletes: list[AthleteData]
    meta: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_ns / 1e9, UTC)

    @property
    def duration_s(self) -> float:
        ends = [a.strides[-1].t_s for a in self.athletes if a.strides]
        return max(ends, default=0.0)

    def athlete(self, key: str) -> AthleteData:
        """An athlete by name or pod id (case-insensitive)."""
        for a in self.athletes:
            if key.lower() in (a.name.lower(), a.pod.lower()):
                return a
        names = ", ".join(a.name for a in self.athletes)
        raise SessionError(f"no athlete {key!r} in {self.path.name}; athletes: {names}")


def load(path: str | Path, settings: AnalyzerSettings | None = None) -> SessionData:
    """Read a session folder and analyse every athlete's strides."""
    session = Session.open(path)
    problems = [str(t) for t in session.bad_tails]
    span = session.span_ns()
    start_ns = int(session.meta.get("start_ns") or (span[0] if span else 0))
    speed = session.meta.get("settings", {}).get("speed", 1.0)
    scale = float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0
    athletes = []
    for pod, name in session.athletes.items():
        info = session.meta.get("pods", {}).get(pod, {})
        athletes.append(_athlete(session, pod, name, info, start_ns, scale, problems))
    marks = session.marks()
    for a in athletes:
        for m in marks:
            if m.athlete in ("", a.pod, a.name):
                a.marks.append(((m.host_ns - start_ns) / 1e9 * scale, m.text))
        _analyse(a, settings)
    return SessionData(Path(path), Path(path).name, start_ns, athletes, session.meta, problems)


def _athlete(
    session: Session,
    pod: str,
    name: str,
    info: dict[str, Any],
    start_ns: int,
    scale: float,
    problems: list[str],
) -> AthleteData:
    a = AthleteData(pod, name)
    raw: list[tuple[int, StrideEvent]] = []
    for frame in session.files[pod].frames:
        if frame.channel not in (CH_POD, CH_CUE):
            continue
        try:
            rec = decode_record(frame.raw)
        except ProtocolError as e:
            problems.append(f"{pod}: undecodable frame skipped ({e})")
            continue
        if isinstance(rec, StrideEvent):
            raw.append((frame.host_ns, rec))
        elif isinstance(rec, Status) and rec.battery_pct != 255:
            a.battery_pct = rec.battery_pct
        elif isinstance(rec, Cue) and frame.channel == CH_CUE:
            a.cues.append(((frame.host_ns - start_ns) / 1e9 * scale, rec.pattern.name.lower()))
    # session time (athletes' time, s) = (host ns - start) * scale / 1e9
    #                                  = (device ms + offset) / 1000 - start (scaled)
    offset = info.get("clock_offset_ms")
    if scale != 1.0 or not isinstance(offset, int | float):
        offset = min((host / 1e6) * scale - ev.t_contact_ms for host, ev in raw) if raw else 0.0
    a.offset_ms = float(offset)
    seen: set[int] = set()
    for _, ev in sorted(raw, key=lambda r: r[1].seq):
        if ev.seq in seen:  # a backfilled stride received twice
            continue
        seen.add(ev.seq)
        t = (ev.t_contact_ms + a.offset_ms) / 1000.0 - start_ns / 1e9 * scale
        a.strides.append(
            Stride(
                t, ev.seq, ev.t_contact_ms, ev.stride_time_s, ev.contact_time_s,
                ev.stride_length_m, int(ev.flags),
            )
        )  # fmt: skip
    return a


def _analyse(a: AthleteData, settings: AnalyzerSettings | None) -> None:
    analyzer = Analyzer(settings)
    for s in a.strides:
        ct = s.contact_time_s if s.contact_time_s > 0 else math.nan
        a.events.extend(analyzer.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, ct, s.seq))
    a.events.extend(analyzer.finish())
    start: dict[int, float] = {}
    for e in a.events:
        if e.kind == "rep_start":
            start[int(e.detail["rep"])] = e.t_s
        elif e.kind == "rep_summary":
            i = int(e.detail["rep"])
            a.reps.append(Rep(i, start.get(i, e.t_s), e.t_s, dict(e.detail)))
