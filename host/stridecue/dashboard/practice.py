"""Show a running :class:`stridecue.practice.Practice` on the dashboard.

``stridecue live``/``record``/``replay``/``demo`` run a Practice (links, recorder,
analysis, cues). :func:`serve_practice` puts the dashboard beside it: every record
the practice takes (``Practice.take``) is also fed to the page, and the page's buttons act through
the practice (a manual cue is the practice's ``manual_cue``, marks are recorded)::

    practice = Practice(links, recorder=rec)
    dash = serve_practice(practice, host="127.0.0.1", port=8765)   # in the running loop
    await run_practice(practice, ...)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from stridecue.analysis.targets import Targets
from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.dashboard.controls import MarkControls
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.server import Dashboard
from stridecue.dashboard.state import LiveState
from stridecue.links import Link, Received
from stridecue.practice import Practice


class PracticeBridge(MarkControls):
    """Feeds the page from a practice and implements the page's controls through it."""

    def __init__(self, practice: Practice, state: LiveState) -> None:
        self.practice = practice
        self.state = state
        self.feed = Feed(state, t0_ns=time.time_ns())
        inner: Callable[[Link, Received], list[Any]] = practice.take

        def take(link: Link, item: Received) -> list[Any]:
            cues = inner(link, item)
            self._seen(link, item)
            return cues

        setattr(practice, "take", take)  # noqa: B010 - wrap this one instance's per-record hook

    def _seen(self, link: Link, item: Received) -> None:
        pod = item.pod
        if pod not in self.state.athletes:
            row = self.practice.rows.get(pod)
            self.state.athlete(pod, row.name if row is not None else pod)
            link.on_state.append(lambda _l, new: self.feed.link_state(pod, new.value))
            self.feed.link_state(pod, link.state.value)
        self.feed.record(pod, item.host_ns, item.record, arrived_ms=time.time() * 1000.0)

    def _now(self) -> float:
        return self.feed.t_s(time.time_ns())

    # --- Controls ---
    @property
    def can_cue(self) -> bool:
        return True

    async def cue(self, pod: str) -> None:
        row = self.practice.rows.get(pod)
        before = row.cues if row is not None else 0
        if await self.practice.manual_cue(pod) and row is not None and row.cues > before:
            view = self.state.athlete(pod)
            self.state.update(pod, cues_sent=view.cues_sent + 1)
            self.state.add_alert(pod, self._now(), "cue", "cue sent: pulse (coach)")

    def set_targets(self, pod: str, targets: Targets) -> None:
        self.feed.set_targets(pod, targets)
        row = self.practice.rows.get(pod)
        if row is not None:  # the live cue policy's analyzer uses them from the next rep
            row.analyzer.settings = self.feed.settings_for(targets)

    def _mark(self, pod: str, text: str) -> None:
        """Recorded with the athlete's pod, so a replay shows it on that tile only."""
        if self.practice.recorder is not None:
            self.practice.recorder.mark(text, athlete=pod)


def serve_practice(
    practice: Practice,
    *,
    title: str = "StrideCue practice",
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
) -> Dashboard:
    """Start the dashboard for ``practice`` on the running loop; open ``dashboard.url``."""
    state = LiveState(title)
    bridge = PracticeBridge(practice, state)
    dash = Dashboard(state, bridge, host=host, port=port)
    dash.start()
    return dash
