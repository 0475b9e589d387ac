"""One practice: the one live pipeline, from the pods' records to the cues written back.

``stridecue live``, ``record``, ``replay``, ``demo`` and ``dashboard`` all run a
:class:`Practice`; it is the only thing that connects links and starts and stops
the pods' sessions. Per athlete it keeps one analyzer and one cue policy, fed
from one place (:meth:`Practice.take`) on one clock: every pod's time mapped onto
the session timeline (:mod:`stridecue.timeline`), so the coach's cue and the
automatic ones are decided on the same seconds.

What happens is published to subscribers (:class:`Listener`): the terminal view,
the web dashboard, the demo and the benchmarks subscribe; none of them analyses,
records or cues on its own::

    link (ble | serial | replay | sim) ──▶ Practice.take ──▶ recorder
                                              │ ├──▶ analyzer ──▶ cue policy ──▶ link.write_cue
                                              ▼ ▼
                         listeners: terminal view, dashboard feed, demo, benchmarks
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from stridecue.analysis import (
    Analyzer,
    AnalyzerSettings,
    CuePolicy,
    CueSettings,
    Event,
    EventKind,
    Targets,
)
from stridecue.analysis.plan import Plan
from stridecue.analysis.rsc import RscStrides
from stridecue.errors import ConfigError, LinkError, StrideCueError
from stridecue.links.base import (
    Channel,
    Link,
    LinkState,
    PodInfo,
    Received,
    start_sessions,
    stop_sessions,
)
from stridecue.links.replay import ReplayLink
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent, StrideFlag
from stridecue.protocol.records import NO_COACH, Pattern, PodCoach
from stridecue.recorder import Recorder
from stridecue.roster import athlete_for
from stridecue.session import TargetsChange, stored_scales
from stridecue.timeline import PodClock, SessionClock

log = logging.getLogger(__name__)

#: what a coach reads for each problem the analyzer finds
ALERTS = {
    EventKind.RHYTHM_LOSS: "rhythm lost",
    EventKind.STRIDE_SHORTENING: "strides shortening",
}


class CueBy:
    COACH = "coach"
    AUTO = "auto"
    RECORDED = "recorded"  # a cue found in a recording (replay)


@dataclass(frozen=True, slots=True)
class CueSent:
    """A cue written to a pod (or found in a recording), on the session timeline."""

    t_s: float
    cue: Cue
    by: str  # CueBy
    reason: str


@dataclass
class Row:
    """One athlete in the practice: their pod, analysis, cue policy and latest numbers."""

    pod: str
    athlete: str
    link: Link | None
    clock: PodClock
    analyzer: Analyzer
    policy: CuePolicy
    targets: Targets = field(default_factory=Targets)
    strides: int = 0
    cadence_spm: float = math.nan
    stride_length_m: float = math.nan
    contact_ms: float = math.nan
    rsc_only: bool = False
    alerts: set[str] = field(default_factory=set)  # active until the athlete recovers
    cues: int = 0
    last_ns: int = 0
    last_stride_s: float = math.nan  # session time of the newest stride
    ended: bool = False  # the practice is over
    rsc: RscStrides = field(default_factory=RscStrides)  # a standard RSC pod's strides
    pod_coach: PodCoach = NO_COACH  # what the pod's own coach does (its status records)
    _recent: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=4))

    @property
    def name(self) -> str:
        return self.athlete or self.pod

    @property
    def state(self) -> str:
        return self.link.state.value if self.link is not None else "replay"

    @property
    def speed_mps(self) -> float:
        """Speed over the last few strides (NaN before any)."""
        t = sum(st for st, _ in self._recent)
        return sum(sl for _, sl in self._recent) / t if t > 0 else math.nan

    def stride(self, t_s: float, stride_time_s: float, stride_length_m: float) -> None:
        self.strides += 1
        self.last_stride_s = t_s
        if stride_time_s > 0 and math.isfinite(stride_length_m):
            self._recent.append((stride_time_s, stride_length_m))

    def activity(self, now_s: float) -> str:
        """What the athlete is doing, as a coach tells it from across the track."""
        if self.ended:
            return Activity.FINISHED
        link = self.link.state if self.link is not None else None
        if link is LinkState.RECONNECTING or link is LinkState.CLOSED:
            return Activity.LINK_LOST
        if link is LinkState.CONNECTING or link is LinkState.IDLE:
            return Activity.CONNECTING
        if math.isnan(self.last_stride_s):
            return Activity.WAITING
        if now_s - self.last_stride_s > REST_AFTER_S:
            return Activity.RESTING
        return Activity.RUNNING


class Activity:
    """A tile's and a table row's state, in the coach's words."""

    CONNECTING = "starting"
    WAITING = "waiting"  # connected, no stride yet
    RUNNING = "running"
    RESTING = "resting"  # no stride for REST_AFTER_S
    LINK_LOST = "link lost"
    FINISHED = "finished"


