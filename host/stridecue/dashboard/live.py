"""Live pods into the dashboard, and the coach's buttons back to the pods.

:class:`LiveHub` reads every link's records into a :class:`Feed` and implements the
page's :class:`~stridecue.dashboard.controls.Controls`: a manual cue goes to the
athlete's pod through that link's ``write_cue``. It needs only this much of a link,
so any link of ``stridecue.links`` (BLE, serial, sim, replay) fits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from stridecue.dashboard.feed import Feed, StrideHook
from stridecue.dashboard.state import LiveState
from stridecue.dashboard.targets import Targets
from stridecue.errors import ConfigError
from stridecue.protocol import Cue
from stridecue.protocol.records import Pattern

log = logging.getLogger(__name__)

MANUAL_CUE = Cue(Pattern.PULSE, intensity_pct=100, repeat=1, duration_ms=400)


class ReceivedLike(Protocol):
    @property
    def pod(self) -> str: ...

    @property
    def host_ns(self) -> int: ...

    @property
    def record(self) -> object: ...


class StateLike(Protocol):
    @property
    def value(self) -> str: ...


class LinkLike(Protocol):
    """The part of ``stridecue.links.Link`` the dashboard uses."""

    @property
    def pod(self) -> str: ...

    on_state: list[Callable[..., None]]

    @property
    def state(self) -> StateLike: ...

    def records(self) -> AsyncIterator[ReceivedLike]: ...

    async def write_cue(self, cue: Cue) -> None: ...


MarkSink = Callable[[str, str], None]  # (pod, text): e.g. the recorder's mark writer


class LiveHub:
    """Feeds the state from links; routes coach actions to pods, the feed and marks."""

    def __init__(
        self,
        state: LiveState,
        links: list[LinkLike],
        *,
        t0_ns: int | None = None,
        on_stride: StrideHook | None = None,
        on_mark: MarkSink | None = None,
        on_targets: Callable[[str, Targets], None] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        self.state = state
        self.links = links
        self.feed = Feed(
            state, t0_ns=time.time_ns() if t0_ns is None else t0_ns, on_stride=on_stride
        )
        self.on_mark = on_mark
        self.on_targets = on_targets
        self._by_pod: dict[str, LinkLike] = {}
        self._tasks: list[asyncio.Task[None]] = []
        for link in links:
            self._by_pod[link.pod] = link
            state.athlete(link.pod, (names or {}).get(link.pod, ""))
            link.on_state.append(self._state_cb(link.pod))
            self.feed.link_state(link.pod, link.state.value)

    def _state_cb(self, pod: str) -> Callable[..., None]:
        def cb(_link: object, new: StateLike) -> None:
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

    async def _pump(self, link: LinkLike) -> None:
        async for rec in link.records():
            self._by_pod.setdefault(rec.pod, link)
            self.feed.record(rec.pod, rec.host_ns, rec.record, arrived_ms=time.time() * 1000.0)

    def _now(self) -> float:
        return self.feed.t_s(time.time_ns())

    # --- Controls ---
    @property
    def can_cue(self) -> bool:
        return True

    async def cue(self, pod: str) -> None:
        link = self._by_pod.get(pod)
        if link is None:
            raise ConfigError(f"no pod {pod!r} on this dashboard; known: {sorted(self._by_pod)}")
        await link.write_cue(MANUAL_CUE)
        self.feed.cue_sent(pod, self._now(), MANUAL_CUE)

    def lap(self, pod: str) -> None:
        self.feed.mark(pod, self._now(), "lap")
        self._mark(pod, "lap")

    def start_rep(self, pod: str) -> None:
        self.feed.start_rep(pod, self._now())
        self._mark(pod, "rep start")

    def stop_rep(self, pod: str) -> None:
        self.feed.stop_rep(pod, self._now())
        self._mark(pod, "rep stop")

    def set_targets(self, pod: str, targets: Targets) -> None:
        self.feed.set_targets(pod, targets)
        if self.on_targets is not None:
            self.on_targets(pod, targets)

    def _mark(self, pod: str, text: str) -> None:
        if self.on_mark is not None:
            self.on_mark(pod, text)
