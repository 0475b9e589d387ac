"""The coach sets a rep distance and a plan on a tile, in real Chromium.

Two athletes on a live practice with roster plans (Ana has plans for the 400s and the
600s). On Ana's tile the coach types a rep distance: her roster plan for it is applied
and the tile says it in seconds per 100 m; a plan typed in wins over the roster; a bad
plan is refused on the tile in one line and changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from browserkit import LoopThread, wait_until
from stridecue.analysis import Targets
from stridecue.analysis.plan import Plan
from stridecue.dashboard import Dashboard, LiveState, PracticeControls
from stridecue.dashboard.feed import Feed
from stridecue.practice import Practice
from stridecue.timeline import SessionClock

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "host"))
from cuepod import CuePod
from test_dashboard_browser import _open

pytestmark = pytest.mark.slow

ANA_400 = Plan.parse("100:11.5,200:24,400:50")
ANA_600 = Plan.parse("even:93/600")


def _type(field: Any, text: str) -> None:
    field.fill(text)
    field.press("Enter")


def test_the_coach_sets_a_rep_distance_and_a_plan_on_a_tile(
    browser: Any, loop_thread: LoopThread, artifacts: Path
) -> None:
    async def start() -> tuple[Practice, LiveState, Dashboard]:
        practice = Practice([], clock=SessionClock(0), pod_sessions=False)
        practice.plans = {"Ana": {400.0: ANA_400, 600.0: ANA_600}}
        state = LiveState("StrideCue plans")
        practice.subscribe(Feed(state))
        for pod, name in (("ana", "Ana"), ("ben", "Ben")):
            practice.add_athlete(pod, name, link=CuePod(pod))
        dash = Dashboard(state, PracticeControls(practice), port=0)
        dash.start()
        return practice, state, dash

    practice, state, dash = loop_thread.run(start())
    page = _open(browser, dash.url, [])
    try:
        tile = page.locator(".sc-tile").nth(0)
        wait_until(lambda: tile.locator("b").first.inner_text() == "Ana", 10, "Ana's tile")
        inputs = tile.locator("input")
        rep_in, plan_in = inputs.nth(3), inputs.nth(4)
        assert plan_in.get_attribute("placeholder") == "roster 400/600"
        set_button = tile.locator("button", has_text="Set targets")

        # a rep distance and no plan: Ana's roster plan for the 400s
        _type(rep_in, "400")
        set_button.click()
        want = "set: 100 m plan 11.5 / 12.5 / 13.0 / 13.0 s, 400 m in 0:50.0 (roster)"
        wait_until(lambda: want in tile.locator(".sc-msg").inner_text(), 5, "the roster plan")
        row = practice.rows["ana"]
        assert loop_thread.call(lambda: row.targets) == Targets(plan=ANA_400, rep_distance_m=400.0)
        assert row.analyzer.settings.plan == ANA_400
        assert loop_thread.call(lambda: state.athletes["ana"].targets.plan) == ANA_400

        # the next rep is a 600: its own plan
        _type(rep_in, "600")
        set_button.click()
        wait_until(
            lambda: "6 x 15.5 s, 600 m in 1:33.0" in tile.locator(".sc-msg").inner_text(), 5, ""
        )
        assert loop_thread.call(lambda: row.targets.plan) == ANA_600

        # a bad plan: one line on the tile, the targets stay as they were
        _type(rep_in, "400")
        _type(plan_in, "100:12,50:20")
        set_button.click()
        wait_until(lambda: "not increasing" in tile.locator(".sc-msg").inner_text(), 5, "the error")
        assert loop_thread.call(lambda: row.targets.plan) == ANA_600
        tile.screenshot(path=str(artifacts / "dashboard-plan-error.png"))

        # a plan typed in wins over the roster
        _type(plan_in, "even:48")
        set_button.click()
        wait_until(
            lambda: "100 m plan 4 x 12.0 s" in tile.locator(".sc-msg").inner_text(), 5, "plan"
        )
        assert "(roster)" not in tile.locator(".sc-msg").inner_text()
        assert loop_thread.call(lambda: row.targets) == Targets(
            plan=Plan.parse("even:48"), rep_distance_m=400.0
        )
        assert practice.rows["ben"].targets == Targets()  # Ben's tile was not touched

        # every input stays inside its tile
        box = tile.bounding_box()
        assert box is not None
        for n in range(inputs.count()):
            b = inputs.nth(n).bounding_box()
            assert b is not None and b["x"] + b["width"] <= box["x"] + box["width"], (n, b)
        page.screenshot(path=str(artifacts / "dashboard-plans.png"))
    finally:
        page.close()
        loop_thread.run(dash.close())
