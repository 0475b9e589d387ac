"""The coach's plans per athlete and rep type: roster tables, live use, the session, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stridecue import roster as rosters
from stridecue import sessiondata
from stridecue.analysis import Targets
from stridecue.analysis.plan import Plan
from stridecue.cli import main
from stridecue.errors import ConfigError
from stridecue.practice import Practice, describe
from stridecue.recorder import Recorder
from stridecue.session import Session
from stridecue.training import plan_words, targets_plan_words

ANA_400 = "100:11.5,200:24,400:50"
ROSTER = f'''# who wears which pod
"pod-a" = "Ana"
"pod-b" = "Ben"

[plan."Ana"]
400 = "{ANA_400}"  # the 400s
600 = "even:93"

[plan."Ben"]
"300" = "100:12,300:39"
'''


def _roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.toml"
    path.write_text(text)
    return path


def test_roster_plans_per_athlete_and_rep_distance(tmp_path: Path) -> None:
    path = _roster(tmp_path, ROSTER + '"400" = "shape:50"\n')
    plans = rosters.plans(path)
    assert plans["Ana"] == {400.0: Plan.parse(ANA_400), 600.0: Plan.parse("even:93/600")}
    assert plans["Ben"] == {300.0: Plan.parse("100:12,300:39"), 400.0: Plan.parse("shape:50")}
    # a bare even:S in a table runs S over the key's distance, and says so in its text
    assert plans["Ana"][600.0].spec == "even:93/600"
    assert plans["Ana"][600.0].split_times_s() == (15.5,) * 6
    # the pod lines load as before
    assert rosters.load(path) == {"pod-a": "Ana", "pod-b": "Ben"}
    assert rosters.plans(tmp_path / "absent.toml") == {}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('400 = "100:x"', "roster {path}: [plan.\"Ana\"] 400: plan '100:x': time 'x' is not"),
        ('400 = "100:12,50:20"', "[plan.\"Ana\"] 400: plan '100:12,50:20' is not increasing"),
        ('fast = "even:50"', '[plan."Ana"] fast: the key must be the rep distance in metres'),
        ('5 = "even:1"', '[plan."Ana"] 5: the key must be the rep distance in metres, 20..10000'),
        ("400 = 50", '[plan."Ana"] 400 must be a plan\'s text in quotes'),
        ('600 = "shape:50"', "600: the plan ends at 400 m, a plan for the 600s must end at 600"),
        ('400 = "100:12,300:40"', "400: the plan ends at 300 m"),
    ],
)
def test_a_bad_roster_plan_is_one_line_naming_file_athlete_and_key(
    tmp_path: Path, table: str, words: str
) -> None:
    path = _roster(tmp_path, f'"pod-a" = "Ana"\n\n[plan."Ana"]\n{table}\n')
    with pytest.raises(ConfigError) as e:
        rosters.plans(path)
    assert words.format(path=path) in str(e.value)
    assert "\n" not in str(e.value)


def test_a_plan_that_is_no_table_is_refused(tmp_path: Path) -> None:
    path = _roster(tmp_path, '[plan]\nAna = "even:50"\n')
    with pytest.raises(ConfigError, match="plan of 'Ana' must be a table of rep distances"):
        rosters.plans(path)


def test_plan_tables_survive_calibrate(tmp_path: Path) -> None:
    path = _roster(tmp_path, ROSTER)
    before = rosters.plans(path)
    rosters.calibrate(path, "Ana", rosters.Calibration(1.02, 1, "2025-05-01"))
    rosters.calibrate(path, "Ben", rosters.Calibration(0.99, 2, "2025-05-02"))
    rosters.calibrate(path, "Ana", rosters.Calibration(1.01, 1, "2025-05-08"))
    text = path.read_text()
    assert rosters.plans(path) == before
    assert rosters.load(path) == {"pod-a": "Ana", "pod-b": "Ben"}
    assert rosters.scales(path) == {"Ana": 1.015, "Ben": 0.99}
    # written as the coach wrote them, comments and all; calibrations once each, at the end
    assert text.startswith(ROSTER.rstrip("\n"))
    assert text.count("[calibration.") == 2 and text.count("[plan.") == 2


def test_a_calibration_between_plan_tables_keeps_the_later_plans(tmp_path: Path) -> None:
    path = _roster(
        tmp_path,
        '"pod-a" = "Ana"\n\n[calibration."Ana"]\nscale = 1.01\nreps = 1\ndate = "2025-05-01"\n'
        '\n[plan."Ana"]\n400 = "even:50"\n',
    )
    rosters.calibrate(path, "Ana", rosters.Calibration(1.03, 1, "2025-05-02"))
    assert rosters.plans(path) == {"Ana": {400.0: Plan.parse("even:50")}}
    assert rosters.scales(path) == {"Ana": 1.02}


def test_practice_picks_the_roster_plan_at_the_rep_distance(tmp_path: Path) -> None:
    practice = Practice([], roster={"pod-a": "Ana", "pod-b": "Ben"}, cues=False)
    practice.plans = rosters.plans(_roster(tmp_path, ROSTER))
    ana = practice.add_athlete("pod-a")
    ben = practice.add_athlete("pod-b")
    applied = practice.set_targets("Ana", Targets(rep_distance_m=400.0))
    assert applied.plan == Plan.parse(ANA_400) and ana.targets == applied
    assert ana.analyzer.settings.plan == Plan.parse(ANA_400)
    assert ana.analyzer.settings.rep_distance_m == 400.0
    # the next rep is a 600: its own plan
    practice.set_targets("Ana", Targets(rep_distance_m=600.0, cadence_spm=200.0))
    assert ana.targets.plan == Plan.parse("even:93/600") and ana.targets.cadence_spm == 200.0
    # a plan the coach gives wins over the roster
    mine = Plan.parse("even:52")
    assert practice.set_targets("Ana", Targets(plan=mine, rep_distance_m=400.0)).plan == mine
    # no roster plan for that distance (or no distance): no plan
    assert practice.set_targets("Ben", Targets(rep_distance_m=400.0)).plan is None
    assert practice.set_targets("Ana", Targets(cadence_spm=190.0)).plan is None
    assert ben.targets.rep_distance_m == 400.0


def test_start_targets_reach_each_athlete_as_they_join() -> None:
    practice = Practice([], roster={"pod-a": "Ana", "pod-b": "Ben"}, cues=False)
    practice.plans = {"Ana": {400.0: Plan.parse(ANA_400)}}
    practice.start_targets = {
        "": Targets(rep_distance_m=400.0),
        "Ben": Targets(plan=Plan.parse("even:55"), rep_distance_m=400.0),
    }
    assert practice.add_athlete("pod-a").targets.plan == Plan.parse(ANA_400)
    assert practice.add_athlete("pod-b").targets.plan == Plan.parse("even:55")
    assert practice.add_athlete("pod-c").targets == Targets(rep_distance_m=400.0)


def test_the_coach_reads_the_plan_in_seconds_per_100_m_and_mm_ss() -> None:
    assert plan_words(Plan.parse(ANA_400)) == (
        "100 m plan 11.5 / 12.5 / 13.0 / 13.0 s, 400 m in 0:50.0"
    )
    assert (
        plan_words(Plan.parse("100:14,600:93")) == "100 m plan 14.0 / 5 x 15.8 s, 600 m in 1:33.0"
    )
    roster = Targets(plan=Plan.parse(ANA_400), rep_distance_m=400.0)
    assert targets_plan_words(roster, from_roster=True).endswith("in 0:50.0 (roster)")
    other = Targets(plan=Plan.parse("even:50"), rep_distance_m=600.0)
    assert targets_plan_words(other).startswith("600 m reps, 100 m plan 4 x 12.5 s")
    assert targets_plan_words(Targets(cadence_spm=190.0)) == ""
    assert describe(roster) == f"400 m reps, plan {ANA_400}"


async def test_a_roster_plan_used_live_is_stored_and_analysed_again(tmp_path: Path) -> None:
    """The plan the athlete had live is in the session: the report's analysis uses it."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from cuepod import CuePod
    from stridecue.links import Channel, Received
    from stridecue.protocol import StrideEvent

    pod = CuePod("pod-a")
    with Recorder(tmp_path / "s") as rec:
        practice = Practice([pod], roster={"pod-a": "Ana"}, recorder=rec, pod_sessions=False)
        practice.plans = rosters.plans(_roster(tmp_path, ROSTER))
        practice.start_targets = {"": Targets(rep_distance_m=400.0)}
        await practice.connect()
        t_ms = 0
        for seq in range(168):  # 400 m at 3.4 m/s, then a walk
            t_ms += 700 if seq < 168 - 6 else 1400
            length = 2400 if seq < 168 - 6 else 1000
            ev = StrideEvent(seq, t_ms, 700, 200, length)
            item = Received(
                "pod-a", rec.meta["start_ns"] + t_ms * 10**6, Channel.POD, bytes(ev), ev
            )
            await practice.handle(item, pod)
        practice.finish()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    (stored,) = meta["analysis"]["targets"]
    assert stored["plan"] == ANA_400 and stored["rep_distance_m"] == 400.0
    marks = [m.text for m in Session.open(tmp_path / "s").marks()]
    assert marks == [f"targets: 400 m reps, plan {ANA_400}"]
    data = sessiondata.load(tmp_path / "s")
    ana = data.athlete("Ana")
    assert ana.targets.plan == Plan.parse(ANA_400)
    (rep,) = ana.reps
    splits = rep.summary["splits_s"]
    assert len(splits) == 4 and rep.summary["distance_m"] == pytest.approx(400.0)
    plan_at = (11.5, 24.0, 37.0, 50.0)
    elapsed = [sum(splits[: k + 1]) for k in range(4)]
    expected = [round(e - p, 2) for e, p in zip(elapsed, plan_at, strict=True)]
    assert rep.summary["splits_vs_plan_s"] == pytest.approx(expected, abs=0.02)


