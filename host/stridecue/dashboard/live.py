"""Live pods into the dashboard, and the coach's buttons back to the pods.

:class:`LiveHub` reads every link's records into a :class:`Feed` (which runs each
athlete's analyzer), sends the cue policy's cues, records everything when given a
recorder, and implements the page's :class:`~stridecue.dashboard.controls.Controls`:
a manual cue goes to the athlete's pod through that link's ``write_cue``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from stridecue.analysis import CuePolicy
from stridecue.analysis.targets import Targets
from stridecue.dashboard.controls import MarkControls
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.state import LiveState
from stridecue.errors import ConfigError
from stridecue.links import Channel, Link, LinkState
from stridecue.protocol import Cue, StrideEvent
from stridecue.recorder import Recorder

log = logging.getLogger(__name__)


class LiveHub(MarkControls):
    """Feeds the state from links; routes coach actions to pods, the feed and the recorder."""

    def __init__(
        self,
        state: LiveState,
        links: list[Link],
        *,
        t0_ns: int | None = None,
        names: dict[str, str] | None = None,
        auto_cues: bool = True,
        recorder: Recorder | None = None,
    ) -> None:
        self.state = state
        self.links = links
        self.feed = Feed(state, t0_ns=time.time_ns() if t0_ns is None else t0_ns)
        self.auto_cues = auto_cues
        self.recorder = recorder
        self.policies: dict[str, CuePolicy] = {}
        self._seen: dict[str, int] = {}
        self._by_pod: dict[str, Link] = {}
        self._tasks: list[asyncio.Task[None]] = []
        for link in links:
            self._by_pod[link.pod] = link
            state.athlete(link.pod, (names or {}).get(link.pod, ""))
            link.on_state.append(self._state_cb(link.pod))
            self.feed.link_state(link.pod, link.state.value)

    def _state_cb(self, pod: str) -> Callable[..., None]:
        def cb(_link: object, new: LinkState) -> None:
            self.feed.link_state(pod, new.value)

        return cb

    def start(self) -> None:
        """Start reading every link (links must already be connected)."""
        for link in self.links:
            self._tasks.append(asyncio.get_running_loop().create_task(self._pump(link)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _pump(self, link: Link) -> None:
        async for rec in link.records():
            pod = rec.pod
            self._by_pod.setdefault(pod, link)
            if self.recorder is not None:
                self.recorder.write(rec)
            self.feed.record(pod, rec.host_ns, rec.record, arrived_ms=time.time() * 1000.0)
            if self.auto_cues and isinstance(rec.record, StrideEvent):
                await self._policy(pod, self.feed.t_s(rec.host_ns))

    async def _policy(self, pod: str, t: float) -> None:
        events = self.feed.events.get(pod, [])
        new = events[self._seen.get(pod, 0) :]
        self._seen[pod] = len(events)
        policy = self.policies.setdefault(pod, CuePolicy())
        for decision in policy.update(t, new):
            if decision.action == "send" and decision.cue is not None:
                log.info("%s: cue %s (%s)", pod, decision.cue.pattern.name, decision.reason)
                await self._send(pod, decision.cue)

    async def _send(self, pod: str, cue: Cue) -> None:
        link = self._by_pod.get(pod)
        if link is None:
            raise ConfigError(f"no pod {pod!r} on this dashboard; known: {sorted(self._by_pod)}")
        await link.write_cue(cue)
        now = time.time_ns()
        if self.recorder is not None:
            self.recorder.write_sent(pod, Channel.CUE, bytes(cue), now)
        self.feed.cue_sent(pod, self.feed.t_s(now), cue)

    def _now(self) -> float:
        return self.feed.t_s(time.time_ns())

    # --- Controls ---
    @property
    def can_cue(self) -> bool:
        return True

    async def cue(self, pod: str) -> None:
        policy = self.policies.setdefault(pod, CuePolicy())
        decision = policy.manual(self._now())
        assert decision.cue is not None
        await self._send(pod, decision.cue)

    def set_targets(self, pod: str, targets: Targets) -> None:
        self.feed.set_targets(pod, targets)
        parts = [
            f"{name} {value:g}"
            for name, value in (
                ("cadence", targets.cadence_spm),
                ("stride length", targets.stride_length_m),
                ("400 m goal", targets.goal_400_s),
            )
            if value is not None
        ]
        self._mark(pod, "targets: " + (", ".join(parts) or "none"))

    def _mark(self, pod: str, text: str) -> None:
        if self.recorder is not None:
            self.recorder.mark(text, athlete=pod)
