"""The coach moves the check mark between attempts: each attempt is measured with the
setup in force when the incoming runner set off, live, by ``stridecue relay SESSION``
and in the report, with the same numbers."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from relaypods import Origin, RelayPod
from stridecue import relay
from stridecue.cli import main
from stridecue.dashboard.feed import Feed
from stridecue.dashboard.relaypanel import LegEntry, attach, exchange_lines
from stridecue.dashboard.state import LiveState
from stridecue.links import Link
from stridecue.practice import Practice
from stridecue.recorder import Recorder
from stridecue.relay import Attempt, RelayError, RelaySetup, S, SetupAt
from stridecue.relaywatch import RelayListener, desk_for
from stridecue.sim import strides as st
from stridecue.sim.strides import StrideTruth

APPROACH_M = 30.0  # the incoming runner's run-up to the zone (a 50 m drill, 30 m zone)
GAP_S = 4.0  # standing between two attempts (more than relay.PAUSE_S)


def _attempt(seed: int, mark_m: float, t0_s: float) -> tuple[list[StrideTruth], list[StrideTruth]]:
    """One simulated exchange (the outgoing runner goes as the incoming one reaches the
    mark), both runs cut 15 m past the zone, on a clock that starts at ``t0_s``."""
    run = st.relay(
        np.random.default_rng(seed),
        speeds_mps=(9.0, 9.4),
        marks_m=(mark_m,),
        approach_m=(APPROACH_M,),
        zones_m=(30.0,),
    )

    def cut(strides: list[StrideTruth], from_m: float, to_m: float) -> list[StrideTruth]:
        out, x = [], from_m
        for s in strides:
            if x >= to_m:
                break
            out.append(replace(s, t_s=s.t_s + t0_s))
            x += s.stride_length_m
        return out

    inc, outg = run.runners[0].strides, run.runners[1].strides
    return cut(inc, -APPROACH_M, 45.0), cut(outg, 0.0, 45.0)


def _two_attempts() -> tuple[list[StrideTruth], list[StrideTruth], float]:
    """Ana to Bea twice: with the mark at 6 m, then (after a pause) at 8 m.
    Returns both runners' strides and when the second attempt begins."""
    a1, b1 = _attempt(3, 6.0, 0.5)
    second = max(a1[-1].t_s, b1[-1].t_s) + GAP_S
    a2, b2 = _attempt(5, 8.0, second)
    return a1 + a2, b1 + b2, second


def _s(strides: list[StrideTruth]) -> list[S]:
    return [S(s.t_s, s.stride_time_s, s.stride_length_m) for s in strides]


def test_each_attempt_is_measured_with_the_setup_in_force_when_it_began() -> None:
    ana, bea, second = _two_attempts()
    first = RelaySetup(("Ana", "Bea"), (50.0, 50.0), marks_m=(6.0,), approach_m=(APPROACH_M,))
    moved = RelaySetup(("Ana", "Bea"), (50.0, 50.0), marks_m=(8.0,), approach_m=(APPROACH_M,))
    history = [SetupAt(0.0, first), SetupAt(second - 1.0, moved)]
    attempts = relay.history_attempts({"Ana": _s(ana), "Bea": _s(bea)}, history)
    assert [(a.setup_no, a.exchange.mark_m) for a in attempts] == [(1, 6.0), (2, 8.0)]
    assert attempts[1].set_at_s == pytest.approx(second - 1.0)
    # each one is the exchange measured alone with its own mark
    for at, mark in zip(attempts, (6.0, 8.0), strict=True):
        alone = relay.exchange(
            at.incoming_strides, at.outgoing_strides, approach_m=APPROACH_M, mark_m=mark
        )
        assert at.exchange == alone
    # the outgoing runner went on each mark: no early or late start
    assert [round(a.exchange.started_early_m, 2) for a in attempts] == [0.0, 0.0]
    # the newest setup for both (the old behaviour) would say the first one went late
    newest = relay.history_attempts({"Ana": _s(ana), "Bea": _s(bea)}, [SetupAt(0.0, moved)])
    assert newest[0].exchange.started_early_m == pytest.approx(-2.0, abs=0.01)
    assert "setup 2, set at" in relay.setup_words(attempts[1])
    assert "check mark 8.0 m (27 foot lengths), 30 m zone" in relay.setup_words(attempts[1])
    # a setup applied before any attempt (the dashboard, not --relay): attempts before
    # it are measured with it; an order given in the wrong time order is sorted
    late = relay.history_attempts(
        {"Ana": _s(ana), "Bea": _s(bea)}, [SetupAt(second - 1.0, moved), SetupAt(5.0, first)]
    )
    assert [a.exchange.mark_m for a in late] == [6.0, 8.0]


