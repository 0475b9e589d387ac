"""The one pipeline: one analyzer and cue policy per athlete, on one clock."""

from __future__ import annotations

import numpy as np
import pytest
from cuepod import CuePod
from stridecue.links.base import Channel, Received
from stridecue.practice import CueBy, CueSent, Listener, Practice, Row
from stridecue.protocol import StrideEvent
from stridecue.protocol.records import Pattern
from stridecue.sim import strides as S
from stridecue.timeline import SessionClock

T0 = 1_700_000_000 * 10**9
ARRIVAL_NS = 60_000_000  # a stride reaches the host 60 ms after its contact


class Cues(Listener):
    def __init__(self) -> None:
        self.sent: list[CueSent] = []

    def cue(self, row: Row, sent: CueSent) -> None:
        self.sent.append(sent)


def _strides() -> list[StrideEvent]:
    sc = S.rhythm_irregular(np.random.default_rng(3), cv_after=0.12, before=60, after=60)
    out = []
    t_ms = 5000
    for seq, s in enumerate(sc.strides):
        t_ms += round(s.stride_time_s * 1000)
        out.append(
            StrideEvent(
                seq,
                t_ms,
                round(s.stride_time_s * 1000),
                round(s.contact_time_s * 1000),
                round(s.stride_length_m * 1000),
            )
        )
    return out


async def _run(coach_at_seq: int | None) -> tuple[Practice, CuePod, Cues, float | None]:
    """Feed the strides as they would arrive; the coach presses Cue after one of them."""
    now = [T0]
    practice = Practice([], clock=SessionClock(T0, now_ns=lambda: now[0]))
    pod = CuePod()
    cues = Cues()
    practice.subscribe(cues)
    practice.add_athlete("pod", "Ana", link=pod)
    coach_t = None
    for ev in _strides():
        host_ns = T0 + (ev.t_contact_ms - 5000) * 10**6 + ARRIVAL_NS
        now[0] = host_ns
        raw = bytes(ev)
        await practice.handle(Received("pod", host_ns, Channel.POD, raw, ev), pod)
        if ev.seq == coach_at_seq:
            assert await practice.manual_cue("Ana")
            coach_t = practice.clock.now_s()
    return practice, pod, cues, coach_t


async def test_coach_cue_then_rhythm_loss_gets_its_automatic_cue_after_refractory() -> None:
    # without the coach: when does the automatic rhythm cue come?
    practice, _, cues, _ = await _run(None)
    (auto,) = [c for c in cues.sent if c.cue.pattern is Pattern.RHYTHM][:1]
    first_auto_t = auto.t_s
    # the coach cues a second before that: the automatic cue waits for the coach's cue
    # to end (0.4 s) and the refractory time (2 s), then goes out, on the same clock
    strides = _strides()
    seq = max(ev.seq for ev in strides if (ev.t_contact_ms - 5000) / 1000 < first_auto_t - 1.0)
    practice, pod, cues, coach_t = await _run(seq)
    assert coach_t is not None
    assert [c.by for c in cues.sent][:1] == [CueBy.COACH]
    autos = [c for c in cues.sent if c.by == CueBy.AUTO]
    assert autos, "the rhythm loss after the coach's cue was never cued"
    refractory = practice.cue_settings.refractory_s
    assert coach_t + 0.4 + refractory <= autos[0].t_s <= coach_t + 0.4 + refractory + 1.5
    assert pod.cues[0].pattern is Pattern.PULSE and pod.cues[1].pattern is Pattern.RHYTHM
    sends = [d for d in practice.rows["pod"].policy.log if d.action == "send"]
    assert sends[0].problem == "manual" and sends[1].t_s == pytest.approx(autos[0].t_s, abs=0.2)


async def test_a_standard_rsc_pod_is_analysed_for_what_it_carries() -> None:
    """A Stryd-like pod: speed and cadence once a second, no contact time, no cues."""
    from stridecue.protocol import RscMeasurement

    practice = Practice([], clock=SessionClock(T0))
    pod = CuePod("stryd")
    practice.add_athlete("stryd", "Ana", link=pod)
    events = []

    class Events(Listener):
        def event(self, row: Row, event: object) -> None:
            events.append(event)

    practice.subscribe(Events())
    for k in range(181):  # 3 minutes at 4 m/s and 176 steps/min, then 30 s at 3 m/s
        speed = 4.0 if k < 150 else 3.0
        rsc = RscMeasurement(speed, 176, None, None, True)
        raw = bytes(rsc)
        await practice.handle(Received("stryd", T0 + k * 10**9, Channel.RSC, raw, rsc), pod)
    practice.finish()
    row = practice.rows["stryd"]
    assert row.rsc_only and pod.cues == []  # an RSC pod cannot be buzzed
    assert abs(row.strides - 180 * 176 / 120) <= 1  # every stride once, none invented
    kinds = [getattr(e, "kind", "") for e in events]
    assert "rep_start" in kinds and "split" in kinds and "rep_summary" in kinds
    summary = next(e for e in events if getattr(e, "kind", "") == "rep_summary")
    # at most the 690 m run (150 s x 4 m/s + 30 s x 3 m/s), less the start the rep needs
    assert 550 < summary.detail["distance_m"] <= 690
