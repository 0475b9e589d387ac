"""Tiles a coach can read from across the track, in real Chromium.

Four athletes on one page at 1366x900 (a track-side laptop): each tile shows what
its athlete is doing (running, resting, link lost, finished), the pace per 100 m,
and an alert that stays on the tile until the athlete recovers, however many
buzz lines come after it. The strides are pushed through a real practice (the one
pipeline) on a clock the test moves, so every state is reached on purpose.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browserkit import LoopThread, wait_until
from stridecue.dashboard import Dashboard, LiveState, PracticeControls
from stridecue.dashboard.feed import Feed
from stridecue.links.base import Channel, Received
from stridecue.practice import Practice
from stridecue.protocol import StrideEvent
from stridecue.sim import strides as S
from stridecue.timeline import SessionClock

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "host"))
from cuepod import CuePod
from test_dashboard_browser import _open

pytestmark = pytest.mark.slow
T0 = 1_700_000_000 * 10**9


class Track:
    """Four athletes on a practice whose clock the test moves."""

    def __init__(self) -> None:
        self.now = T0
        self.practice = Practice([], clock=SessionClock(T0, now_ns=lambda: self.now))
        self.state = LiveState("StrideCue states")
        self.feed = Feed(self.state)
        self.practice.subscribe(self.feed)
        self.pods = {n: CuePod(n) for n in ("ana", "ben", "cleo", "dev")}
        for pod in self.pods.values():
            self.practice.add_athlete(pod.target, pod.target.title(), link=pod)
        self.device_ms = dict.fromkeys(self.pods, 0)
        self.seq = dict.fromkeys(self.pods, 0)

    async def run(self, pod: str, strides: list[S.StrideTruth]) -> None:
        # the pod's clock ran on while it was not running (the practice's one timeline)
        self.device_ms[pod] = max(self.device_ms[pod], (self.now - T0) // 10**6)
        for s in strides:
            self.device_ms[pod] += round(s.stride_time_s * 1000)
            self.now = max(self.now, T0 + self.device_ms[pod] * 10**6 + 50_000_000)
            ev = StrideEvent(
                self.seq[pod],
                self.device_ms[pod],
                round(s.stride_time_s * 1000),
                round(s.contact_time_s * 1000),
                round(s.stride_length_m * 1000),
            )
            self.seq[pod] += 1
            await self.practice.handle(Received(pod, self.now, Channel.POD, bytes(ev), ev))
        self.tick()

    async def together(self, pods: list[str], strides: list[S.StrideTruth]) -> None:
        """The athletes run side by side, stride for stride."""
        for s in strides:
            for pod in pods:
                await self.run(pod, [s])

    def tick(self) -> None:
        self.feed.tick(self.practice.rows.values(), self.practice.now_s())


def _badge(page: Any, n: int) -> str:
    text: str = page.locator(".sc-tile").nth(n).locator(".sc-state").inner_text()
    return text


def test_tiles_show_state_pace_and_alerts_until_recovery(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    rng = np.random.default_rng(1)
    fade = list(S.shortening(rng, drop=0.08, before=60, after=30).strides)
    back = list(S.steady(rng, n_strides=40).strides)
    steady = list(S.steady(rng, n_strides=40).strides)

    async def start() -> tuple[Track, Dashboard]:
        track = Track()
        dash = Dashboard(track.state, PracticeControls(track.practice), port=0)
        dash.start()
        return track, dash

    track, dash = loop_thread.run(start())
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.close()
    page = _open(browser, dash.url, [])
    page.set_viewport_size({"width": 1366, "height": 900})
    try:
        assert page.locator(".sc-tile").count() == 4
        wait_until(lambda: _badge(page, 0) == "waiting", 5, "waiting before any stride")
        loop_thread.run(track.together(["ana", "ben", "cleo", "dev"], steady))
        wait_until(lambda: _badge(page, 0) == "running", 5, "running")
        # pace: 3.6 m strides every 0.48 s = 7.5 m/s = 13.3 s per 100 m
        wait_until(
            lambda: (
                "13."
                in page.evaluate("() => Bokeh.documents[0].get_model_by_name('pace-ana').text")
            ),
            5,
            "the pace",
        )
        # Ana fades: the alert goes up, buzz lines follow, the alert stays up
        loop_thread.run(track.together(["ana", "dev"], fade))
        tile = page.locator(".sc-tile").nth(0)
        wait_until(
            lambda: "strides shortening" in tile.locator(".sc-active").inner_text(), 5, "alert"
        )
        buzzes = loop_thread.call(lambda: len(track.pods["ana"].cues))
        assert buzzes >= 2  # cued, and cued again while the alert stayed
        assert any("stride buzz sent" in t for t in tile.locator(".sc-alert").all_inner_texts())
        assert tile.locator(".sc-active").count() == 1
        page.screenshot(path=str(artifacts / "dashboard-alert.png"))
        # Ana recovers: the standing alert goes; Ben's link drops; Cleo stops running
        loop_thread.run(track.together(["ana", "dev"], back))
        wait_until(lambda: tile.locator(".sc-active").count() == 0, 5, "alert cleared on recovery")
        loop_thread.call(track.pods["ben"].lose)
        wait_until(lambda: _badge(page, 1) == "link lost", 5, "link lost")
        loop_thread.run(track.run("dev", steady))  # the clock moves on; the others stopped
        wait_until(lambda: _badge(page, 2) == "resting", 5, "resting")
        wait_until(
            lambda: [_badge(page, n) for n in (0, 3)] == ["resting", "running"], 5, "Ana rests"
        )
        # all four tiles are in view on a 1366x900 laptop screen
        for n in range(4):
            box = page.locator(".sc-tile").nth(n).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 900, (n, box)
        page.screenshot(path=str(artifacts / "dashboard-states.png"))
        loop_thread.call(track.practice.finish)
        loop_thread.call(track.tick)
        wait_until(lambda: all(_badge(page, n) == "finished" for n in range(4)), 5, "finished")
    finally:
        page.close()
        loop_thread.run(dash.close())