SIM = "sim:steady-400,speed=16"


def test_record_runs_each_athlete_to_the_roster_plan_and_the_report_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = _roster(tmp_path, f'"{SIM}" = "Ana"\n\n[plan."Ana"]\n400 = "100:12,200:25,400:52"\n')
    argv = ["record", SIM, "--roster", str(roster), "--rep-distance", "400", "--headless"]
    assert main([*argv, "--sessions-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # the start line: which plan Ana runs to, in seconds per 100 m and m:ss
    assert "00:00 Ana: 100 m plan 12.0 / 13.0 / 13.5 / 13.5 s, 400 m in 0:52.0 (roster)" in out
    assert "ahead of plan" in out or "behind plan" in out
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    ana = sessiondata.load(session).athlete("Ana")
    assert ana.targets == Targets(plan=Plan.parse("100:12,200:25,400:52"), rep_distance_m=400.0)
    (rep,) = ana.reps
    assert len(rep.summary["splits_vs_plan_s"]) == 4
    assert main(["report", str(session)]) == 0
    page = (session / "report" / "index.html").read_text()
    assert "Ran to: 100 m plan 12.0 / 13.0 / 13.5 / 13.5 s, 400 m in 0:52.0." in page
    # a replay runs Ana to the plan she had, from the session (the roster is not read)
    rep_line = next(ln for ln in out.splitlines() if "Ana: rep 1:" in ln)
    roster.unlink()
    assert main(["replay", str(session), "--fast", "--headless"]) == 0
    again = capsys.readouterr().out
    assert "Ana: 100 m plan 12.0 / 13.0 / 13.5 / 13.5 s, 400 m in 0:52.0\n" in again
    assert rep_line.partition("Ana: ")[2] in again


def test_a_plan_for_one_athlete_on_the_command_line(tmp_path: Path, capsys) -> None:
    roster = _roster(tmp_path, f'"{SIM}" = "Ana"\n\n[plan."Ana"]\n400 = "even:52"\n')
    argv = ["live", SIM, "--roster", str(roster), "--rep-distance", "400", "--headless"]
    assert main([*argv, "--plan", "Ana=even:48", "--plan", "shape:55"]) == 0
    assert " Ana: 100 m plan 4 x 12.0 s, 400 m in 0:48.0\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "roster_text", "words"),
    [
        (["--plan", "100:x"], "", "plan '100:x': time 'x' is not a number"),
        (["--plan", "Zed=even:50"], "", "--plan 'Zed=even:50': no athlete 'Zed' in the roster"),
        (["--plan", "=even:50"], "", "--plan '=even:50': write NAME=SPEC"),
        (["--plan", "even:50", "--plan", "even:51"], "", "a second plan for everyone"),
        (["--rep-distance", "-400"], "", "rep distance=-400 is out of range"),
        ([], '[plan."Ana"]\n400 = "200:20,100:30"\n', '[plan."Ana"] 400: plan'),
    ],
)
def test_bad_plans_on_the_command_line_are_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    roster_text: str,
    words: str,
) -> None:
    roster = _roster(tmp_path, f'"{SIM}" = "Ana"\n\n{roster_text}')
    argv = ["record", SIM, "--roster", str(roster), "--headless", "--sessions-dir", str(tmp_path)]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # nothing recorded


