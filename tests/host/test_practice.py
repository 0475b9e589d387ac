"""The one pipeline: one analyzer and cue policy per athlete, on one clock."""

from __future__ import annotations

import io

import numpy as np
import pytest
from cuepod import CuePod
from stridecue.links.base import Channel, Received
from stridecue.practice import CueBy, CueSent, Listener, Practice, Row
from stridecue.protocol import Status, StrideEvent
from stridecue.protocol.records import NO_COACH, Pattern, PodCoach
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


class PodCoaches(Listener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, PodCoach]] = []

    def pod_coach(self, row: Row, state: PodCoach) -> None:
        self.seen.append((row.name, state))


async def test_the_pods_own_coach_reaches_the_listeners_the_tile_and_the_terminal() -> None:
    """Status records carry what the pod's coach does; each change is published once."""
    from stridecue.dashboard.feed import Feed
    from stridecue.dashboard.live import PracticeControls
    from stridecue.dashboard.state import LiveState
    from stridecue.dashboard.tile import Tile
    from stridecue.liveview import View

    practice = Practice([], clock=SessionClock(T0, now_ns=lambda: T0))
    seen, cues, state, out = PodCoaches(), Cues(), LiveState(), io.StringIO()
    for listener in (seen, cues, Feed(state)):  # Cues keeps the default: nothing to change
        practice.subscribe(listener)
    view = View(practice, "t", out, live=False)
    practice.add_athlete("pod", "Ana")
    pacing = PodCoach.ACTIVE | PodCoach.PACER | PodCoach.PACING
    behind = PodCoach.ACTIVE | PodCoach.PACER | PodCoach.IN_REP | PodCoach.BEHIND
    for k, coach in enumerate((NO_COACH, pacing, pacing, behind, NO_COACH)):
        st = Status(80, 0, 3, 5, 0, k, (0, 2, 0), 1, coach)
        await practice.handle(Received("pod", T0 + k * 10**9, Channel.POD, bytes(st), st))
        if coach == pacing:
            assert state.athletes["pod"].pod_coach == "pod: pacing"
        if coach == behind:
            ana = state.athletes["pod"]
            assert ana.pod_coach == "pod: rhythm held, in a rep, behind plan"
            tile = Tile(ana, PracticeControls(practice), 100)
            assert '<div class="sc-pod"' in tile.header.text
            assert "pod: rhythm held, in a rep, behind plan" in tile.header.text
    assert seen.seen == [("Ana", pacing), ("Ana", behind), ("Ana", NO_COACH)]  # changes only
    assert state.athletes["pod"].pod_coach == "" and practice.rows["pod"].pod_coach == NO_COACH
    lines = out.getvalue().splitlines()
    assert lines == ["00:01 Ana: pod: pacing", "00:03 Ana: pod: rhythm held, in a rep, behind plan"]
    assert view.events[-1] == lines[-1]


def test_the_pods_coach_in_coachs_words() -> None:
    from stridecue.words import pod_coach_line

    assert pod_coach_line(NO_COACH) == ""  # no coach, or a pod from before the byte
    assert pod_coach_line(PodCoach.ACTIVE | PodCoach.PLAN) == "pod: coach on, no rep"
    assert pod_coach_line(PodCoach.ACTIVE | PodCoach.PACER) == "pod: rhythm held"
    rep = PodCoach.ACTIVE | PodCoach.IN_REP | PodCoach.PLAN
    assert pod_coach_line(rep) == "pod: in a rep"
    assert pod_coach_line(rep | PodCoach.BEHIND) == "pod: in a rep, behind plan"
