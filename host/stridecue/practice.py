"""One practice: links in, recorder, per-athlete analysis and cues out, rows for a view.

``stridecue live``, ``record`` and ``replay`` all run this; they differ only in
the links they open, whether a recorder is attached and how the rows are shown.
Per pod: every received frame is recorded as it arrived, each stride goes to that
athlete's analyzer and cue policy, and a cue decided is written back at once
(and recorded as sent). Frame arrival to cue write is timed (``latencies_ns``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stridecue.analysis import Analyzer, CuePolicy, Event
from stridecue.errors import LinkError, StrideCueError
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
from stridecue.protocol import Cue, RscMeasurement, StrideEvent
from stridecue.recorder import Recorder
from stridecue.roster import athlete_for

log = logging.getLogger(__name__)

ALERTS = {"rhythm_loss": "rhythm lost", "stride_shortening": "strides shortening"}
_NO_CUES: list[tuple[Row, Cue, str]] = []  # shared, never appended to


@dataclass
class Row:
    """What the view shows for one athlete."""

    pod: str
    athlete: str
    link: Link
    strides: int = 0
    cadence_spm: float = math.nan
    stride_length_m: float = math.nan
    contact_ms: float = math.nan
    rsc_only: bool = False
    alerts: set[str] = field(default_factory=set)
    cues: int = 0
    last_ns: int = 0
    analyzer: Analyzer = field(default_factory=Analyzer)
    policy: CuePolicy = field(default_factory=CuePolicy)

    @property
    def name(self) -> str:
        return self.athlete or self.pod

    @property
    def state(self) -> str:
        return self.link.state.value


class Practice:
    def __init__(
        self,
        links: list[Link],
        *,
        roster: dict[str, str] | None = None,
        recorder: Recorder | None = None,
        analyze: bool = True,
        cues: bool = True,
        on_event: Callable[[Row, str], None] | None = None,
        pod_sessions: bool = True,
    ) -> None:
        self.links = links
        # a pod measures only in a session: START at connect, STOP when the practice ends
        self.pod_sessions = pod_sessions
        self.roster = roster or {}
        self.recorder = recorder
        self.analyze = analyze
        self.send_cues = cues
        self.on_event = on_event or (lambda row, text: None)
        self.rows: dict[str, Row] = {}
        self.latencies_ns: list[int] = []
        self.frames = 0
        self._stop = asyncio.Event()

    # --- running ---
    async def connect(self) -> None:
        """Connect every link (BLE connects are serialized inside the link)."""
        results = await asyncio.gather(*(ln.connect() for ln in self.links), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            for ln in self.links:
                with contextlib.suppress(StrideCueError):
                    await ln.close()
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
                for ln in self.links:
                    with contextlib.suppress(StrideCueError):
                        await ln.close()
                raise
        for ln in self.links:
            if isinstance(ln, ReplayLink):
                assert ln.session is not None
                self.roster = {**ln.session.athletes, **self.roster}
                for info in ln.pod_infos():
                    self._row(info.pod, ln, info)
            else:
                self._row(ln.info.pod, ln, ln.info)

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

    async def close(self) -> None:
        if self.pod_sessions:
            await stop_sessions(self.links)
        for ln in self.links:
            with contextlib.suppress(StrideCueError):
                await ln.close()
        for row in self.rows.values():
            if self.analyze and not row.rsc_only:
                for e in row.analyzer.finish():
                    self._event(row, e)

    # --- per record ---
    def _row(self, pod: str, link: Link, info: PodInfo | None = None) -> Row:
        row = self.rows.get(pod)
        if row is None:
            info = info or PodInfo(pod=pod)
            name = athlete_for(self.roster, info, link.spec)
            row = self.rows[pod] = Row(pod, name, link, rsc_only=info.rsc_only)
            if self.recorder is not None:
                self.recorder.add_pod(info, link.spec, athlete=name)
                if not isinstance(link, ReplayLink):
                    link.on_state.append(self._refresh_meta)
        return row

    def _refresh_meta(self, link: Link, state: LinkState) -> None:
        """After a reconnect, keep the session notes current (clock offset, firmware)."""
        if state is LinkState.CONNECTED and self.recorder is not None:
            row = self.rows.get(link.info.pod)
            self.recorder.add_pod(link.info, link.spec, athlete=row.athlete if row else "")

    async def _follow(self, link: Link) -> None:
        take = self.take
        async for item in link.records():
            decided = take(link, item)
            if decided:
                for row, cue, why in decided:
                    await self._send(row, link, cue, why, item.host_ns)

    async def handle(self, link: Link, item: Received) -> None:
        """Take one received record and send the cues it caused."""
        for row, cue, why in self.take(link, item):
            await self._send(row, link, cue, why, item.host_ns)

    def take(self, link: Link, item: Received) -> list[tuple[Row, Cue, str]]:
        """Record, show and analyse one received record; returns the cues to send."""
        self.frames += 1
        if self.recorder is not None and item.channel in (Channel.POD, Channel.RSC):
            self.recorder.write(item)
        row = self.rows.get(item.pod) or self._row(item.pod, link)
        row.last_ns = item.host_ns
        rec = item.record
        if isinstance(rec, StrideEvent):
            row.strides += 1
            row.cadence_spm = rec.cadence_spm
            row.stride_length_m = rec.stride_length_mm / 1000.0
            row.contact_ms = rec.contact_time_ms
            if self.analyze:
                return self._analyze(row, rec)
        elif isinstance(rec, RscMeasurement):
            row.rsc_only = True
            row.strides += 1
            row.cadence_spm = rec.cadence_spm
            row.stride_length_m = rec.stride_length_m or math.nan
        return _NO_CUES

    def _analyze(self, row: Row, rec: StrideEvent) -> list[tuple[Row, Cue, str]]:
        t_s = rec.t_contact_ms / 1000.0
        events = row.analyzer.feed_values(
            t_s,
            rec.stride_time_ms / 1000.0,
            rec.stride_length_mm / 1000.0,
            rec.contact_time_ms / 1000.0,
            rec.seq,
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

    async def _send(self, row: Row, link: Link, cue: Cue, why: str, t_ns: int) -> None:
        try:
            await link.write_cue(cue)
        except LinkError as e:
            self.on_event(row, f"cue not sent: {e}")
            return
        now = time.time_ns()
        if t_ns:
            self.latencies_ns.append(now - t_ns)
        row.cues += 1
        if self.recorder is not None and link.scheme != "replay":
            self.recorder.write_sent(row.pod, Channel.CUE, bytes(cue), now)
        self.on_event(row, f"cue {cue.pattern.name.lower()}: {why}")

    async def manual_cue(self, who: str) -> bool:
        """The coach's button: cue the athlete (or pod) named ``who`` now."""
        for row in self.rows.values():
            if who in (row.athlete, row.pod):
                d = row.policy.manual(time.monotonic())
                assert d.cue is not None
                await self._send(row, row.link, d.cue, "coach", 0)
                return True
        return False

    def mark(self, text: str) -> None:
        """A coach's mark (lap, split, note) in the recording."""
        if self.recorder is not None:
            self.recorder.mark(text)

    def _event(self, row: Row, e: Event) -> None:
        if e.kind in ALERTS:
            row.alerts.add(ALERTS[e.kind])
            self.on_event(row, ALERTS[e.kind])
        elif e.kind == "recovered":
            problem = ALERTS.get(str(e.detail.get("problem", "")), "")
            row.alerts.discard(problem)
            self.on_event(row, f"recovered ({problem})" if problem else "recovered")


def latency_ms(latencies_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 of the frame-arrival-to-cue-write latencies, ms."""
    if not latencies_ns:
        return math.nan, math.nan
    s = sorted(latencies_ns)
    return s[len(s) // 2] / 1e6, s[min(len(s) - 1, int(len(s) * 0.99))] / 1e6
