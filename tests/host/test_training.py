"""400 m and cadence training: plans, told rep distance, calibration, first vs last 200 m."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from stridecue import roster as rosters
from stridecue.analysis import Analyzer, AnalyzerSettings, Targets
from stridecue.analysis.plan import Plan
from stridecue.cli import main
from stridecue.errors import ConfigError
from stridecue.practice import Practice
from stridecue.sim import strides as S
from stridecue.training import halves_words, rep_words

PLAN = "100:11.5,200:24,400:50"


def test_plan_parse_interpolate_and_refuse() -> None:
    p = Plan.parse(PLAN)
    assert p.checkpoints == ((100.0, 11.5), (200.0, 24.0), (400.0, 50.0))
    assert p.plan_elapsed_s(50.0) == pytest.approx(5.75)
    assert p.plan_elapsed_s(300.0) == pytest.approx(37.0)
    assert p.plan_elapsed_s(500.0) == pytest.approx(63.0)  # last segment's pace on
    assert p.split_times_s() == (11.5, 12.5, 13.0, 13.0)
    assert Plan.parse("even:50").split_times_s() == (12.5, 12.5, 12.5, 12.5)
    assert Plan.parse("even:75/600").plan_elapsed_s(100.0) == pytest.approx(12.5)
    assert Plan.parse("shape:50").split_times_s() == (12.25, 11.75, 12.25, 13.75)
    for bad, words in (
        ("100:11.5,50:24", "not increasing"),
        ("100:12,200:11", "not increasing"),
        ("100:x", "not a number"),
        ("even:-5", "above 0"),
        ("100", "metres:seconds"),
    ):
        with pytest.raises(ConfigError, match=words) as e:
            Plan.parse(bad)
        assert "\n" not in str(e.value)


def test_targets_keep_plan_and_rep_distance() -> None:
    t = Targets(goal_400_s=50.0, plan=Plan.parse(PLAN), rep_distance_m=400.0)
    back = Targets.from_json(json.loads(json.dumps(t.to_json())))
    assert back == t and back.split_plan_s() == (11.5, 12.5, 13.0, 13.0)
    s = t.apply(AnalyzerSettings(distance_scale=1.02))
    assert s.plan == t.plan and s.rep_distance_m == 400.0 and s.distance_scale == 1.02
    assert Targets(goal_400_s=52.0).effective_plan() == Plan.shape_400(52.0)
    with pytest.raises(ConfigError, match="rep distance"):
        Targets(rep_distance_m=0.0)


def _measured_rep(seed: int, kind: str) -> tuple[list[S.StrideTruth], list[S.StrideTruth]]:
    rng = np.random.default_rng(seed)
    truth = S.training_rep(rng, kind).strides
    jog = S.steady(rng, S.JOG, 20, t0_s=truth[-1].t_s).strides
    return truth, S.pod_measured(rng, [*truth, *jog], -0.02, 0.02)


def _events(strides: list[S.StrideTruth], settings: AnalyzerSettings) -> list[dict[str, object]]:
    a = Analyzer(settings)
    out = []
    for s in strides:
        for e in a.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s):
            out.append({"kind": str(e.kind), **e.detail})
    out += [{"kind": str(e.kind), **e.detail} for e in a.finish()]
    return out


@pytest.mark.parametrize("kind", S.TRAINING_KINDS)
def test_a_told_400_m_rep_always_has_four_splits(kind: str) -> None:
    for seed in range(6):
        truth, measured = _measured_rep(seed, kind)
        ev = _events(measured, AnalyzerSettings(rep_distance_m=400.0, plan=Plan.parse(PLAN)))
        splits = [e for e in ev if e["kind"] == "split"]
        summary = next(e for e in ev if e["kind"] == "rep_summary")
        assert [e["at_m"] for e in splits] == [100.0, 200.0, 300.0, 400.0]
        assert summary["distance_m"] == 400.0 and len(summary["splits_s"]) == 4  # type: ignore[arg-type]
        assert 1.0 < summary["distance_scale"] < 1.05  # type: ignore[operator]
        late = [e for e in splits if e.get("at_rep_end")]
        assert all(e["distance_scale"] == summary["distance_scale"] for e in late)
        true = S.split_times(truth)
        assert summary["splits_s"] == pytest.approx(true, abs=0.2)
        for e in splits:  # positive = behind plan
            assert e["vs_plan_s"] == pytest.approx(e["elapsed_s"] - e["plan_elapsed_s"], abs=2e-3)  # type: ignore[operator]
        assert summary["splits_vs_plan_s"][-1] == pytest.approx(sum(true) - 50.0, abs=0.2)  # type: ignore[index]


def test_without_new_options_a_short_rep_keeps_its_distance() -> None:
    _, measured = _measured_rep(0, "even")
    summary = next(e for e in _events(measured, AnalyzerSettings()) if e["kind"] == "rep_summary")
    assert summary["distance_scale"] == 1.0 and summary["distance_m"] < 400.0  # type: ignore[operator]
    assert len(summary["splits_s"]) == 3  # type: ignore[arg-type]
    assert all(e.get("plan_elapsed_s") is None for e in _events(measured, AnalyzerSettings()))


def test_first_against_last_200_m_sees_the_fade() -> None:
    _, measured = _measured_rep(1, "fade")
    ev = _events(measured, AnalyzerSettings(rep_distance_m=400.0))
    s = next(e for e in ev if e["kind"] == "rep_summary")
    first, last, pct = s["first_200"], s["last_200"], s["last_vs_first_pct"]
    assert first["from_m"] == 0.0 and last["to_m"] == 400.0  # type: ignore[index]
    assert {"cadence_spm", "stride_length_m", "speed_mps", "contact_time_s"} <= set(first)  # type: ignore[arg-type]
    even = next(
        e
        for e in _events(_measured_rep(1, "even")[1], AnalyzerSettings(rep_distance_m=400.0))
        if e["kind"] == "rep_summary"
    )
    held = even["last_vs_first_pct"]
    # the first 200 m holds the start, so compare the fade with an even rep
    assert pct["stride_length_m"] < held["stride_length_m"] - 3.0  # type: ignore[index]
    assert abs(held["cadence_spm"]) < 3.0  # type: ignore[index]
    assert "last 200 m vs first" in halves_words(s) and "400 m (measured" in rep_words(s)
    assert "form held" in halves_words(even)


def test_distance_scale_multiplies_every_stride() -> None:
    _, measured = _measured_rep(2, "even")
    plain = next(e for e in _events(measured, AnalyzerSettings()) if e["kind"] == "rep_summary")
    scaled = next(
        e
        for e in _events(measured, AnalyzerSettings(distance_scale=1.02))
        if e["kind"] == "rep_summary"
    )
    assert scaled["distance_m"] == pytest.approx(1.02 * plain["distance_m"], abs=0.2)  # type: ignore[operator]
    assert scaled["measured_distance_m"] == plain["measured_distance_m"]
    with pytest.raises(ConfigError, match=r"distance_scale=1\.3 must be within 0\.8\.\.1\.2"):
        AnalyzerSettings(distance_scale=1.3)


def test_settings_store_the_plan_as_text() -> None:
    s = AnalyzerSettings(plan=Plan.parse(PLAN), rep_distance_m=400.0, distance_scale=1.01)
    j = json.loads(json.dumps(s.to_json()))
    assert j["plan"] == PLAN and AnalyzerSettings.from_json(j) == s
    with pytest.raises(ConfigError, match="plan"):
        AnalyzerSettings.from_json({"plan": 5})


def _csv(tmp_path: Path, strides: list[S.StrideTruth]) -> str:
    p = tmp_path / "rep.csv"
    p.write_text("\n".join(S.to_csv_rows(strides)) + "\n")
    return str(p)


def test_analyze_cli_training_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, _measured_rep(3, "fade")[1])
    code = main(["analyze", path, "--json", "--all", "--plan", PLAN, "--rep-distance", "400"])
    ev = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [e["detail"]["at_m"] for e in ev if e["kind"] == "split"] == [100, 200, 300, 400]
    s = next(e["detail"] for e in ev if e["kind"] == "rep_summary")
    assert s["distance_m"] == 400.0 and "last_vs_first_pct" in s
    assert main(["analyze", path, "--all", "--distance-scale", "1.02"]) == 0
    assert "last 200 m vs first" in capsys.readouterr().out
    for opts, words in (
        (["--plan", "100:12,50:20"], "not increasing"),
        (["--rep-distance", "0"], "rep_distance_m=0.0 must be within"),
        (["--rep-distance", "-400"], "rep_distance_m=-400.0"),
        (["--distance-scale", "1.3"], "distance_scale=1.3 must be within 0.8..1.2"),
    ):
        assert main(["analyze", path, *opts]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1


def test_roster_calibration_combines_and_keeps_pod_lines(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text('# pods\n"StrideCue-EE01" = "Ana"\n')
    rosters.calibrate(path, "Ana", rosters.Calibration(1.02, 1, "2025-05-01"))
    c = rosters.calibrate(path, "Ana", rosters.Calibration(1.01, 3, "2025-05-08"))
    assert c == rosters.Calibration(1.0125, 4, "2025-05-08")
    rosters.calibrate(path, "Ben O'Neil", rosters.Calibration(0.99, 1, "2025-05-08"))
    assert rosters.load(path) == {"StrideCue-EE01": "Ana"}
    assert rosters.scales(path) == {"Ana": 1.0125, "Ben O'Neil": 0.99}
    assert path.read_text().startswith('# pods\n"StrideCue-EE01" = "Ana"\n')
    with pytest.raises(ConfigError, match="out of range"):
        rosters.Calibration(1.3, 1, "2025-05-08")


def test_calibrate_command_and_practice_uses_the_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_dashboard_data import write_session

    folder = write_session(tmp_path, athletes=1, reps=2, rep_m=400.0)
    roster = tmp_path / "roster.toml"
    args = [
        "calibrate",
        str(folder),
        "--athlete",
        "Ada",
        "--distance",
        "400",
        "--roster",
        str(roster),
    ]
    assert main([*args, "--rep", "1", "--rep", "2"]) == 0
    out = capsys.readouterr().out
    assert "stored scale" in out and "on 2 rep(s)" in out
    scale = rosters.scales(roster)["Ada"]
    assert 0.95 < scale < 1.05
    assert main([*args, "--rep", "3"]) == 2
    assert "no rep 3" in capsys.readouterr().err
    assert main([*args[:-2], "--distance", "200", "--roster", str(roster), "--rep", "1"]) == 2
    assert "outside 0.8..1.2" in capsys.readouterr().err
    practice = Practice([], roster={"pod-a": "Ada"}, cues=False)
    practice.distance_scales = rosters.scales(roster)
    row = practice.add_athlete("pod-a")
    assert row.analyzer.settings.distance_scale == scale
    practice.set_targets("Ada", Targets(rep_distance_m=400.0))
    assert row.analyzer.settings.distance_scale == scale
    assert row.analyzer.settings.rep_distance_m == 400.0


async def test_a_calibration_used_live_is_kept_and_used_by_the_report(tmp_path: Path) -> None:
    """The athlete's scale goes into the session, so a re-analysis matches the live run."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from cuepod import CuePod
    from stridecue import sessiondata
    from stridecue.links import Channel, Received
    from stridecue.protocol import StrideEvent
    from stridecue.recorder import Recorder

    pod = CuePod("pod-a")
    with Recorder(tmp_path / "s") as rec:
        practice = Practice([pod], roster={"pod-a": "Ada"}, recorder=rec, pod_sessions=False)
        practice.distance_scales = {"Ada": 1.04}
        await practice.connect()
        t_ms = 0
        for seq in range(200):  # 140 s of steady running
            t_ms += 700
            ev = StrideEvent(seq, t_ms, 700, 200, 2400)
            item = Received(
                "pod-a", rec.meta["start_ns"] + t_ms * 10**6, Channel.POD, bytes(ev), ev
            )
            await practice.handle(item, pod)
        practice.finish()
        assert practice.rows["pod-a"].analyzer.settings.distance_scale == 1.04  # live
    data = sessiondata.load(tmp_path / "s")
    (rep,) = data.athlete("Ada").reps
    assert rep.summary["distance_scale"] == 1.04
    assert rep.summary["distance_m"] == pytest.approx(
        1.04 * rep.summary["measured_distance_m"], rel=1e-3
    )
