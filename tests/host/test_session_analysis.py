"""The session stores the analysis that ran live, and the report analyses with it.

Settings as JSON (round trip, checks), targets onto settings (the one mapping), the
recorder's ``analysis`` block, and a report of a session recorded with non-default
settings and targets compared with the defaults' analysis of the same frames.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stridecue.analysis import AnalyzerSettings, Targets
from stridecue.analysis.plan import Plan
from stridecue.analysis.settings import _INTEGER, _OPTIONAL, _RANGES
from stridecue.cli import main
from stridecue.errors import ConfigError
from stridecue.links import Channel, PodInfo
from stridecue.recorder import Recorder
from stridecue.session import Session, TargetsChange
from stridecue.sessiondata import DEFAULT, GIVEN, LIVE, AthleteData, Rep, load
from test_dashboard_data import START_NS, write_session


def _value(name: str) -> st.SearchStrategy[Any]:
    if name == "goal_sets_stride_length":
        return st.booleans()
    if name == "plan":  # the one setting that is not a number: a split plan or none
        plans = ("100:11.5,200:24,400:50", "even:50", "shape:52")
        return st.none() | st.sampled_from([Plan.parse(p) for p in plans])
    lo, hi = _RANGES[name]
    if name in _INTEGER:
        v: st.SearchStrategy[Any] = st.integers(int(lo), int(hi))
    else:
        v = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.none() | v if name in _OPTIONAL else v


NAMES = [f.name for f in dataclasses.fields(AnalyzerSettings)]
SETTINGS = st.fixed_dictionaries({n: _value(n) for n in NAMES})


@settings(max_examples=200, deadline=None)
@given(SETTINGS)
def test_settings_json_round_trip(values: dict[str, Any]) -> None:
    s = AnalyzerSettings(**values)
    back = AnalyzerSettings.from_json(json.loads(json.dumps(s.to_json())))
    assert back == s
    assert all(type(getattr(back, n)) is type(getattr(s, n)) for n in NAMES)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_settings_json_missing_keys_take_their_defaults(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(NAMES), unique=True))
    part = {n: data.draw(_value(n)) for n in names}
    assert AnalyzerSettings.from_json(part) == dataclasses.replace(AnalyzerSettings(), **part)


def test_settings_json_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"unknown analyzer setting\(s\) settle_stride "):
        AnalyzerSettings.from_json({"settle_stride": 5})
    with pytest.raises(ConfigError, match=r"settle_strides=5\.5 must be a whole number"):
        AnalyzerSettings.from_json({"settle_strides": 5.5})
    with pytest.raises(ConfigError, match=r"clip_sd=1\.0 must be within 2\.\.50"):
        AnalyzerSettings.from_json({"clip_sd": 1.0})
    with pytest.raises(ConfigError, match="settle_strides=True must be a number"):
        AnalyzerSettings.from_json({"settle_strides": True})
    with pytest.raises(ConfigError, match="must be a JSON object"):
        AnalyzerSettings.from_json([1, 2])
    assert AnalyzerSettings.from_json({}) == AnalyzerSettings()


def test_targets_apply_onto_settings() -> None:
    base = AnalyzerSettings(split_m=50.0, target_cadence_spm=190.0)
    for t in (Targets(), Targets(200.0, 2.4, 52.0), Targets(goal_400_s=60.0)):
        assert t.apply(base) == dataclasses.replace(
            base,
            target_cadence_spm=t.cadence_spm,
            target_stride_length_m=t.stride_length_m,
            goal_400m_s=t.goal_400_s,
        )
        assert Targets.from_json(json.loads(json.dumps(t.to_json()))) == t
    assert Targets().apply(base).target_cadence_spm is None  # unset targets clear
    with pytest.raises(ConfigError, match="target goal_400_s='52' must be a number"):
        Targets.from_json({"goal_400_s": "52"})
    with pytest.raises(ConfigError, match="400 m goal=300 is out of range"):
        Targets.from_json({"goal_400_s": 300})


def test_recorder_stores_settings_and_a_targets_history(tmp_path: Path) -> None:
    s = AnalyzerSettings(split_m=50.0, settle_strides=6)
    with Recorder(tmp_path / "s") as rec:
        rec.add_pod(PodInfo(pod="a"))
        rec.set_analysis(s)
        rec.set_targets("a", Targets(cadence_spm=200.0), host_ns=20)
        rec.set_targets("b", Targets(goal_400_s=55.0), host_ns=10)
        rec.set_targets("a", Targets(stride_length_m=2.5, goal_400_s=52.0), host_ns=30)
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["analysis"]["settings"]["split_m"] == 50.0
    assert meta["analysis"]["targets"][0] == {
        "pod": "a", "host_ns": 20, "cadence_spm": 200.0, "stride_length_m": None,
        "goal_400_s": None,
    }  # fmt: skip
    session = Session.open(tmp_path / "s")
    assert session.has_analysis_settings and session.analyzer_settings() == s
    assert session.targets("a") == [
        TargetsChange("a", 20, Targets(cadence_spm=200.0)),
        TargetsChange("a", 30, Targets(stride_length_m=2.5, goal_400_s=52.0)),
    ]
    assert [t.pod for t in session.targets()] == ["b", "a", "a"]  # in time order


def test_a_session_from_before_yields_defaults(tmp_path: Path) -> None:
    path = write_session(tmp_path, athletes=1, reps=1)
    session = Session.open(path)
    assert "analysis" not in session.meta
    assert not session.has_analysis_settings
    assert session.analyzer_settings() == AnalyzerSettings() and session.targets() == []
    assert load(path).analysis == DEFAULT


def rerecord(
    src: Path, dst: Path, settings: AnalyzerSettings, targets: list[tuple[str, Targets, int]]
) -> Path:
    """Record ``src``'s frames again, as a practice that stored its analysis would have."""
    s = Session.open(src)
    with Recorder(dst, athletes=s.meta["athletes"], settings=s.meta["settings"]) as rec:
        rec.meta["start_ns"] = s.meta["start_ns"]
        for pod, info in s.meta["pods"].items():
            fields = ("name", "firmware", "clock_offset_ms")
            rec.add_pod(PodInfo(pod=pod, **{k: info[k] for k in fields}), info["link"])
        rec.set_analysis(settings)
        for pod, t, host_ns in targets:
            rec.set_targets(pod, t, host_ns)
        for item in s.items(include_sent=True):
            if item.channel is Channel.CUE:
                rec.write_sent(item.pod, item.channel, item.raw, item.host_ns)
            else:
                rec.write(item)
        for m in s.marks():
            rec.mark(m.text, m.athlete, m.host_ns)
    return dst


