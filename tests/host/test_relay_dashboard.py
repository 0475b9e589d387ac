"""A relay set up on the dashboard: the form, the setup kept in the session, each
exchange and the team plan as the panel shows them, and the go buzz on simulated pods."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pytest
from relaypods import REPORT_S, Origin, RelayPod
from stridecue import relay
from stridecue.cli import main
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.relaypanel import (
    LegEntry,
    attach,
    leg_time,
    setup_from_form,
    team_plan_shown,
    watch_time,
)
from stridecue.dashboard.state import LiveState
from stridecue.gobuzz import LINK_S
from stridecue.links import Link
from stridecue.practice import Practice
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.relay import RelayError, RelaySetup, S
from stridecue.relaywatch import desk_for
from stridecue.sim import strides as st

FORM = [
    LegEntry("Ana", "100", "10.9", "30", "36 feet"),
    LegEntry("Bea", "100 m", "0:10.2", "", "10.5"),
    LegEntry(),
    LegEntry(),
]


def test_the_form_gives_a_setup_marks_in_metres_or_feet() -> None:
    setup = setup_from_form(FORM, go_buzz=True)
    assert setup.team == ("Ana", "Bea")
    assert setup.legs_m == (100.0, 100.0)
    assert setup.targets_s == (10.9, 10.2)
    assert setup.zones_m == (30.0,)
    assert setup.marks_m == pytest.approx((36 * relay.FOOT_M,))
    assert setup.go_buzz
    four = setup_from_form(
        [LegEntry(n, "400", "", "", "8 m") for n in ("A", "B", "C")] + [LegEntry("D", "400")]
    )
    assert four.zones_m == (relay.ZONE_LONG_M,) * 3  # longer legs: the 20 m zone
    assert not four.go_buzz and four.targets_s == ()
    # in a setup file: go_buzz = true, kept through the session's stored table
    assert RelaySetup.from_dict(setup.as_dict()) == setup
    with pytest.raises(RelayError, match="go_buzz = 'yes': give true or false"):
        RelaySetup.from_dict({**setup.as_dict(), "go_buzz": "yes"})


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([LegEntry("Ana", "100", mark="11")], "at least two runners"),
        ([LegEntry(), LegEntry("Ana", "100", mark="11"), LegEntry("Bea", "100")], "no gap"),
        ([LegEntry("Ana", "100", mark="11"), LegEntry("Ana", "100")], "Ana runs two legs"),
        ([LegEntry("Ana", "100", mark="eleven"), LegEntry("Bea", "100")], "exchange 1 check mark"),
        ([LegEntry("Ana", "100"), LegEntry("Bea", "100")], "give the check mark"),
        ([LegEntry("Ana", "-5", mark="11"), LegEntry("Bea", "100")], "leg 1 distance"),
        ([LegEntry("Ana", "100", "11", mark="11"), LegEntry("Bea", "100")], "for every leg"),
        ([LegEntry("Ana", "100", "1:x", mark="11"), LegEntry("Bea", "100")], "leg 1 target"),
        ([LegEntry("Ana", "100", zone_m="0", mark="11"), LegEntry("Bea", "100")], "zone"),
        (
            [LegEntry("Ana", "100", mark="11", approach_m="far"), LegEntry("Bea", "100")],
            "exchange 1 run-up: 'far' is not a distance in metres",
        ),
        (
            [LegEntry("Ana", "100", mark="11", approach_m="-3"), LegEntry("Bea", "100")],
            "exchange 1 run-up",
        ),
        (
            [LegEntry("Ana", "100", mark="11", approach_m="10"), LegEntry("Bea", "100")],
            "exchange 1: the check mark (11.0 m) must be closer to the zone than the run-up",
        ),
    ],
)
def test_a_bad_entry_is_one_line_naming_it(entries: list[LegEntry], says: str) -> None:
    with pytest.raises(RelayError) as e:
        setup_from_form(entries)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_a_drills_run_up_on_the_form_and_back() -> None:
    """A 50 m drill before each zone of a 4 x 100 m: the run-up given per exchange; blank
    keeps the one the legs give (80 m, then 100 m); the form shows only what was typed."""
    from stridecue.dashboard.relaypanel import form_of

    rows = [
        LegEntry("Ana", "100", "", "", "8 m", approach_m="50"),
        LegEntry("Bea", "100", "", "", "9 m"),
        LegEntry("Cleo", "100", "", "", "9 m", approach_m="50 m"),
        LegEntry("Dee", "100"),
    ]
    setup = setup_from_form(rows)
    assert setup.approach_m == (50.0, 100.0, 50.0)
    assert [e.approach_m for e in form_of(setup)] == ["50", "", "50", ""]
    assert setup_from_form(form_of(setup)) == setup
    # as a setup file has it, and kept through the session's stored table
    assert RelaySetup.from_dict(setup.as_dict()).approach_m == (50.0, 100.0, 50.0)


def test_coach_words() -> None:
    assert watch_time(10.94) == "10.9 s"
    assert watch_time(201.44) == "3:21.4"
    from stridecue.dashboard.relaypanel import against_plan

    assert against_plan(0.4) == "0.4 s behind plan"
    assert against_plan(-1.25) == "1.2 s ahead of plan"
    assert against_plan(0.01) == "on plan"


def _steady(t0: float, n: int, stride_s: float, length_m: float) -> list[S]:
    return [S(t0 + (k + 1) * stride_s, stride_s, length_m) for k in range(n)]


def test_leg_times_line_to_line_and_the_team_against_plan() -> None:
    # two runners, 100 m legs, 30 m zone (20 m before the line): Ana runs 10 m/s from her
    # line, so her 100 m take 10 s; Bea starts at the zone's start, 20 m before her line,
    # and runs 8 m/s: line to line 12.5 s
    setup = RelaySetup(("Ana", "Bea"), (100.0, 100.0), marks_m=(8.0,), targets_s=(10.5, 12.0))
    ana = _steady(0.0, 30, 0.5, 5.0)
    bea = _steady(9.0, 40, 0.5, 4.0)
    assert leg_time(setup, 0, ana) == ("ran", pytest.approx(10.0))
    assert leg_time(setup, 1, bea) == ("ran", pytest.approx(12.5))
    assert leg_time(setup, 1, bea[:10])[0] == "running"  # 40 m run: on pace for 12.5 s
    assert leg_time(setup, 1, bea[:10])[1] == pytest.approx(12.5)
    assert leg_time(setup, 1, []) == ("to run", None)
    plan = team_plan_shown(setup, {"Ana": ana})
    assert [leg.status for leg in plan.legs] == ["ran", "to run"]
    assert plan.legs[0].diff_s == pytest.approx(-0.5)
    # Bea not yet run: her plan counts, so the team is Ana's 0.5 s ahead
    assert plan.summary == "Team: 22.0 s projected against 22.5 s planned, 0.5 s ahead of plan"
    plan = team_plan_shown(setup, {"Ana": ana, "Bea": bea})
    assert plan.summary == "Team: 22.5 s projected against 22.5 s planned, on plan"


def _run(approach_m: float = 40.0, mark_m: float = 8.0) -> st.RelayRun:
    return st.relay(
        np.random.default_rng(3),
        speeds_mps=(9.0, 9.4),
        marks_m=(mark_m,),
        approach_m=(approach_m,),
        zones_m=(30.0,),
    )


def test_a_setup_applied_mid_practice_is_kept_and_the_exchange_shown(tmp_path: Path) -> None:
    """The board on a recorded practice: a setup from the start (as --relay), replaced
    on the page; the exchange is measured with the new one, which the session keeps
    for ``stridecue relay SESSION`` and the report."""
    run = _run()
    origin = Origin()
    pods: list[Link] = [
        RelayPod("pod-ana", run.runners[0].strides, origin),
        RelayPod("pod-bea", run.runners[1].strides, origin),
    ]
    # 60 m legs: the incoming runner's run-up to the zone is 60 - 20 = 40 m, as simulated
    first = RelaySetup(("Ana", "Bea"), (60.0, 60.0), marks_m=(6.0,))
    assert first.approach_m == (40.0,)
    rec = Recorder(tmp_path / "s", settings={"relay": first.as_dict()})
    practice = Practice(pods, roster={"pod-ana": "Ana", "pod-bea": "Bea"}, recorder=rec)
    state = LiveState("test")
    practice.subscribe(Feed(state))
    desk_for(practice).apply(first)
    board = attach(state, practice)
    changes: list[str] = []
    state.subscribe(lambda ch: changes.append(ch.what))

    async def go() -> None:
        await practice.connect()
        with pytest.raises(RelayError, match="Cleo is not on this dashboard"):
            board.apply([LegEntry("Ana", "60", mark="8"), LegEntry("Cleo", "60")])
        # the coach changes the mark on the page once both are on it
        board.apply([LegEntry("Ana", "60", "", "30", "8 m"), LegEntry("Bea", "60"), LegEntry()])
        await practice.run(30.0)

    asyncio.run(go())
    rec.close()
    assert "relay" in changes
    shown = board.exchanges[0]
    assert shown.attempt == 1 and (shown.incoming, shown.outgoing) == ("Ana", "Bea")
    ex = shown.exchange
    assert ex.mark_m == 8.0
    truth = relay.exchange(
        [S(s.t_s, s.stride_time_s, s.stride_length_m) for s in run.runners[0].strides],
        [S(s.t_s, s.stride_time_s, s.stride_length_m) for s in run.runners[1].strides],
        approach_m=40.0,
        mark_m=8.0,
    )
    # the strides went over the wire in ms and mm: the same exchange to a few cm
    assert ex.handoff_zone_m == pytest.approx(truth.handoff_zone_m, abs=0.05)
    assert ex.incoming_speed_mps == pytest.approx(truth.incoming_speed_mps, abs=0.05)
    assert ex.mark_advice_m == pytest.approx(truth.mark_advice_m, abs=0.05)
    assert shown.lines[0].startswith("Hand-off ") and "zone" in shown.lines[0]
    assert any(line.startswith(("Move the mark", "Check mark right")) for line in shown.lines)
    # the figure's positions: the incoming from behind the mark, the outgoing from 0
    assert shown.t[0] == pytest.approx(-2.0) and shown.x_out[0] == 0.0
    assert min(shown.x_in) < -8.0 and max(shown.x_out) > 30.0
    assert board.plan is not None and board.plan.legs[0].status == "ran"
    # kept in the session: the latest setup, its history, and a mark
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["settings"]["relay"]["marks_m"] == [8.0]
    assert [h["relay"]["marks_m"] for h in meta["settings"]["relay_history"]] == [[6.0], [8.0]]
    marks = (tmp_path / "s" / "marks.jsonl").read_text()
    assert "relay set: Ana 60 m, Bea 60 m; check marks 8.0 m (27 feet)" in marks


def test_stridecue_relay_session_reads_the_latest_setup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test_a_setup_applied_mid_practice_is_kept_and_the_exchange_shown(tmp_path)
    assert main(["relay", str(tmp_path / "s"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exchanges"][0]["mark_m"] == 8.0


def test_go_buzz_reaches_the_outgoing_pod_ahead_of_the_mark_by_the_lead() -> None:
    """End to end on simulated pods (firmware-encoded strides, reported 157 ms after each
    contact, clocks synced): with go_buzz on, Bea's pod gets the cue as Ana reaches the
    mark, sent the link's 20 ms ahead so that it arrives then; Ana's pod gets none."""
    run = _run(approach_m=40.0, mark_m=8.0)
    origin = Origin()
    ana = RelayPod("pod-ana", run.runners[0].strides, origin)
    bea = RelayPod("pod-bea", run.runners[1].strides, origin)
    practice = Practice([ana, bea], roster={"pod-ana": "Ana", "pod-bea": "Bea"}, analyze=False)
    setup = RelaySetup(("Ana", "Bea"), (60.0, 60.0), marks_m=(8.0,), go_buzz=True)
    desk_for(practice).apply(setup)

    async def go() -> None:
        await practice.connect()
        await practice.run(20.0)

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 20.0  # the pods ran out: the practice ended
    truth_s = st._time_at(run.runners[0].strides, 40.0, -8.0)  # Ana at the mark
    assert ana.cues == []
    assert len(bea.cues) == 1
    at_s, cue = bea.cues[0]
    assert cue[0] == Pattern.PULSE  # the go cue, as the firmware decoded it
    lead = truth_s - at_s
    # the predictor aims the send at LINK_S before the mark; a pod on the host's loop
    # takes it at once, so it is that early, give or take the loop and one stride's
    # extrapolation (~10 ms) and the report delay (157 ms) it saw and took out
    assert lead == pytest.approx(LINK_S, abs=0.06), (at_s, truth_s)
    assert REPORT_S > 0.1  # the buzz was predicted across a report delay, not after it


def test_each_leg_sets_its_runners_preset_and_plan(tmp_path: Path) -> None:
    """A sprint leg and a distance-medley leg: the preset and an even plan at the leg's
    target time reach each runner's analyzer, and the session keeps them for the report."""
    from stridecue.analysis.settings import AnalyzerSettings
    from stridecue.sessiondata import load

    run = _run()
    origin = Origin()
    pods: list[Link] = [
        RelayPod("pod-ana", run.runners[0].strides, origin),
        RelayPod("pod-bea", run.runners[1].strides, origin),
    ]
    setup = RelaySetup(("Ana", "Bea"), (60.0, 1200.0), marks_m=(8.0,), targets_s=(7.0, 190.0))
    rec = Recorder(tmp_path / "s", settings={"relay": setup.as_dict()})
    practice = Practice(pods, roster={"pod-ana": "Ana", "pod-bea": "Bea"}, recorder=rec)
    desk_for(practice).apply(setup)  # before the pods connect: each gets it on joining

    async def go() -> None:
        await practice.connect()
        await practice.run(30.0)

    asyncio.run(go())
    rec.close()
    ana, bea = (practice.find(n) for n in ("Ana", "Bea"))
    assert ana is not None and bea is not None
    assert ana.targets.event == "sprint" and ana.targets.plan is not None
    assert ana.targets.plan.spec == "even:7/60"
    assert bea.targets.event == "distance" and bea.targets.plan is not None
    assert bea.targets.plan.plan_elapsed_s(1200.0) == pytest.approx(190.0)
    assert ana.targets.rep_distance_m is None  # the rep runs on past the hand-off
    distance = AnalyzerSettings.for_event("distance")
    assert bea.analyzer.settings.settle_strides == distance.settle_strides
    assert ana.analyzer.settings.settle_strides == AnalyzerSettings().settle_strides
    # the session keeps them: the report analyses each runner as the practice did
    data = load(tmp_path / "s")
    got = {a.name: a.targets for a in data.athletes}
    assert got["Bea"].event == "distance" and got["Bea"].plan == bea.targets.plan
    assert got["Ana"].event == "sprint"
    marks = (tmp_path / "s" / "marks.jsonl").read_text()
    assert "distance preset" in marks


def test_an_unknown_preset_in_stored_targets_is_one_line() -> None:
    from stridecue.analysis.targets import Targets
    from stridecue.errors import ConfigError

    with pytest.raises(ConfigError, match="event='marathon' must be one of sprint, distance"):
        Targets.from_json({"event": "marathon"})
    assert Targets.from_json(Targets(event="distance").to_json()).event == "distance"