def test_stored_setups_old_and_new_sessions() -> None:
    setup = RelaySetup(("Ana", "Bea"), (100.0, 100.0), marks_m=(11.0,))
    assert relay.stored_setups({}, lambda ns: ns / 1e9) == []
    # recorded before the history was kept: the one setup, from the start
    assert relay.stored_setups({"relay": setup.as_dict()}, lambda ns: ns / 1e9) == [
        SetupAt(0.0, setup)
    ]
    hist = {"relay_history": [{"host_ns": 2_000_000_000, "relay": setup.as_dict()}]}
    assert relay.stored_setups(hist, lambda ns: ns / 1e9 - 1.0) == [SetupAt(1.0, setup)]
    with pytest.raises(RelayError, match="relay_history entry 1 is not a setup") as e:
        relay.stored_setups({"relay_history": [{"relay": 3}]}, lambda ns: 0.0)
    assert "\n" not in str(e.value)


Shown = list[tuple[Attempt, tuple[str, ...]]]


class _Shown(RelayListener):
    """Every exchange the live panel showed, as it showed it."""

    def __init__(self) -> None:
        self.shown: Shown = []

    def relay_exchange(self, attempt: Attempt) -> None:
        self.shown.append((attempt, exchange_lines(attempt.exchange, "Ana", "Bea")))


def _recorded_practice(path: Path) -> tuple[Shown, float]:
    """A recorded practice on two simulated pods: --relay with the mark at 6 m, moved on
    the dashboard to 8 m (as the first attempt advised) between the attempts. Returns
    what the panel showed."""
    ana, bea, second = _two_attempts()
    origin = Origin()
    pods: list[Link] = [RelayPod("pod-ana", ana, origin), RelayPod("pod-bea", bea, origin)]
    first = RelaySetup(("Ana", "Bea"), (50.0, 50.0), marks_m=(6.0,), approach_m=(APPROACH_M,))
    rec = Recorder(path, settings={"relay": first.as_dict()})
    practice = Practice(pods, roster={"pod-ana": "Ana", "pod-bea": "Bea"}, recorder=rec)
    state = LiveState("test")
    practice.subscribe(Feed(state))
    desk_for(practice).apply(first)
    board = attach(state, practice)
    seen = _Shown()
    desk_for(practice).listeners.append(seen)

    async def go() -> None:
        await practice.connect()
        running = asyncio.get_running_loop().create_task(practice.run(60.0))
        move_at_ns = origin.wall_ns + round((second - GAP_S / 2) * 1e9)
        await asyncio.sleep(max(0.0, (move_at_ns - time.time_ns()) / 1e9))
        board.apply(
            [LegEntry("Ana", "50", "", "30", "8 m", approach_m="30"), LegEntry("Bea", "50")]
        )
        await running

    asyncio.run(go())
    rec.close()
    return seen.shown, second


@pytest.fixture(scope="module")
def practised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Shown]:
    """The recorded practice (it runs in real time: once for the tests below)."""
    path = tmp_path_factory.mktemp("relay") / "s"
    shown, _ = _recorded_practice(path)
    return path, shown


