"""The page's buttons on a live practice: every coach action goes through the practice.

A manual cue is the practice's ``manual_cue`` (its cue policy, its link, its
recorder); a lap or a rep start/stop is the practice's ``mark``; targets are the
practice's ``set_targets``. What the page shows then comes back through the
practice's publication (:class:`~stridecue.dashboard.feed.Feed`), like everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from stridecue.analysis import Targets
from stridecue.analysis.plan import Plan
from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.relaypanel import attach as attach_relay
from stridecue.dashboard.server import Dashboard
from stridecue.dashboard.state import LiveState
from stridecue.errors import ConfigError
from stridecue.practice import Practice


class PracticeControls:
    """:class:`~stridecue.dashboard.controls.Controls` for a running practice."""

    def __init__(self, practice: Practice) -> None:
        self.practice = practice

    @property
    def can_cue(self) -> bool:
        return True

    def _pod(self, pod: str) -> str:
        row = self.practice.find(pod)
        if row is None:
            known = sorted(self.practice.rows)
            raise ConfigError(f"no pod {pod!r} on this dashboard; known: {known}")
        return row.pod

    async def cue(self, pod: str) -> None:
        # a cue that cannot be written shows on the tile ("cue not sent: ...")
        await self.practice.manual_cue(self._pod(pod))

    def lap(self, pod: str) -> None:
        self.practice.mark("lap", athlete=self._pod(pod))

    def start_rep(self, pod: str) -> None:
        self.practice.mark("rep start", athlete=self._pod(pod))

    def stop_rep(self, pod: str) -> None:
        self.practice.mark("rep stop", athlete=self._pod(pod))

    def set_targets(self, pod: str, targets: Targets) -> Targets:
        return self.practice.set_targets(self._pod(pod), targets)

    def plans(self, pod: str) -> Mapping[float, Plan]:
        row = self.practice.find(pod)
        return self.practice.plans.get(row.athlete, {}) if row is not None else {}


def serve_practice(
    practice: Practice,
    *,
    title: str = "StrideCue practice",
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
) -> Dashboard:
    """Serve the page for ``practice`` on the running loop; open ``dashboard.url``."""
    state = LiveState(title)
    feed = Feed(state)
    practice.subscribe(feed)
    attach_relay(state, practice)
    dash = Dashboard(state, PracticeControls(practice), host=host, port=port)
    dash.start()
    keep_time(feed, practice)
    return dash


def keep_time(feed: Feed, practice: Practice, every_s: float = 0.5) -> asyncio.Task[None]:
    """Tick the page's clock and tile states (resting after a while) until the practice ends."""

    async def tick() -> None:
        while True:
            feed.tick(practice.rows.values(), practice.now_s())
            if practice.ended:
                return
            await asyncio.sleep(every_s)

    task = asyncio.get_running_loop().create_task(tick(), name="dashboard clock")
    _tickers.add(task)
    task.add_done_callback(_tickers.discard)
    return task


_tickers: set[asyncio.Task[None]] = set()
