"""The dashboard's parts without a browser: targets, feed, replay player, live hub, server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from stridecue.analysis import Targets
from stridecue.cli import main
from stridecue.dashboard import Dashboard, LiveState, PracticeControls, ReplayPlayer, Timeline
from stridecue.dashboard.feed import Feed
from stridecue.errors import ConfigError
from stridecue.links import Channel, Received
from stridecue.practice import Practice
from stridecue.protocol import Cue
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.session import Session
from stridecue.timeline import SessionClock
from test_dashboard_data import write_session
from tornado.httpclient import AsyncHTTPClient

sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from simpod import SimPod


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_session(tmp_path_factory.mktemp("s"), athletes=3, reps=2)


def test_targets_are_checked_and_make_a_split_plan() -> None:
    with pytest.raises(
        ConfigError, match=r"target cadence=300 is out of range: allowed 100\.\.260"
    ):
        Targets(cadence_spm=300)
    with pytest.raises(ConfigError, match=r"400 m goal=30 .* allowed 40\.\.120 s"):
        Targets(goal_400_s=30)
    plan = Targets(goal_400_s=52.0).split_plan_s()
    assert len(plan) == 4 and sum(plan) == pytest.approx(52.0, abs=0.03)
    assert plan[1] == min(plan) and plan[3] == max(plan)  # 2nd fastest, last slowest
    assert Targets(goal_400_s=52.0).plan_for_split(7) == plan[3]
    assert Targets().split_plan_s() == () and Targets().plan_for_split(0) is None


def _snapshot(state: LiveState) -> dict[str, tuple[object, ...]]:
    return {
        pod: (
            tuple((round(p.t_s, 6), p.cadence_spm, p.stride_length_m) for p in v.strides),
            tuple((round(a.t_s, 6), a.kind, a.text) for a in v.alerts),
            v.rep,
            v.running,
            v.split_index,
            v.last_split_s,
        )
        for pod, v in state.athletes.items()
    }


async def test_replay_seek_shows_what_playing_showed(session: Path) -> None:
    timeline = Timeline.load(session)
    assert set(timeline.names.values()) == {"Ada", "Ben", "Cleo"}
    played = LiveState()
    player = ReplayPlayer(played, timeline)
    # play in small steps (as the 20 ms ticks do) up to 75 s
    for k in range(1, 151):
        player.seek(k * 0.5)
    seeked = LiveState()
    other = ReplayPlayer(seeked, timeline)
    other.seek(120.0)
    other.seek(75.0)  # back: starts over and replays up to 75 s at once
    assert _snapshot(seeked) == _snapshot(played)
    ada = played.athletes["pod-ada"]
    assert ada.name == "Ada" and ada.link == "replay" and ada.battery_pct == 90
    assert ada.rep == 1 and ada.split_index >= 1 and ada.last_split_s is not None
    kinds = {a.kind for a in ada.alerts}
    assert {"cue", "split", "mark"} <= kinds  # the recorded cue, a split, rep start
    assert player.clock_s == 75.0 and played.clock_s == 75.0


async def test_replay_plays_at_speed_and_checks_its_inputs(session: Path) -> None:
    timeline = Timeline.load(session)
    player = ReplayPlayer(LiveState(), timeline, speed=16.0)
    player.play()
    await asyncio.sleep(0.5)
    player.pause()
    assert 16.0 * 0.5 * 0.6 < player.clock_s < 16.0 * 0.5 * 1.6
    with pytest.raises(ConfigError, match=r"replay speed 20x is out of range: allowed 1\.\.16"):
        player.set_speed(20)
    assert not player.can_cue
    with pytest.raises(ConfigError, match="no pod to cue"):
        await player.cue("pod-ada")
    player.seek(timeline.duration_s + 100)  # clamped to the end
    assert player.clock_s == timeline.duration_s


async def test_dashboard_buttons_act_through_the_practice(tmp_path: Path) -> None:
    pods = [SimPod("a", speedup=20.0), SimPod("b", speedup=20.0)]
    state = LiveState()
    with Recorder(tmp_path / "s", athletes={"a": "Ada", "b": "Ben"}) as rec:
        # SimPod's clock runs 20x real time: so does the practice's
        clock = SessionClock(rec.meta["start_ns"], 20.0)
        practice = Practice(list(pods), roster={"a": "Ada"}, recorder=rec, clock=clock)
        practice.subscribe(Feed(state))
        controls = PracticeControls(practice)
        await practice.connect()
        run = asyncio.ensure_future(practice.run())
        await asyncio.sleep(1.0)
        await controls.cue("a")
        controls.lap("b")
        controls.start_rep("b")
        controls.set_targets("b", Targets(cadence_spm=190))
        with pytest.raises(ConfigError, match="no pod 'zz'"):
            await controls.cue("zz")
        assert state.athletes["b"].running and state.athletes["b"].targets.cadence_spm == 190
        practice.stop()  # ends the practice, and with it the athletes' reps
        await run
    assert pods[0].cues == [(int(Pattern.PULSE), 100, 1, 400)] and pods[0].pwm.ever_on
    assert pods[1].cues == []
    a = state.athletes["a"]
    assert a.name == "Ada" and a.link == "closed" and a.battery_pct == 87 and a.cues_sent == 1
    assert len(a.strides) > 10
    assert any(x.text == "coach's buzz sent" for x in a.alerts)
    assert not state.athletes["b"].running
    assert practice.rows["b"].analyzer.settings.target_cadence_spm == 190
    s = Session.open(tmp_path / "s")
    cues = [f for f in s.files["a"].frames if f.channel == Channel.CUE]
    assert [Cue.from_bytes(f.raw).pattern for f in cues] == [Pattern.PULSE]
    assert [m.text for m in s.marks()] == ["lap", "rep start", "targets: cadence 190"]
    assert [m.athlete for m in s.marks()] == ["b", "b", "b"]


async def test_server_serves_the_page_and_bokehjs_itself() -> None:
    dash = Dashboard(LiveState(), ReplayPlayerStub(), port=0)
    url = dash.start()
    client = AsyncHTTPClient()
    try:
        page = (await client.fetch(url)).body.decode()
        scripts = [s for s in page.split('src="')[1:]]
        srcs = [s.split('"')[0] for s in scripts]
        assert srcs and all(s.startswith(("static/", "/static/", url)) for s in srcs), srcs
        assert "cdn." not in page
        js = await client.fetch(url.rstrip("/") + "/" + srcs[0].lstrip("/"))
        assert js.code == 200 and len(js.body) > 100_000  # BokehJS, from the wheel
    finally:
        client.close()
        await dash.close()
    with pytest.raises(ConfigError, match="--port 70000 is out of range"):
        Dashboard(LiveState(), ReplayPlayerStub(), port=70000)


async def test_busy_port_is_a_clear_error() -> None:
    first = Dashboard(LiveState(), ReplayPlayerStub(), port=0)
    first.start()
    try:
        second = Dashboard(LiveState(), ReplayPlayerStub(), port=first.port)
        with pytest.raises(ConfigError, match="pick another --port"):
            second.start()
    finally:
        await first.close()


class ReplayPlayerStub:
    """Controls for a page nobody presses (server tests)."""

    can_cue = False

    async def cue(self, pod: str) -> None:
        raise AssertionError("not pressed")

    def lap(self, pod: str) -> None: ...

    def start_rep(self, pod: str) -> None: ...

    def stop_rep(self, pod: str) -> None: ...

    def set_targets(self, pod: str, targets: Targets) -> Targets:
        return targets

    def plans(self, pod: str) -> dict[float, object]:
        return {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "exactly one of them"),
        (["--demo", "9"], "--demo 9 is out of range: allowed 1..8"),
        (["--demo", "2", "--speed", "20"], "--speed 20 is out of range: allowed 1..16"),
        (["--replay", "nope-session"], "no session 'nope-session'"),
    ],
)
def test_dashboard_command_bad_input(argv: list[str], message: str, capsys) -> None:
    assert main(["dashboard", *argv]) == 2
    assert message in capsys.readouterr().err


async def test_the_page_beside_a_running_practice(tmp_path: Path) -> None:
    pods = [SimPod("a", speedup=20.0), SimPod("b", speedup=20.0)]
    state = LiveState()
    with Recorder(tmp_path / "s") as rec:
        clock = SessionClock(rec.meta["start_ns"], 20.0)
        practice = Practice(list(pods), roster={"a": "Ada"}, recorder=rec, clock=clock)
        practice.subscribe(Feed(state))
        controls = PracticeControls(practice)
        await practice.connect()
        task = asyncio.ensure_future(practice.run(3.0))
        await asyncio.sleep(1.0)
        await controls.cue("a")
        controls.lap("b")
        controls.set_targets("b", Targets(stride_length_m=2.2))
        await task
    a, b = state.athletes["a"], state.athletes["b"]
    assert a.name == "Ada" and len(a.strides) > 10 and len(b.strides) > 10
    assert pods[0].cues == [(int(Pattern.PULSE), 100, 1, 400)] and pods[1].cues == []
    assert a.cues_sent == 1
    assert practice.rows["b"].analyzer.settings.target_stride_length_m == 2.2
    marks = [(m.text, m.athlete) for m in Session.open(tmp_path / "s").marks()]
    assert marks == [("lap", "b"), ("targets: stride length 2.2", "b")]


def test_fast_simulation_replays_on_the_athletes_time(tmp_path: Path) -> None:
    import json

    path = write_session(tmp_path, athletes=1, reps=1)
    normal = Timeline.load(path)
    meta = json.loads((path / "session.json").read_text())
    meta["settings"]["speed"] = 4.0  # as `stridecue demo --speed 4` records it
    (path / "session.json").write_text(json.dumps(meta))
    fast = Timeline.load(path)
    assert fast.duration_s == pytest.approx(4.0 * normal.duration_s, rel=1e-6)
    assert [it.payload for it in fast.items] == [it.payload for it in normal.items]


def test_split_shows_against_the_plan_of_the_400_m_goal() -> None:
    from stridecue.analysis import Event, EventKind

    state = LiveState()
    feed = Feed(state)
    practice = Practice([], clock=SessionClock(0))
    practice.subscribe(feed)
    row = practice.add_athlete("p")
    practice.set_targets("p", Targets(goal_400_s=52.0))
    feed.event(row, Event(1.0, 0, EventKind.REP_START, {"rep": 0}))
    split = {"at_m": 100.0, "split_s": 13.1, "elapsed_s": 13.1, "projected_400m_s": 52.4}
    feed.event(row, Event(14.1, 30, EventKind.SPLIT, split))
    view = state.athletes["p"]
    assert view.rep == 1 and view.running and view.split_index == 1
    assert view.last_split_s == 13.1
    assert view.last_split_plan_s == Targets(goal_400_s=52.0).split_plan_s()[0]
    assert view.alerts[-1].text == "100 m split 13.1 s, 400 m on pace for 52.4 s"


def test_dashboard_demo_records_a_session_the_report_reads(tmp_path: Path, capsys) -> None:
    argv = ["dashboard", "--demo", "2", "--speed", "4", "--duration", "8", "--port", "0"]
    assert main([*argv, "--sessions-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dashboard: http://127.0.0.1:" in out and "recorded session:" in out
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert set(Session.open(session).athletes.values()) == {"Ada", "Ben"}
    assert main(["report", str(session)]) == 0
    page = (session / "report" / "index.html").read_text()
    assert "<h2 id='Ada'>" in page and "<h2 id='Ben'>" in page
    assert (session / "report" / "Ada-session.png").stat().st_size > 10_000


def test_a_standard_rsc_pod_shows_cadence_and_stride_length() -> None:
    from stridecue.protocol import RscMeasurement

    state = LiveState()
    practice = Practice([], clock=SessionClock(0))
    practice.subscribe(Feed(state))
    raw = bytes(RscMeasurement(3.5, 172, stride_length_m=1.22))
    rsc = RscMeasurement.from_bytes(raw)
    practice.take(Received("stryd", 2_000_000_000, Channel.RSC, raw, rsc))
    (point,) = state.athletes["stryd"].strides
    assert point.t_s == 2.0 and point.cadence_spm == pytest.approx(172)
    assert point.stride_length_m == pytest.approx(1.22)
    row = practice.rows["stryd"]
    assert row.rsc_only and row.analyzer.n_accepted == 0  # not analysed: no per-stride timing


def test_after_a_rep_the_tile_compares_its_last_200_m_with_its_first(session: Path) -> None:
    state = LiveState()
    player = ReplayPlayer(state, Timeline.load(session))
    player.seek(player.duration_s)
    texts = [a.text for a in state.athletes["pod-ada"].alerts]
    assert any(t.startswith("rep 1: ") and "100 m splits" in t for t in texts), texts
    # these reps are about 200 m: their halves are compared
    assert any(t.startswith("last 101 m vs first: cadence") for t in texts), texts
    summary = next(t for t in texts if t.startswith("rep 1: "))
    ended = next(t for t in texts if t.startswith("rep 1 ended: "))
    assert summary.split(",")[0].removeprefix("rep 1: ") in ended  # one distance per rep