#: no stride for this long (session seconds): the athlete is resting (or done)
REST_AFTER_S = 8.0


class Listener:
    """What a practice publishes. Subscribers override the calls they need."""

    def athlete_added(self, row: Row) -> None:
        """A new athlete (pod) joined the practice."""

    def link_changed(self, row: Row, state: LinkState) -> None:
        """The athlete's link changed state (connected, reconnecting, closed)."""

    def record(self, row: Row, item: Received, t_s: float) -> None:
        """A record from the pod; ``t_s`` is its time on the session timeline (a
        stride's is its foot contact, anything else's its arrival)."""

    def event(self, row: Row, event: Event) -> None:
        """An analyzer event (rep start/end, split, alert, recovered, rep summary)."""

    def cue(self, row: Row, sent: CueSent) -> None:
        """A cue reached the pod (or, in a replay, was found in the recording)."""

    def mark(self, row: Row | None, t_s: float, text: str) -> None:
        """A coach's mark (lap, rep start/stop, a note); ``row`` None: for everyone."""

    def targets_set(self, row: Row, targets: Targets, t_s: float) -> None:
        """The coach set the athlete's targets (they reach the analyzer from its next rep)."""

    def note(self, row: Row, text: str) -> None:
        """Anything else worth a line to the coach (a cue not sent, a run finished)."""

    def pod_coach(self, row: Row, state: PodCoach) -> None:
        """The pod's own coach changed what it does (pacing, in a rep, behind plan; 0:
        no coach), as its status record says (``row.pod_coach`` is the new state)."""


_NO_CUES: list[tuple[Row, Cue, str]] = []  # shared, never appended to


