"""Cue policy rules: one in flight, refractory, priority, no cue in jogs, manual always."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from stridecue.analysis import Analyzer, CuePolicy, CueSettings, Event
from stridecue.errors import ConfigError
from stridecue.protocol.records import Pattern
from stridecue.sim import strides as S


def _alarm(t: float, kind: str, stat: float = 7.0) -> Event:
    return Event(t, 0, kind, {"detector": "cusum_shorter", "statistic": stat, "threshold": 6.5})


def _policy(**kw: float) -> CuePolicy:
    p = CuePolicy(CueSettings(**kw))  # type: ignore[arg-type]
    p.update(0.0, [Event(0.0, 0, "rep_start")])
    return p


def test_alarm_in_rep_is_sent_with_its_pattern_and_reason() -> None:
    p = _policy()
    (d,) = p.update(10.0, [_alarm(10.0, "stride_shortening")])
    assert d.action == "send"
    assert d.cue is not None and d.cue.pattern == Pattern.STRIDE
    assert "cusum_shorter statistic 7.0 > threshold 6.5" in d.reason
    assert p.log[-1] is d


def test_no_cue_during_recovery_jog() -> None:
    p = CuePolicy()
    (d,) = p.update(5.0, [_alarm(5.0, "rhythm_loss")])
    assert (d.action, d.cue) == ("suppress", None)
    assert "recovery" in d.reason


def test_priority_one_in_flight_and_refractory() -> None:
    p = _policy(refractory_s=2.0, rhythm_pattern_s=0.6, stride_pattern_s=0.8, repeat_s=100.0)
    out = p.update(10.0, [_alarm(10.0, "stride_shortening"), _alarm(10.0, "rhythm_loss")])
    assert [(d.problem, d.action) for d in out] == [
        ("rhythm_loss", "send"),
        ("stride_shortening", "defer"),
    ]
    assert "lower priority" in out[1].reason
    # in flight until 10.6, then refractory until 12.6
    (d,) = p.update(10.3)
    assert (d.action, d.reason) == ("defer", "cue in flight")
    (d,) = p.update(11.0)
    assert (d.action, d.reason) == ("defer", "refractory time")
    assert p.update(11.5) == []  # the same deferral is logged once
    (d,) = p.update(12.7)
    assert (d.problem, d.action) == ("stride_shortening", "send")


def test_repeat_while_active_stop_when_recovered() -> None:
    p = _policy(repeat_s=5.0, refractory_s=1.0)
    assert p.update(1.0, [_alarm(1.0, "stride_shortening")])[0].action == "send"
    assert [d.action for d in p.update(3.0)] == []
    assert [d.action for d in p.update(6.1)] == ["send"]
    rec = Event(7.0, 0, "recovered", {"problem": "stride_shortening"})
    (d,) = p.update(7.0, [rec])
    assert (d.action, d.reason) == ("stop", "athlete recovered")
    assert p.update(20.0) == []


def test_manual_cue_always_goes_through() -> None:
    p = _policy()
    p.update(1.0, [_alarm(1.0, "rhythm_loss")])
    d = p.manual(1.1, duration_ms=300)
    assert d.action == "send" and d.cue is not None and d.cue.pattern == Pattern.PULSE
    assert d.cue.duration_ms == 300
    # also outside a rep
    q = CuePolicy()
    assert q.manual(0.0).action == "send"


def test_rep_end_stops_active_problems() -> None:
    p = _policy()
    p.update(1.0, [_alarm(1.0, "rhythm_loss")])
    (d,) = p.update(2.0, [Event(2.0, 0, "rep_end")])
    assert (d.problem, d.action, d.reason) == ("rhythm_loss", "stop", "rep ended")
    assert p.update(30.0) == []


def test_policy_on_a_simulated_session_never_cues_in_jogs() -> None:
    sc = S.session(np.random.default_rng(11), S.SPRINT, n_reps=3, jog_s=60)
    a, p = Analyzer(), CuePolicy()
    sent = []
    for s in sc.strides:
        ev = a.feed_values(s.t_s, s.stride_time_s, s.stride_length_m)
        sent += [(s.t_s, d) for d in p.update(s.t_s, ev) if d.action == "send"]
    assert sent, "the fatigued last 150 m of each rep should be cued"
    # every cue falls inside a true rep (its end confirmed up to 3 jog strides late)
    starts = [sc.strides[c.index].t_s for c in sc.change_points if c.kind == "rep_start"]
    ends = [c.index for c in sc.change_points if c.kind == "rep_end"]
    ends_t = [sc.strides[min(i + 3, len(sc.strides) - 1)].t_s for i in ends]
    for t, _ in sent:
        assert any(a <= t <= b for a, b in zip(starts, ends_t, strict=True)), t
    times = [t for t, _ in sent]
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))


def test_bad_cue_settings() -> None:
    with pytest.raises(ConfigError, match="refractory_s"):
        CueSettings(refractory_s=-1.0)