@pytest.mark.slow
def test_the_session_measures_each_attempt_as_the_live_panel_showed_it(
    practised: tuple[Path, Shown], capsys: pytest.CaptureFixture[str]
) -> None:
    path, shown = practised
    assert [at.exchange.mark_m for at, _ in shown] == [6.0, 8.0]
    assert all(at.exchange.in_zone for at, _ in shown)  # both hand-offs in the zone
    assert shown[0][1][-1].startswith("Move the mark 1.7 m (6 feet) further out")
    assert main(["relay", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["exchanges"]
    assert [(x["setup"], x["mark_m"], x["zone_m"]) for x in out] == [
        (1, 6.0, 30.0),
        (2, 8.0, 30.0),
    ]
    for x, (at, _) in zip(out, shown, strict=True):
        assert x == {"incoming": "Ana", "outgoing": "Bea", "setup": x["setup"],
                     "setup_set_s": x["setup_set_s"], **at.exchange.as_json()}  # fmt: skip
    # and in the coach's words, line by line as the panel had them
    from stridecue import sessiondata

    data = sessiondata.load(path)
    history = relay.stored_setups(data.meta["settings"], data.host_s)
    again = relay.history_attempts({n: data.athlete(n).strides for n in ("Ana", "Bea")}, history)
    assert [exchange_lines(a.exchange, "Ana", "Bea") for a in again] == [ln for _, ln in shown]
    assert shown[0][1] != shown[1][1]  # two marks, two pieces of advice
    assert main(["relay", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Exchange 1, Ana to Bea (setup 1, set at 0:00.00: check mark 6.0 m" in text
    assert "Exchange 1, Ana to Bea (setup 2, set at " in text and "check mark 8.0 m" in text
    # the report: each exchange says the setup it was measured with
    assert main(["report", str(path)]) == 0
    page = (path / "report" / "index.html").read_text()
    assert page.count("<p class='note'>Measured with setup ") == 2
    assert "setup in force when the incoming runner set off" in page


@pytest.mark.slow
def test_the_replay_shows_the_relay_panel_with_each_setup_at_its_time(
    practised: tuple[Path, Shown],
) -> None:
    """``stridecue dashboard --replay SESSION``: the page has the relay panel, read-only;
    the exchanges appear as the replay reaches them, each with the setup then in force,
    as the live panel showed them; a seek back shows what playing showed then."""
    from bokeh.document import Document
    from stridecue import sessiondata
    from stridecue.dashboard import ReplayPlayer, Timeline
    from stridecue.dashboard.page import Page
    from stridecue.dashboard.relaypanel import RelayBoard

    path, shown = practised
    data = sessiondata.load(path)
    moved_s = relay.stored_setups(data.meta["settings"], data.host_s)[1].t_s
    timeline = Timeline.load(path)
    assert timeline.relay
    state = LiveState("replay")
    player = ReplayPlayer(state, timeline)
    board = state.relay
    assert isinstance(board, RelayBoard) and board.read_only
    page = Page(Document(), state, player, player)
    panel = page.relay
    assert panel is not None and page.doc.get_model_by_name("relay-panel") is not None
    assert not panel.form.visible and not panel.toggle.visible  # no setup form in a replay
    with pytest.raises(RelayError, match="a replay shows the relay as it was set up"):
        board.apply([LegEntry("Ana", "50", mark="9"), LegEntry("Bea", "50")])

    def seen(t_s: float) -> tuple[RelaySetup | None, list[tuple[str, ...]]]:
        player.seek(t_s)
        panel.refresh()
        return board.setup, [x.lines for x in board.exchanges.values()]

    # just before the coach moved the mark: the first setup and its attempt
    setup, lines = seen(moved_s - 0.1)
    assert setup is not None and setup.marks_m == (6.0,)
    assert lines == [shown[0][1]]
    assert "Move the mark 1.7 m" in panel.texts[0].text and panel.cells[0].visible
    assert panel.heading.text.startswith("replay, as set up then: Ana \u2192 Bea")
    assert "check marks 6.0 m" in panel.heading.text
    # then the mark at 8 m: the panel starts over, and shows the second attempt
    setup, lines = seen(moved_s + 0.1)
    assert setup is not None and setup.marks_m == (8.0,) and lines == []
    assert not panel.cells[0].visible
    setup, lines = seen(timeline.duration_s)
    assert lines == [shown[1][1]]
    assert board.exchanges[0].exchange == shown[1][0].exchange
    assert board.plan is not None and board.plan.legs[0].status == "ran"  # Ana ran her leg
    assert "Team plan" in panel.plan.text
    # seeking back: a fresh practice, the first setup again, as playing showed it
    setup, lines = seen(moved_s - 0.1)
    assert setup is not None and setup.marks_m == (6.0,) and lines == [shown[0][1]]
    setup, lines = seen(0.0)
    assert lines == [] and not panel.cells[0].visible
