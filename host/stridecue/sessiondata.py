"""A recorded session as per-athlete tables: strides on the session timeline, analysis, cues.

The report and the exports read a session through this model, and the model reads
the folder through the session's one reader (:meth:`stridecue.session.Session.items`).

Every stride is put on the session timeline by its pod's own contact time with the
one clock of a practice (:class:`stridecue.timeline.PodClock`), in the order the
strides arrived, exactly as the live pipeline places them: the time sync's offset
when the pod had one and the session ran at real time, else the offset learnt from
the arrivals. So a relay team lines up, and a simulation recorded faster than real
time is put back on the athletes' time. Cues and marks are placed by their host time
(:class:`stridecue.timeline.SessionClock`).

The analysis is the same streaming :class:`stridecue.analysis.Analyzer` that ran
live, run again over the strides with what ran live: the settings the session
stored and each athlete's targets as the coach set them, a change reaching the
analyzer from its next rep (as it does live). A session recorded before settings
were stored is analysed with the defaults. Settings or targets given by the caller
replace the stored ones; :attr:`SessionData.analysis` says which were used. Each
stride's flags reach the analyzer as they did live (what the pod could not vouch for is
not judged, docs/detection.md); strides rebuilt from an RSC pod carry none.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stridecue.analysis import Analyzer, AnalyzerSettings, Event
from stridecue.analysis.rsc import RscStrides
from stridecue.analysis.targets import Targets
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent
from stridecue.session import Channel, Session, SessionError, TargetsChange, stored_scales
from stridecue.timeline import SessionClock

log = logging.getLogger(__name__)

LIVE = "analysed with the settings used live"
DEFAULT = "analysed with default settings (recorded before settings were stored)"
UNSTORED = "analysed with default settings (the recording did not store its settings)"
GIVEN = "analysed with the options given here"


@dataclass(frozen=True, slots=True)
class Stride:
    t_s: float  # session time of the contact that ends the stride
    seq: int
    device_ms: int
    stride_time_s: float
    contact_time_s: float
    stride_length_m: float
    flags: int
    host_ns: int = 0  # when the host received it

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
    # session s - device s of the pod's clock at the end (None: no sync and no stride)
    clock_offset_s: float | None = None
    targets: Targets = field(default_factory=Targets)  # the last ones the analysis used
    #: the strides were rebuilt from a standard RSC pod's speed and cadence (no contact time)
    rsc_only: bool = False

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
    settings: AnalyzerSettings = field(default_factory=AnalyzerSettings)  # the analysis's
    analysis: str = DEFAULT  # which settings and targets the analysis used, in words
    recorded_s: float = 0.0  # the recording's length on the practice clock
    speed: float = 1.0  # a simulation recorded this much faster than real time

    def host_s(self, host_ns: int) -> float:
        """A host time (a setup applied, a mark) in seconds of the session's clock."""
        return SessionClock(self.start_ns, self.speed).host_s(host_ns)

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_ns / 1e9, UTC)

    @property
    def duration_s(self) -> float:
        """The practice's length on its clock: the later of the recording's own length and
        the last stride (one length for a session everywhere: sessions, report, FIT)."""
        ends = [a.strides[-1].t_s for a in self.athletes if a.strides]
        return max([*ends, self.recorded_s])

    def athlete(self, key: str) -> AthleteData:
        """An athlete by name or pod id (case-insensitive)."""
        for a in self.athletes:
            if key.lower() in (a.name.lower(), a.pod.lower()):
                return a
        names = ", ".join(a.name for a in self.athletes)
        raise SessionError(f"no athlete {key!r} in {self.path.name}; athletes: {names}")


