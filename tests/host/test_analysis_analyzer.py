"""The streaming analyzer end to end on simulated strides with known change points."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from stridecue.analysis import Analyzer, AnalyzerSettings, Event, StrideIn
from stridecue.analysis.detectors import threshold
from stridecue.errors import ConfigError
from stridecue.sim import strides as S

ALERTS = ("rhythm_loss", "stride_shortening")


def _run(strides: list[S.StrideTruth], settings: AnalyzerSettings | None = None) -> list[Event]:
    a = Analyzer(settings)
    out: list[Event] = []
    for s in strides:
        out.extend(a.feed(StrideIn(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s)))
    out.extend(a.finish())
    return out


def _noiseless() -> S.Noise:
    return S.Noise(time_cv=0.0, length_cv=0.0, contact_cv=0.0)


def test_clean_step_shortening_is_caught_on_the_predicted_stride() -> None:
    sc = S.shortening(np.random.default_rng(0), S.SPRINT, 0.10, before=60, after=30,
                      noise=_noiseless())  # fmt: skip
    ev = [e for e in _run(sc.strides) if e.kind in ALERTS]
    # spread: the 2 % floor, widened while the baseline is young: at stride 58 (last retune)
    # it rests on 32 strides -> x sqrt(1 + 1.857 / 32) = 2.057 %; whitened residual
    # ln(0.9) / (2.057 % sqrt(1 - 0.3^2)) = 5.37 on the first stride (clipped to 5), 3.76
    # after; k = 0.713 (4 % design), h = threshold(k, 30 000) = 6.07: the sum is 4.29,
    # then 7.33 > h on the second shortened stride
    assert [(e.kind, e.stride_index) for e in ev] == [("stride_shortening", 61)]
    d = ev[0].detail
    assert d["detector"] == "cusum_shorter"
    sd = 0.02 * math.sqrt(1 + 1.3 / 0.7 / 32)
    k = 0.5 * 0.04 * 0.7 / (sd * math.sqrt(1 - 0.09))
    assert d["threshold"] == pytest.approx(threshold(k, 30_000.0), abs=0.002)
    assert d["statistic"] == pytest.approx(7.33, abs=0.01)
    assert d["deviation_pct"] == pytest.approx(-10.0, abs=0.01)


def test_recovered_when_strides_come_back() -> None:
    p = S.SPRINT
    strides = S.shortening(np.random.default_rng(0), p, 0.10, 60, 20, noise=_noiseless()).strides
    t = strides[-1].t_s
    back = [S.StrideTruth(t + 0.48 * (i + 1), 0.48, 0.11, 3.6, 7.5) for i in range(10)]
    ev = [e for e in _run(strides + back) if e.kind in (*ALERTS, "recovered")]
    assert [e.kind for e in ev] == ["stride_shortening", "recovered"]
    # back to normal at stride 80, recovered after 4 strides in tolerance
    assert ev[1].stride_index == 83
    assert ev[1].detail["problem"] == "stride_shortening"


def test_no_alert_during_settling_and_baseline_strides() -> None:
    # a rep that starts badly (very short, irregular strides) then settles
    s = AnalyzerSettings()
    rng = np.random.default_rng(4)
    first = s.settle_strides + s.baseline_strides
    for _ in range(20):
        sc = S.rep(rng, S.SPRINT, 400.0, fatigue_from_m=None, settle_strides=14)
        ev = [e for e in _run(sc.strides) if e.kind in ALERTS]
        assert all(e.stride_index >= first for e in ev)


def test_rhythm_drift_and_irregularity_are_rhythm_loss() -> None:
    drift = S.rhythm_drift(np.random.default_rng(1), S.DISTANCE, 0.05, 60, 30, noise=_noiseless())
    ev = [e for e in _run(drift.strides) if e.kind in ALERTS]
    assert ev[0].kind == "rhythm_loss"
    assert ev[0].detail["detector"] == "cusum_slower"
    assert 60 <= ev[0].stride_index <= 65
    faster = S.rhythm_drift(np.random.default_rng(1), S.SPRINT, -0.05, 60, 30, noise=_noiseless())
    ev = [e for e in _run(faster.strides) if e.kind in ALERTS]
    assert ev[0].detail["detector"] == "cusum_faster"
    hits = 0
    for seed in range(20):
        irr = S.rhythm_irregular(np.random.default_rng(seed), S.SPRINT, 0.10, 60, 40)
        ev = [e for e in _run(irr.strides) if e.kind == "rhythm_loss" and e.stride_index >= 60]
        hits += bool(ev) and ev[0].stride_index < 60 + 12
    assert hits >= 18


def test_detection_statistics_over_seeds() -> None:
    """Small-sample version of the benchmark: 10 % caught fast, steady running quiet."""
    d = []
    for seed in range(40):
        sc = S.shortening(np.random.default_rng(seed), S.SPRINT, 0.10, 60, 40,
                          noise=S.Noise(phi=0.3))  # fmt: skip
        hit = [e.stride_index for e in _run(sc.strides) if e.kind == "stride_shortening"]
        hit = [i for i in hit if i >= 60]
        d.append(hit[0] - 60 + 1 if hit else 99)
    assert float(np.median(d)) <= 3
    alarms = 0
    strides = 0
    for seed in range(100, 110):
        sc = S.steady(np.random.default_rng(seed), S.DISTANCE, 1500, S.Noise(phi=0.3))
        strides += 1500
        alarms += sum(e.kind in ALERTS for e in _run(sc.strides))
    # 15 000 strides = 3 hours of distance running; the target is under 1 alarm an hour
    assert alarms <= 3


def test_feed_and_feed_values_and_chunking_agree() -> None:
    sc = S.session(np.random.default_rng(2), S.SPRINT, n_reps=2, jog_s=40)
    whole = _run(sc.strides)
    a = Analyzer()
    parts: list[Event] = []
    for s in sc.strides:
        parts.extend(a.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s))
    parts.extend(a.finish())
    assert whole == parts


def test_reps_splits_and_summary_follow_the_session() -> None:
    sc = S.session(np.random.default_rng(5), S.SPRINT, n_reps=3, jog_s=60)
    ev = _run(sc.strides)
    starts = [e.stride_index for e in ev if e.kind == "rep_start"]
    truth = [c.index for c in sc.change_points if c.kind == "rep_start"]
    assert starts == truth
    ends = [e.stride_index for e in ev if e.kind == "rep_end"]
    truth_end = [c.index for c in sc.change_points if c.kind == "rep_end"]
    assert len(ends) == 3
    # a rep end is confirmed by 3 jog strides (the last one at end of data)
    assert all(t <= e <= t + 3 for e, t in zip(ends[:2], truth_end[:2], strict=True))
    summaries = [e.detail for e in ev if e.kind == "rep_summary"]
    for s in summaries:
        assert 390.0 < s["distance_m"] < 420.0
        assert len(s["splits_s"]) in (3, 4)
        assert 240.0 < s["mean_cadence_spm"] < 255.0
        assert s["mean_contact_time_s"] == pytest.approx(0.11, rel=0.1)
        assert s["form_held_m"] <= s["distance_m"]
        assert s["fatigue_index"] is not None and s["fatigue_index"] >= 0.0
    # no alert is raised outside a rep
    in_rep = False
    for e in ev:
        in_rep = {"rep_start": True, "rep_end": False}.get(e.kind, in_rep)
        if e.kind in ALERTS:
            assert in_rep


def test_coach_target_sets_the_baseline() -> None:
    # athlete runs evenly at 0.48 s, coach wants 260 steps/min (0.4615 s): slower rhythm
    sc = S.steady(np.random.default_rng(3), S.SPRINT, 100, _noiseless())
    ev = [
        e for e in _run(sc.strides, AnalyzerSettings(target_cadence_spm=260.0)) if e.kind in ALERTS
    ]
    assert ev and ev[0].kind == "rhythm_loss"
    assert ev[0].detail["baseline_stride_time_s"] == pytest.approx(120.0 / 260.0, abs=1e-4)
    s = AnalyzerSettings(target_stride_length_m=3.6)
    assert [e for e in _run(sc.strides, s) if e.kind in ALERTS] == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"settle_strides": -1}, "settle_strides"),
        ({"ar1_phi": 0.99}, "ar1_phi"),
        ({"shortening_false_alarm_strides": math.nan}, "shortening_false_alarm_strides"),
        ({"drift_false_alarm_strides": 10.0}, "drift_false_alarm_strides"),
        ({"target_cadence_spm": 1000.0}, "target_cadence_spm"),
        ({"baseline_strides": 2.5}, "baseline_strides"),
    ],
)
def test_bad_settings_name_the_field(kw: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        AnalyzerSettings(**kw)  # type: ignore[arg-type]


def test_event_presets() -> None:
    d = AnalyzerSettings.for_event("distance", irregular_h=7.0)
    assert d.settle_strides == 8 and d.irregular_h == 7.0
    assert replace(d, settle_strides=3).settle_strides == 3
    with pytest.raises(ConfigError, match="event"):
        AnalyzerSettings.for_event("marathon")
    with pytest.raises(ConfigError, match="unknown"):
        AnalyzerSettings.for_event("sprint", nonsense=1.0)


def test_goal_time_can_set_the_stride_length_baseline() -> None:
    # 0.48 s strides of 3.6 m = 7.5 m/s; a 50 s goal needs 8 m/s -> 3.84 m at this rhythm
    sc = S.steady(np.random.default_rng(3), S.SPRINT, 100, _noiseless())
    only_splits = AnalyzerSettings(goal_400m_s=50.0)
    assert [e for e in _run(sc.strides, only_splits) if e.kind in ALERTS] == []
    s = AnalyzerSettings(goal_400m_s=50.0, goal_sets_stride_length=True)
    ev = [e for e in _run(sc.strides, s) if e.kind in ALERTS]
    assert [e.kind for e in ev] == ["stride_shortening"]
    assert ev[0].detail["baseline_stride_length_m"] == pytest.approx(3.84, abs=0.01)
    with pytest.raises(ConfigError, match="goal_sets_stride_length"):
        AnalyzerSettings(goal_sets_stride_length=1)  # type: ignore[arg-type]
