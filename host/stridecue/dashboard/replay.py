"""Replay a recorded session into the dashboard at 1x-16x, with seek.

The whole session is read into a timeline (records, cues sent, coach marks in host
time order) by the session's one reader (:meth:`stridecue.session.Session.items`).
Playing feeds the timeline up to the replay clock every few tens of milliseconds;
seeking back starts a fresh feed (fresh analyzers: they are causal) and feeds
everything up to the new time at once, so what the page shows after a seek is
exactly what it showed when playing reached that time.

A relay practice (a session storing relay setups) replays with its relay panel,
read-only: each setup is put in force at the time the coach applied it, and the
exchanges and the team plan appear as the replay reaches them, measured as they
were live (:mod:`stridecue.relaywatch`).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets
from stridecue.dashboard.controls import SPEEDS
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.state import LiveState
from stridecue.errors import ConfigError, StrideCueError
from stridecue.practice import Practice
from stridecue.protocol.records import Cue
from stridecue.protocol.rsc import RscMeasurement
from stridecue.relay import RelaySetup, stored_history
from stridecue.relaywatch import desk_for
from stridecue.session import Channel, Received, Session
from stridecue.timeline import SessionClock

log = logging.getLogger(__name__)

TICK_S = 0.02


@dataclass(frozen=True, slots=True)
class Item:
    host_ns: int
    pod: str
    kind: str  # record | mark | relay
    payload: object  # a decoded record, the mark's text, or a relay setup put in force


@dataclass(frozen=True, slots=True)
class Timeline:
    t0_ns: int
    items: list[Item]
    names: dict[str, str]
    duration_s: float
    problems: list[str] = field(default_factory=list)  # as the session reader found them
    relay: bool = False  # a relay practice: the page has a relay panel
    syncs_ms: dict[str, float] = field(default_factory=dict)  # pod: time sync (real time)

    @classmethod
    def load(cls, path: str | Path) -> Timeline:
        """The session's records, cues sent and marks, on the athletes' time.

        A simulation recorded faster than real time replays on the athletes' time.
        """
        session = Session.open(path)
        for tail in session.bad_tails:
            log.warning("%s", tail)
        items = [
            Item(r.host_ns, r.pod, "record", r.record)
            for r in session.items(include_sent=True, scaled=True)
            if r.channel is not Channel.CONTROL
        ]
        for mark in session.marks():
            t = session.athlete_ns(mark.host_ns)
            for pod in [mark.athlete] if mark.athlete else session.pods:
                items.append(Item(t, pod, "mark", mark.text))
        problems = list(session.problems)
        try:
            setups = stored_history(session.meta.get("settings", {}))
        except StrideCueError as e:
            setups = []
            problems.append(f"relay setup not replayed: {e}")
        for host_ns, setup in setups:
            t = session.start_ns if host_ns is None else session.athlete_ns(host_ns)
            items.append(Item(t, "", "relay", setup))
        # stable: a setup applied at the start comes before the records of that moment
        items.sort(key=lambda it: (it.host_ns, it.kind != "relay"))
        t0 = session.start_ns
        duration = (items[-1].host_ns - t0) / 1e9 if items else 0.0
        # a pod's time sync places its strides as live; a sped-up simulation learnt the
        # offsets from the arrivals instead (timeline.PodClock), and so does its replay
        syncs = {pod: session.time_sync(pod)[0] for pod in session.athletes}
        if session.speed != 1.0:
            syncs = {}
        return cls(
            t0, items, session.athletes, duration, problems, bool(setups),
            {pod: ms for pod, ms in syncs.items() if ms is not None},
        )  # fmt: skip


class ReplayPlayer:
    """Plays a :class:`Timeline` through a practice into a :class:`LiveState`.

    The player is also the page's controls: in a replay nothing reaches a pod, and
    marks and targets act on what the page shows (through the same practice).
    """

    def __init__(self, state: LiveState, timeline: Timeline, *, speed: float = 1.0) -> None:
        self.state = state
        self.timeline = timeline
        self._times = [it.host_ns for it in timeline.items]
        self._speed = 1.0
        self.set_speed(speed)
        self._playing = False
        self._clock_s = 0.0
        self._index = 0
        self._wall = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._targets: dict[str, Targets] = {}
        self.relay: Any = None  # the read-only relay panel's board (a relay practice)
        state.mode = "replay"
        state.duration_s = timeline.duration_s
        self._restart()

    # --- Player ---
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def duration_s(self) -> float:
        return self.timeline.duration_s

    @property
    def clock_s(self) -> float:
        return self._clock_s

    def set_speed(self, speed: float) -> None:
        if not SPEEDS[0] <= speed <= SPEEDS[-1]:
            raise ConfigError(
                f"replay speed {speed:g}x is out of range: allowed {SPEEDS[0]:g}..{SPEEDS[-1]:g}"
            )
        self._speed = speed

    def play(self) -> None:
        if self._playing:
            return
        self._playing = True
        self._wall = time.monotonic()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def pause(self) -> None:
        self._playing = False

    def seek(self, t_s: float) -> None:
        t_s = min(max(t_s, 0.0), self.duration_s)
        if t_s < self._clock_s:
            self._restart()
        self._advance_to(t_s)

    async def finished(self) -> None:
        """Wait until playing reaches the end of the session."""
        if self._task is not None:
            await self._task

    # --- Controls (replay: no pod to cue; marks and targets act on the view) ---
    @property
    def can_cue(self) -> bool:
        return False

    async def cue(self, pod: str) -> None:
        raise ConfigError("a replayed session has no pod to cue; cue during a live session")

    def lap(self, pod: str) -> None:
        self.practice.mark("lap", athlete=pod, t_s=self._clock_s)

    def start_rep(self, pod: str) -> None:
        self.practice.mark("rep start", athlete=pod, t_s=self._clock_s)

    def stop_rep(self, pod: str) -> None:
        self.practice.mark("rep stop", athlete=pod, t_s=self._clock_s)

    def set_targets(self, pod: str, targets: Targets) -> Targets:
        applied = self.practice.set_targets(pod, targets, t_s=self._clock_s)
        self._targets[pod] = applied  # kept over a seek back
        return applied

    def plans(self, pod: str) -> Mapping[float, Plan]:
        return {}  # a recording's targets carry the plans they had

    # --- internals ---
    def _restart(self) -> None:
        """A fresh practice (its analyzers are causal) from the session's start."""
        self.state.reset()
        self.practice = Practice(
            [],
            roster=dict(self.timeline.names),
            cues=False,
            pod_sessions=False,
            clock=SessionClock(self.timeline.t0_ns),
        )
        self.feed = Feed(self.state, link_name="replay")
        self.practice.subscribe(self.feed)
        for pod, name in self.timeline.names.items():
            row = self.practice.add_athlete(pod, name)
            if pod in self.timeline.syncs_ms:  # strides placed by the pod's time sync, as live
                row.clock = self.practice.clock.pod(self.timeline.syncs_ms[pod])
        for pod, targets in self._targets.items():
            self.practice.set_targets(pod, targets, t_s=0.0)
        self._index = 0
        self._clock_s = 0.0
        if self.timeline.relay:
            self._follow_relay()

    def _follow_relay(self) -> None:
        """The relay panel follows the fresh practice's desk (read-only: as recorded)."""
        from stridecue.dashboard.relaypanel import attach  # Bokeh: only with a page

        desk = desk_for(self.practice)
        if self.relay is None:
            self.relay = attach(self.state, self.practice, read_only=True)
        else:
            self.relay.follow(desk)

    def _advance_to(self, t_s: float) -> None:
        end_ns = self.timeline.t0_ns + int(t_s * 1e9)
        stop = bisect.bisect_right(self._times, end_ns, lo=self._index)
        practice = self.practice
        items = self.timeline.items
        for i in range(self._index, stop):
            it = items[i]
            if it.kind == "mark":
                practice.mark(
                    str(it.payload), athlete=it.pod, t_s=practice.clock.host_s(it.host_ns)
                )
            elif it.kind == "relay":
                assert isinstance(it.payload, RelaySetup)
                desk_for(practice).apply(it.payload)
            else:
                practice.take(_received(it))
        self._index = stop
        self._clock_s = t_s
        self.feed.tick(self.practice.rows.values(), t_s)

    async def _run(self) -> None:
        while self._clock_s < self.duration_s:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            if self._playing:
                self._advance_to(
                    min(self._clock_s + (now - self._wall) * self._speed, self.duration_s)
                )
            self._wall = now
        self._playing = False
        self.state.tick(self._clock_s)


def _received(it: Item) -> Received:
    """A timeline record as the practice takes it (the raw bytes are not needed here)."""
    rec = it.payload
    if isinstance(rec, Cue):
        channel = Channel.CUE
    elif isinstance(rec, RscMeasurement):
        channel = Channel.RSC
    else:
        channel = Channel.POD
    return Received(it.pod, it.host_ns, channel, b"", rec)  # type: ignore[arg-type]
