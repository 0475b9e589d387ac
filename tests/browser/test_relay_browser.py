"""The relay panel in a real headless Chromium: the coach sets a relay up on the page
(a wrong entry first: one line), two simulated pods run an exchange, and the exchange
(words and positions figure) and the team plan appear below the tiles."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browserkit import LoopThread, wait_until
from stridecue.dashboard import Dashboard, LiveState, PracticeControls
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.relaypanel import attach
from stridecue.links import Link
from stridecue.practice import Practice
from stridecue.sim import strides as st

sys.path.insert(0, str(Path(__file__).parents[1] / "host"))
from relaypods import Origin, RelayPod

pytestmark = pytest.mark.slow

SETUP_S = 12.0  # the runners set off this long after the pods connect: time to set it up


def _model(page: Any, name: str, prop: str) -> Any:
    return page.evaluate(
        "([n, p]) => { const m = Bokeh.documents[0].get_model_by_name(n); return m ? m[p] : null }",
        [name, prop],
    )


def _enter(page: Any, name: str, value: str) -> None:
    """Type into the panel's field ``name`` (a Bokeh TextInput or Select) as the coach does."""
    page.evaluate(
        "([n, v]) => { Bokeh.documents[0].get_model_by_name(n).value = v }", [name, value]
    )


def _text(page: Any, name: str) -> str:
    return str(_model(page, name, "text") or "")


def test_relay_set_up_on_the_page_shows_the_exchange_and_the_plan(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    run = st.relay(
        np.random.default_rng(3),
        speeds_mps=(9.0, 9.4),
        marks_m=(8.0,),
        approach_m=(40.0,),
        zones_m=(30.0,),
    )
    origin = Origin(lead_s=SETUP_S)
    links: list[Link] = [
        RelayPod("pod-ana", run.runners[0].strides, origin),
        RelayPod("pod-bea", run.runners[1].strides, origin),
    ]
    state = LiveState("StrideCue relay practice")

    async def start() -> tuple[Dashboard, Practice, asyncio.Future[None]]:
        practice = Practice(links, roster={"pod-ana": "Ana", "pod-bea": "Bea"}, analyze=False)
        practice.subscribe(Feed(state))
        attach(state, practice)
        await practice.connect()
        run = asyncio.ensure_future(practice.run())
        dash = Dashboard(state, PracticeControls(practice), port=0)
        dash.start()
        return dash, practice, run

    dash, practice, running = loop_thread.run(start(), timeout=60)
    page = browser.new_page(viewport={"width": 1340, "height": 900})
    try:
        page.goto(dash.url)
        page.wait_for_selector(".sc-tile", timeout=20_000)
        assert page.locator(".sc-tile").count() == 2
        # the panel is below the tiles: both tiles stay in view
        for n in range(2):
            box = page.locator(".sc-tile").nth(n).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 900
        wait_until(lambda: "no relay set up" in _text(page, "relay-head"), 5, "the empty panel")
        # 60 m legs (a drill): Ana's run-up to the zone, 40 m, typed as the pods run it
        for name, value in [
            ("relay-runner-1", "Ana"), ("relay-leg-1", "60"), ("relay-target-1", "7.2"),
            ("relay-zone-1", "30"), ("relay-mark-1", "eleven"), ("relay-approach-1", "40"),
            ("relay-runner-2", "Bea"), ("relay-leg-2", "60"), ("relay-target-2", "6.5"),
        ]:  # fmt: skip
            _enter(page, name, value)
        page.locator("button", has_text="Apply relay").click()
        wait_until(lambda: "not a mark" in _text(page, "relay-message"), 5, "the error line")
        msg = page.locator(".sc-relay .sc-msg").inner_text()
        assert msg.strip() == "exchange 1 check mark: 'eleven' is not a mark; write 11 m or 36 feet"
        _enter(page, "relay-mark-1", "27 feet")  # 8.1 m
        page.locator("button", has_text="Apply relay").click()
        wait_until(lambda: "relay set: Ana, Bea" in _text(page, "relay-message"), 5, "the setup")
        # the drill's run-up typed on the page is the setup's (40 m, as the pods run it)
        assert loop_thread.call(lambda: state.relay.setup.approach_m) == (40.0,)
        assert origin.sim_s(time.time_ns()) < 0, "the relay was set up after the runners went"
        # the runners run: the exchange appears with its figure, then the plan
        wait_until(lambda: "Hand-off" in _text(page, "relay-exchange-1"), 40, "the exchange")
        words = page.locator(".sc-relay-ex").first.inner_text()
        assert "Exchange 1: Ana \u2192 Bea" in words and "m/s" in words
        assert "feet" in words and "Baton through the zone in" in words
        n_points = page.evaluate(
            "() => Bokeh.documents[0].get_model_by_name('relay-positions-1').get_length()"
        )
        assert n_points > 20
        measured = loop_thread.call(lambda: state.relay.exchanges[0].exchange)
        assert f"{measured.handoff_zone_m:.1f} m" in words
        wait_until(lambda: "Team:" in _text(page, "relay-plan"), 30, "the team plan")
        plan = page.locator(".sc-relay-table").inner_text()
        assert "planned" in plan and "plan" in plan.split("Team:")[1]
        assert "ran" in plan
        page.screenshot(path=str(artifacts / "dashboard-relay.png"), full_page=True)
    finally:
        page.close()
        loop_thread.run(dash.close())
        practice.stop()
        loop_thread.run(asyncio.wait_for(asyncio.shield(running), 10))