def _shortening(a: AthleteData, rep: Rep) -> bool:
    return any(
        e.kind == "stride_shortening" and rep.start_s <= e.t_s <= rep.end_s for e in a.alerts
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("s")
    plain = write_session(root, athletes=2, reps=2)
    ben = load(plain).athlete("Ben")
    between = START_NS + int((ben.reps[0].end_s + ben.reps[1].start_s) / 2 * 1e9)
    live = rerecord(
        plain,
        root / "live",
        AnalyzerSettings(split_m=50.0),
        [
            ("pod-ada", Targets(stride_length_m=3.0, goal_400_s=52.0), START_NS),
            ("pod-ben", Targets(stride_length_m=3.0), between),  # changed after rep 1
        ],
    )
    return plain, live


def test_report_analyses_with_what_ran_live(sessions: tuple[Path, Path]) -> None:
    plain, live = sessions
    default, stored = load(plain), load(live)
    assert default.analysis == DEFAULT and stored.analysis.startswith(LIVE)
    assert stored.settings == AnalyzerSettings(split_m=50.0)
    for d, s in zip(default.athletes, stored.athletes, strict=True):
        assert d.strides == s.strides  # the same frames, on the same timeline
        assert [len(r.splits_s) for r in d.reps] == [2, 2]
        assert [len(r.splits_s) for r in s.reps] == [4, 4]  # split_m=50 as live
        assert all(_shortening(d, r) for r in d.reps)
    ada, ben = stored.athlete("Ada"), stored.athlete("Ben")
    # Ada's target stride length from the start: her fade stays above it
    assert not any(_shortening(ada, r) for r in ada.reps)
    assert ada.targets == Targets(stride_length_m=3.0, goal_400_s=52.0)
    assert all("vs_goal_s" in e.detail for e in ada.events if e.kind == "split")
    # Ben's target came between the reps: rep 1 as without it, rep 2 with it
    assert _shortening(ben, ben.reps[0]) and not _shortening(ben, ben.reps[1])
    assert not any("vs_goal_s" in e.detail for e in ben.events if e.kind == "split")


def test_callers_settings_and_targets_override_the_stored(sessions: tuple[Path, Path]) -> None:
    plain, live = sessions
    default = load(plain)
    given = load(live, AnalyzerSettings(), targets=Targets())
    assert given.analysis == GIVEN
    for d, g in zip(default.athletes, given.athletes, strict=True):
        assert d.reps == g.reps and d.events == g.events
    only_targets = load(live, targets=Targets(goal_400_s=60.0))
    assert only_targets.analysis == LIVE + " and the targets given here"
    ben = only_targets.athlete("Ben")
    assert all(_shortening(ben, r) for r in ben.reps)  # the stored targets are replaced
    assert all(len(r.splits_s) == 4 for r in ben.reps)  # the stored settings are kept


def test_report_page_says_which_analysis(
    sessions: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, live = sessions
    for session, goal, said in (
        (plain, [], "analysed with default settings (recorded before settings were stored)"),
        (live, [], "analysed with the settings used live"),
        (live, ["--goal-400", "55"], "analysed with the settings used live and the targets given"),
    ):
        out = tmp_path / f"{session.name}{len(goal)}"
        assert main(["report", str(session), "-o", str(out), *goal]) == 0
        page = (out / "index.html").read_text()
        assert said in page, said
    capsys.readouterr()