def file_stems(athletes: Sequence[AthleteData]) -> dict[str, str]:
    """Per pod, a file-name-safe stem for the athlete's files: the name, or name-pod
    when athletes share a name (no athlete's file is written over another's)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for a in athletes:
        stem = _stem(a.name, "athlete")
        if stem in taken:
            stem = f"{stem}-{_stem(a.pod, 'pod')}"
        while stem in taken:
            stem += "-2"
        taken.add(stem)
        out[a.pod] = stem
    return out


def _stem(name: str, default: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or default


def load(
    path: str | Path,
    settings: AnalyzerSettings | None = None,
    *,
    targets: Targets | None = None,
) -> SessionData:
    """Read a session folder and analyse every athlete's strides.

    ``settings`` replace the analyzer settings the session stored, ``targets`` every
    athlete's targets as set during the session (from the start).
    """
    session = Session.open(path)
    clock = session.clock()
    athletes = {pod: AthleteData(pod, name) for pod, name in session.athletes.items()}
    pod_clocks = {pod: clock.pod(session.time_sync(pod)[0]) for pod in athletes}
    arrived: dict[str, list[Stride]] = {pod: [] for pod in athletes}
    rsc: dict[str, RscRebuild] = {}
    for item in session.items(include_sent=True):
        a = athletes[item.pod]
        rec = item.record
        if isinstance(rec, StrideEvent):
            t = pod_clocks[item.pod].stride_s(rec.t_contact_ms, item.host_ns)
            arrived[item.pod].append(
                Stride(
                    t, rec.seq, rec.t_contact_ms, rec.stride_time_s, rec.contact_time_s,
                    rec.stride_length_m, int(rec.flags), item.host_ns,
                )
            )  # fmt: skip
        elif isinstance(rec, RscMeasurement):
            rsc.setdefault(item.pod, RscRebuild()).feed(clock.host_s(item.host_ns), item, rec)
        elif isinstance(rec, Status) and rec.battery_pct != 255:
            a.battery_pct = rec.battery_pct
        elif isinstance(rec, Cue) and item.channel is Channel.CUE:
            a.cues.append((clock.host_s(item.host_ns), rec.pattern.name.lower()))
    marks = session.marks()
    scales = stored_scales(session.meta)
    base = settings or session.analyzer_settings()
    for pod, rebuilt in rsc.items():
        if not arrived[pod] and rebuilt.strides:  # a third-party pod: no StrideCue strides
            arrived[pod] = rebuilt.strides
            athletes[pod].rsc_only = True
    for pod, a in athletes.items():
        c = pod_clocks[pod].offset_s
        a.clock_offset_s = c if math.isfinite(c) else None
        seen: set[int] = set()
        for s in sorted(arrived[pod], key=lambda s: s.seq):
            if s.seq not in seen:  # a backfilled stride received twice counts once
                seen.add(s.seq)
                a.strides.append(s)
        for m in marks:
            if m.athlete in ("", a.pod, a.name):
                a.marks.append((clock.host_s(m.host_ns), m.text))
        changes = session.targets(pod) if targets is None else [TargetsChange(pod, 0, targets)]
        scale = scales.get(pod)  # the athlete's distance calibration, as live
        _analyse(a, base if scale is None else replace(base, distance_scale=scale), changes)
    return SessionData(
        Path(path),
        Path(path).name,
        session.start_ns,
        list(athletes.values()),
        session.meta,
        session.problems,
        base,
        _analysis_note(session, settings, targets),
        session.duration_s(),
        session.speed,
    )


#: what a session of a standard RSC pod (a Stryd, a Polar Stride) cannot give, in words
RSC_NOTE = (
    "cadence and speed from a standard RSC pod: no contact time, strides rebuilt once a second"
)


class RscRebuild:
    """A standard RSC pod's measurements turned into strides, as the live pipeline does.

    :class:`stridecue.analysis.rsc.RscStrides` rebuilds the strides between two
    measurements (about a second apart); they carry no contact time (0 here, "not
    measured") and are numbered in the order they were rebuilt.
    """

    def __init__(self) -> None:
        self._rsc = RscStrides()
        self.strides: list[Stride] = []

    def feed(self, t_s: float, item: Any, m: RscMeasurement) -> None:
        for t, stride_time, length in self._rsc.feed(t_s, m):
            self.strides.append(
                Stride(
                    t, len(self.strides), round(t * 1000.0), stride_time, 0.0, length, 0,
                    int(item.host_ns),
                )
            )  # fmt: skip


def _analysis_note(
    session: Session, settings: AnalyzerSettings | None, targets: Targets | None
) -> str:
    if settings is not None:
        note = GIVEN
        if targets is None and session.targets():
            note += " and the targets set live"
        return note
    if session.has_analysis_settings:
        note = LIVE
    else:
        note = UNSTORED if "analysis" in session.meta else DEFAULT
    if targets is not None:
        note += " and the targets given here"
    elif session.targets():
        note += ", with the targets as the coach set them"
    return note


def _analyse(a: AthleteData, settings: AnalyzerSettings, changes: Sequence[TargetsChange]) -> None:
    """Feed the strides to a fresh analyzer; each targets change from its host time on."""
    analyzer = Analyzer(settings)
    k = 0
    for s in a.strides:
        while k < len(changes) and changes[k].host_ns <= s.host_ns:
            # as live: the analyzer takes new targets from its next rep
            a.targets = changes[k].targets
            analyzer.settings = a.targets.apply(settings)
            k += 1
        ct = s.contact_time_s if s.contact_time_s > 0 else math.nan
        a.events.extend(
            analyzer.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, ct, s.seq, s.flags)
        )
    a.events.extend(analyzer.finish())
    if changes:
        a.targets = changes[-1].targets
    start: dict[int, float] = {}
    for e in a.events:
        if e.kind == "rep_start":
            start[int(e.detail["rep"])] = e.t_s
        elif e.kind == "rep_summary":
            i = int(e.detail["rep"])
            a.reps.append(Rep(i, start.get(i, e.t_s), e.t_s, dict(e.detail)))