class Practice:
    def __init__(
        self,
        links: list[Link],
        *,
        roster: dict[str, str] | None = None,
        recorder: Recorder | None = None,
        record_to: Callable[[], Recorder] | None = None,
        analyze: bool = True,
        cues: bool = True,
        pod_sessions: bool = True,
        settings: AnalyzerSettings | None = None,
        cue_settings: CueSettings | None = None,
        clock: SessionClock | None = None,
    ) -> None:
        self.links = links
        # a pod measures only in a session: START at connect, STOP when the practice ends
        self.pod_sessions = pod_sessions
        self.roster = dict(roster or {})
        self.recorder = recorder
        self.analyze = analyze
        self.send_cues = cues
        self._settings_given = settings is not None
        self.distance_scales: dict[str, float] = {}  # athlete -> calibration (roster.scales)
        self.plans: dict[str, dict[float, Plan]] = {}  # athlete -> rep m -> plan (roster.plans)
        # targets each athlete starts with (the CLI's --plan/--rep-distance); "" is everyone
        self.start_targets: dict[str, Targets] = {}
        self.settings = settings or AnalyzerSettings()
        self._scheduled: list[TargetsChange] = []  # a replay's targets, at their times
        self.cue_settings = cue_settings or CueSettings()
        self.clock = clock or _clock_of(recorder)
        self._clock_given = clock is not None
        # a session folder is made only once the pods have connected (``record_to``)
        self._record_to = record_to
        self.rows: dict[str, Row] = {}
        self.latencies_ns: list[int] = []  # frame arrival -> cue written
        self.frames = 0
        self._latest_s = 0.0  # the newest record's session time
        self.ended = False  # finish() ran: the practice is over
        self._listeners: list[Listener] = []
        self._stop = asyncio.Event()
        if recorder is not None and analyze:
            recorder.set_analysis(self.settings)

    # --- subscribers ---
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Publish to ``listener`` from now on (athletes already known are announced)."""
        self._listeners.append(listener)
        for row in self.rows.values():
            listener.athlete_added(row)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- running ---
    async def connect(self) -> None:
        """Connect every link (BLE connects are serialized inside the link), START sessions."""
        results = await asyncio.gather(*(ln.connect() for ln in self.links), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self._close_links()
            failed = [e for e in errors if isinstance(e, StrideCueError)]
            if len(failed) > 1 and len(failed) == len(errors):
                raise LinkError(
                    f"{len(failed)} of {len(self.links)} links did not connect:\n  "
                    + "\n  ".join(str(e) for e in failed)
                )
            raise errors[0]
        if self.pod_sessions:
            try:
                await start_sessions(self.links)
            except BaseException:
                await self._close_links()
                raise
        if self._record_to is not None and self.recorder is None:
            self.recorder = self._record_to()
            if not self._clock_given:
                self.clock = _clock_of(self.recorder)
            if self.analyze:
                self.recorder.set_analysis(self.settings)
        for ln in self.links:
            if isinstance(ln, ReplayLink):
                self._from_recording(ln)
            else:
                self._row(ln.info.pod, ln, ln.info)

    def _from_recording(self, link: ReplayLink) -> None:
        """A replay runs on the recorded session's own timeline, with its athletes, and
        analyses as the live run did: its stored settings, its targets at their times."""
        session = link.session
        assert session is not None
        self.clock = session.clock()
        self.roster = {**session.athletes, **self.roster}
        if not self._settings_given:
            self.settings = session.analyzer_settings()
        self._scheduled = sorted(session.targets(), key=lambda t: t.host_ns)
        for pod, scale in stored_scales(session.meta).items():
            self.distance_scales.setdefault(self.roster.get(pod, pod), scale)
        for info in link.pod_infos():
            self._row(info.pod, link, info)

    async def run(self, duration_s: float | None = None) -> None:
        """Follow every link until all end, ``stop()`` is called, or ``duration_s`` passes."""
        follow: asyncio.Future[Any] = asyncio.gather(*(self._follow(ln) for ln in self.links))
        stopper: asyncio.Future[Any] = asyncio.ensure_future(self._stop.wait())
        try:
            done, _ = await asyncio.wait(
                {follow, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED
            )
            if follow in done:
                follow.result()  # a failure in the pipeline surfaces here
        finally:
            stopper.cancel()
            await self.close()
            try:
                await asyncio.wait_for(follow, 5.0)
            except (TimeoutError, asyncio.CancelledError, StrideCueError) as e:
                log.warning("practice: links did not finish cleanly: %r", e)

    def stop(self) -> None:
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """True once ``stop()`` was called (Ctrl-C, the demo's end), not by links ending."""
        return self._stop.is_set()

    @property
    def live(self) -> bool:
        """True when a pod is connected live (not only recordings, not nothing)."""
        return any(not isinstance(ln, ReplayLink) for ln in self.links)

    def now_s(self) -> float:
        """Session seconds now: the clock live, the newest record in a replay."""
        return max(self.clock.now_s(), self._latest_s) if self.live else self._latest_s

    async def close(self) -> None:
        """STOP the pods' sessions, close the links, and finish every athlete's analysis."""
        if self.pod_sessions:
            await stop_sessions(self.links)
        await self._close_links()
        self.finish()

    def finish(self) -> None:
        """End every athlete's analysis (an open rep ends and is summarised)."""
        self.ended = True
        for row in self.rows.values():
            row.ended = True
            if self.analyze:
                for e in row.analyzer.finish():
                    self._event(row, e)

    async def _close_links(self) -> None:
        for ln in self.links:
            with contextlib.suppress(StrideCueError):
                await ln.close()

    async def _follow(self, link: Link) -> None:
        take = self.take
        async for item in link.records():
            decided = take(item, link)
            if decided:
                for row, cue, why in decided:
                    await self._send(row, cue, why, CueBy.AUTO, item.host_ns)

    async def handle(self, item: Received, link: Link | None = None) -> None:
        """Take one record and write the cues it caused (for callers that push records)."""
        for row, cue, why in self.take(item, link):
            await self._send(row, cue, why, CueBy.AUTO, item.host_ns)

    # --- athletes ---
    def add_athlete(self, pod: str, name: str = "", link: Link | None = None) -> Row:
        """The athlete wearing ``pod`` (created on first use)."""
        if name:
            self.roster.setdefault(pod, name)
        return self._row(pod, link)

    def _row(self, pod: str, link: Link | None, info: PodInfo | None = None) -> Row:
        row = self.rows.get(pod)
        if row is not None:
            return row
        info = info or PodInfo(pod=pod)
        name = athlete_for(self.roster, info, link.spec if link is not None else "")
        row = self.rows[pod] = Row(
            pod,
            name,
            link,
            self.clock.pod(info.clock_offset_ms),
            # the athlete's distance calibration (roster.scales), if any
            Analyzer(
                replace(
                    self.settings,
                    distance_scale=self.distance_scales.get(name, self.settings.distance_scale),
                )
            ),
            CuePolicy(self.cue_settings),
            rsc_only=info.rsc_only,
        )
        if link is not None and not isinstance(link, ReplayLink):
            if self.recorder is not None:
                self.recorder.add_pod(info, link.spec, athlete=name)
                if name in self.distance_scales:  # kept, so a report analyses as live
                    scales = self.recorder.meta["settings"].setdefault("distance_scales", {})
                    scales[pod] = self.distance_scales[name]
                    self.recorder.save_meta()
            link.on_state.append(lambda ln, state: self._link_changed(row, ln, state))
        for listener in self._listeners:
            listener.athlete_added(row)
        start = self.start_targets.get(row.name, self.start_targets.get(""))
        if start is not None:
            self.set_targets(pod, start)
        return row

    def find(self, who: str) -> Row | None:
        """The athlete named ``who`` (athlete name or pod id), or None."""
        for row in self.rows.values():
            if who in (row.athlete, row.pod):
                return row
        return None

    def _link_changed(self, row: Row, link: Link, state: LinkState) -> None:
        """Tell the listeners; after a reconnect keep the session notes current."""
        if state is LinkState.CONNECTED and self.recorder is not None:
            self.recorder.add_pod(link.info, link.spec, athlete=row.athlete)
        for listener in self._listeners:
            listener.link_changed(row, state)

    # --- per record: the one place records enter ---
    def take(self, item: Received, link: Link | None = None) -> list[tuple[Row, Cue, str]]:
        """Record, publish and analyse one received record; returns the cues to send."""
        self.frames += 1
        if self._scheduled and self._scheduled[0].host_ns <= item.host_ns:
            self._apply_scheduled(item.host_ns)
        if self.recorder is not None and item.channel in (Channel.POD, Channel.RSC):
            self.recorder.write(item)
        row = self.rows.get(item.pod) or self._row(item.pod, link)
        row.last_ns = item.host_ns
        rec = item.record
        if isinstance(rec, StrideEvent):
            t_s = row.clock.stride_s(rec.t_contact_ms, item.host_ns)
            if t_s > self._latest_s:
                self._latest_s = t_s
            if rec.flags & StrideFlag.FIRST:
                row.strides += 1  # from standing: a start, not the athlete's running form
                row.last_stride_s = t_s
            else:
                row.stride(t_s, rec.stride_time_ms / 1000.0, rec.stride_length_mm / 1000.0)
                row.cadence_spm = rec.cadence_spm
                row.stride_length_m = rec.stride_length_mm / 1000.0
                row.contact_ms = rec.contact_time_ms
            self._publish_record(row, item, t_s)
            if self.analyze:
                return self._analyze(row, rec, t_s)
            return _NO_CUES
        t_s = self.clock.host_s(item.host_ns)
        if t_s > self._latest_s:
            self._latest_s = t_s
        if isinstance(rec, RscMeasurement):
            row.rsc_only = True  # cadence and speed only: no contact time, no cues
            row.cadence_spm = rec.cadence_spm
            for t, stride_time, length in row.rsc.feed(t_s, rec):
                row.stride(t, stride_time, length)
                row.stride_length_m = length
                if self.analyze:
                    for e in row.analyzer.feed_values(t, stride_time, length, math.nan, -1):
                        self._event(row, e)
            row.stride_length_m = rec.stride_length_m or math.nan
        elif isinstance(rec, Cue) and item.channel is Channel.CUE:
            row.cues += 1  # found in a recording: shown as it was sent
            by = CueBy.COACH if rec.pattern is Pattern.PULSE else CueBy.AUTO
            for listener in self._listeners:
                listener.cue(row, CueSent(t_s, rec, by, CueBy.RECORDED))
            return _NO_CUES
        self._publish_record(row, item, t_s)
        if isinstance(rec, Status) and rec.coach != row.pod_coach:
            row.pod_coach = rec.coach
            for listener in self._listeners:
                listener.pod_coach(row, rec.coach)
        return _NO_CUES

    def _apply_scheduled(self, host_ns: int) -> None:
        while self._scheduled and self._scheduled[0].host_ns <= host_ns:
            change = self._scheduled.pop(0)
            if self.find(change.pod) is None:
                self.add_athlete(change.pod)
            self.set_targets(change.pod, change.targets, self.clock.host_s(change.host_ns))

    def _publish_record(self, row: Row, item: Received, t_s: float) -> None:
        for listener in self._listeners:
            listener.record(row, item, t_s)

    def _analyze(self, row: Row, rec: StrideEvent, t_s: float) -> list[tuple[Row, Cue, str]]:
        events = row.analyzer.feed_values(
            t_s,
            rec.stride_time_ms / 1000.0,
            rec.stride_length_mm / 1000.0,
            rec.contact_time_ms / 1000.0,
            rec.seq,
            int(rec.flags),  # what the pod could not vouch for is not judged
        )
        for e in events:
            self._event(row, e)
        out = _NO_CUES
        for d in row.policy.update(t_s, events):
            if d.action == "send" and d.cue is not None and self.send_cues:
                if out is _NO_CUES:
                    out = []
                out.append((row, d.cue, d.reason))
        return out

    def _event(self, row: Row, e: Event) -> None:
        if e.kind in ALERTS:
            row.alerts.add(ALERTS[EventKind(e.kind)])
        elif e.kind == EventKind.RECOVERED:
            problem = str(e.detail.get("problem", ""))
            if problem in ALERTS:
                row.alerts.discard(ALERTS[EventKind(problem)])
        for listener in self._listeners:
            listener.event(row, e)

    # --- cues ---
    async def _send(self, row: Row, cue: Cue, why: str, by: str, arrived_ns: int) -> bool:
        t_s = self.clock.now_s()
        link = row.link
        try:
            if link is None:
                raise LinkError(f"{row.name}: no pod to cue in a replay")
            await link.write_cue(cue)
        except LinkError as e:
            self.announce(row, f"cue not sent: {e}")
            return False
        now = time.time_ns()
        if arrived_ns:
            self.latencies_ns.append(now - arrived_ns)
        row.cues += 1
        if self.recorder is not None and link.scheme != "replay":
            self.recorder.write_sent(row.pod, Channel.CUE, bytes(cue), now)
        sent = CueSent(t_s, cue, by, why)
        for listener in self._listeners:
            listener.cue(row, sent)
        return True

    async def manual_cue(self, who: str) -> bool:
        """The coach's button: cue the athlete (or pod) named ``who`` now.

        False when there is no such athlete or the cue could not be written.
        """
        row = self.find(who)
        if row is None:
            return False
        d = row.policy.manual(self.clock.now_s())
        assert d.cue is not None
        return await self._send(row, d.cue, d.reason, CueBy.COACH, 0)

    # --- the coach's marks and targets ---
    def mark(self, text: str, athlete: str = "", t_s: float | None = None) -> None:
        """A coach's mark (lap, rep start/stop, a note), for one athlete or everyone."""
        row = self.find(athlete) if athlete else None
        if athlete and row is None:
            raise ConfigError(f"no athlete {athlete!r} in this practice; known: {self._names()}")
        if self.recorder is not None:
            self.recorder.mark(text, athlete=row.pod if row is not None else "")
        t = self.clock.now_s() if t_s is None else t_s
        for listener in self._listeners:
            listener.mark(row, t, text)

    def set_targets(self, who: str, targets: Targets, t_s: float | None = None) -> Targets:
        """New targets show at once and reach the athlete's analyzer from its next rep.

        With a rep distance and no plan, the athlete's roster plan for that distance is
        used (:attr:`plans`). Returns the targets applied (and stored in the session).
        """
        row = self.find(who)
        if row is None:
            raise ConfigError(f"no athlete {who!r} in this practice; known: {self._names()}")
        targets = self.with_roster_plan(row, targets)
        row.targets = targets
        # onto the athlete's own settings: their distance calibration stays
        row.analyzer.settings = targets.apply(row.analyzer.settings)
        if self.recorder is not None:
            self.recorder.set_targets(row.pod, targets, time.time_ns())
            self.recorder.mark(f"targets: {describe(targets)}", athlete=row.pod)
        t = self.clock.now_s() if t_s is None else t_s
        for listener in self._listeners:
            listener.targets_set(row, targets, t)
        return targets

    def with_roster_plan(self, row: Row, targets: Targets) -> Targets:
        """``targets`` with the athlete's roster plan for its rep distance, unless it has a plan."""
        if targets.plan is not None or targets.rep_distance_m is None:
            return targets
        plan = self.plans.get(row.athlete, {}).get(targets.rep_distance_m)
        return targets if plan is None else replace(targets, plan=plan)

    def announce(self, row: Row, text: str) -> None:
        """Publish a line for the coach about ``row`` (the demo's "run finished")."""
        for listener in self._listeners:
            listener.note(row, text)

    def _names(self) -> str:
        return ", ".join(sorted(r.name for r in self.rows.values())) or "none yet"


def _clock_of(recorder: Recorder | None) -> SessionClock:
    """The session's clock: from the recording's start (and simulation speed), else now."""
    if recorder is None:
        return SessionClock(time.time_ns())
    speed = recorder.meta.get("settings", {}).get("speed", 1.0)
    return SessionClock(
        int(recorder.meta["start_ns"]), float(speed) if isinstance(speed, int | float) else 1.0
    )


def describe(targets: Targets) -> str:
    """The coach's targets in a mark's words: ``cadence 190, 400 m goal 52, 400 m reps,
    plan 100:11.5,200:24,400:50``."""
    parts = [
        f"{name} {value:g}"
        for name, value in (
            ("cadence", targets.cadence_spm),
            ("stride length", targets.stride_length_m),
            ("400 m goal", targets.goal_400_s),
        )
        if value is not None
    ]
    if targets.rep_distance_m is not None:
        parts.append(f"{targets.rep_distance_m:g} m reps")
    if targets.plan is not None:
        parts.append(f"plan {targets.plan.spec}")
    if targets.event is not None:
        parts.append(f"{targets.event} preset")
    return ", ".join(parts) or "none"


def latency_ms(latencies_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 of the frame-arrival-to-cue-write latencies, ms."""
    if not latencies_ns:
        return math.nan, math.nan
    s = sorted(latencies_ns)
    return s[len(s) // 2] / 1e6, s[min(len(s) - 1, int(len(s) * 0.99))] / 1e6