def test_the_dashboard_controls_apply_the_roster_plan(tmp_path: Path) -> None:
    from stridecue.dashboard import LiveState, PracticeControls
    from stridecue.dashboard.feed import Feed

    state = LiveState()
    practice = Practice([], roster={"pod-a": "Ana"}, cues=False)
    practice.plans = rosters.plans(_roster(tmp_path, ROSTER))
    practice.subscribe(Feed(state))
    practice.add_athlete("pod-a")
    controls = PracticeControls(practice)
    assert sorted(controls.plans("pod-a")) == [400.0, 600.0]
    assert controls.plans("nobody") == {}
    applied = controls.set_targets("pod-a", Targets(rep_distance_m=600.0))
    assert applied.plan == Plan.parse("even:93/600")
    assert state.athletes["pod-a"].targets == applied  # what the tile shows
    with pytest.raises(ConfigError, match="no pod 'nobody'"):
        controls.set_targets("nobody", Targets(rep_distance_m=400.0))


def test_the_dashboard_command_reads_the_roster_for_names_and_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `stridecue dashboard LINK... --roster FILE --rep-distance 400`: the tile has the
    # athlete's name and her roster plan for 400 m, as `live`/`record` would give her
    from stridecue.dashboard import feed

    states = []

    class Seen(feed.Feed):
        def __init__(self, state) -> None:  # type: ignore[no-untyped-def]
            super().__init__(state)
            states.append(state)

    monkeypatch.setattr(feed, "Feed", Seen)
    sim = "sim:steady-400"
    roster = _roster(tmp_path, f'"{sim}" = "Ana"\n\n[plan."Ana"]\n400 = "100:12,200:25,400:52"\n')
    argv = ["dashboard", sim, "--roster", str(roster), "--rep-distance", "400", "--port", "0"]
    assert main([*argv, "--duration", "1.5", "--sessions-dir", str(tmp_path)]) == 0
    assert "recorded session:" in capsys.readouterr().out
    (state,) = states
    tile = state.athletes["sim-steady-400"]  # the simulated pod's id
    ana_400 = Targets(plan=Plan.parse("100:12,200:25,400:52"), rep_distance_m=400.0)
    assert tile.name == "Ana" and tile.targets == ana_400
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert sessiondata.load(session).athlete("Ana").targets == ana_400  # kept for the report


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--demo", "2", "--plan", "even:50"], "--plan is for pods (stridecue dashboard ble:"),
        (["--demo", "2", "--rep-distance", "0"], "--rep-distance is for pods"),
        (["--replay", "x", "--roster", "r.toml"], "a replay uses the names and plans kept"),
        (["sim:steady-400", "--plan", "Zed=even:50"], "no athlete 'Zed' in the roster"),
        (["sim:steady-400", "--roster", "nowhere.toml"], "nowhere.toml"),
    ],
)
def test_the_dashboard_refuses_roster_options_it_cannot_use_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    argv = [*argv, "--port", "0", "--sessions-dir", str(tmp_path)]
    assert main(["dashboard", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert not list(tmp_path.iterdir())  # nothing recorded
