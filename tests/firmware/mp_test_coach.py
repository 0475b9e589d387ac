# coach.py: the rhythm pacer, the split buzz and the last-200 m guard, stride by
# stride on integer strides (ms, mm); nothing allocated per stride (unix port).
from stridepod import proto
from stridepod.coach import (
    CUE_NONE,
    CUE_SHORT,
    CUE_SPLIT_BEHIND,
    CUE_SPLIT_ON,
    Coach,
    RhythmPacer,
    ShortGuard,
    SplitBuzz,
)


def _rep(stride_ms, length_mm, metres, fade_from_mm=0, fade_permille=0):
    # (t_ms, stride_ms, length_mm) strides of a rep from t=0, optionally fading
    out = []
    t = 0
    mm = 0
    while mm < metres * 1000:
        ln = length_mm
        if fade_from_mm and mm > fade_from_mm:
            ln = length_mm - length_mm * fade_permille * (mm - fade_from_mm) // (
                1000 * (metres * 1000 - fade_from_mm)
            )
        t += stride_ms
        mm += ln
        out.append((t, stride_ms, ln))
    return out


def test_pacer_ticks_until_matched_then_quiet_and_back():
    p = RhythmPacer(240, every_steps=4, match_strides=8, lose_strides=6)
    assert p.stride_ms == 500 and p.period_ms == 1000
    assert p.tick_due(0) and not p.tick_due(999) and p.tick_due(1000)
    for _ in range(7):
        assert p.on_stride(530)  # 6 % slow: still pacing
    n = 0
    while p.on_stride(505):
        n += 1
    assert n == 7  # the 8th matched stride ends the pacing
    assert not p.tick_due(5000)
    for _ in range(5):
        assert not p.on_stride(560)
    assert p.on_stride(560)  # the 6th off stride: back
    assert p.tick_due(9000)


def test_split_buzz_one_pulse_on_plan_two_behind():
    b = SplitBuzz(1000, (12000, 25000), tol_ms=200)
    cues = []
    for t, st, ln in _rep(480, 3840, 400):  # 8 m/s: 12.5 s per 100 m
        c = b.on_stride(t, st, ln)
        if c != CUE_NONE:
            cues.append((c, b.last_ms))
    assert [c for c, _ in cues] == [CUE_SPLIT_BEHIND, CUE_SPLIT_ON, CUE_SPLIT_ON, CUE_SPLIT_ON]
    assert cues[0][1] == 12500 and cues[3][1] == 50000


def test_split_buzz_with_scale_reaches_four_splits():
    short = [(t, st, ln * 98 // 100) for t, st, ln in _rep(480, 3840, 400)]
    plain = SplitBuzz(1000)
    scaled = SplitBuzz(1020)
    for t, st, ln in short:
        plain.on_stride(t, st, ln)
        scaled.on_stride(t, st, ln)
    assert plain.k == 3 and scaled.k == 4


def test_guard_fires_on_fade_after_200_m_not_on_even():
    fade = ShortGuard()
    first = None
    mm = 0
    for _, _, ln in _rep(480, 3840, 400, 250000, 80):
        mm += ln
        if fade.on_stride(mm, ln) == CUE_SHORT and first is None:
            first = mm
    assert first is not None and 250000 < first < 400000
    even = ShortGuard()
    mm = 0
    for _, _, ln in _rep(480, 3840, 400):
        mm += ln
        assert even.on_stride(mm, ln) == CUE_NONE


def test_coach_detects_the_rep_and_buzzes_splits():
    c = Coach(target_spm=250, plan_ms=(13000, 26000, 39000, 52000))
    cues = [c.on_stride(t, st, ln) for t, st, ln in _rep(480, 3840, 400)]
    assert c.running and cues.count(CUE_SPLIT_ON) == 4
    for k in range(4):
        c.on_stride(50000 + 800 * (k + 1), 800, 1600)  # jog: the rep ends
    assert not c.running
    assert not c.pacer.pacing  # 250 spm matched at 480 ms strides


def test_no_allocation_per_stride():
    try:
        import micropython
    except ImportError:
        return  # CPython: nothing to check
    strides = _rep(480, 3840, 400, 250000, 80)
    c = Coach(target_spm=250, plan_ms=(13000, 26000, 39000, 52000))
    on = c.on_stride
    tick = c.pacer.tick_due
    state = c.state
    micropython.heap_lock()
    try:
        for t, st, ln in strides:
            on(t, st, ln)
            tick(t)
            state()
    finally:
        micropython.heap_unlock()


def test_a_plan_makes_the_second_split_behind():
    # 12.5 s per 100 m run against 100 m in 12.6 s, 200 m in 24.5 s, 300 m in 37.6 s:
    # the first split on plan (one pulse), the second 0.5 s behind (two), the third on
    c = Coach(plan_ms=(12600, 24500, 37600))
    assert c.state() == proto.CS_ACTIVE | proto.CS_PLAN
    cues = []
    for t, st, ln in _rep(480, 3840, 400):
        cue = c.on_stride(t, st, ln)
        if cue != CUE_NONE:
            cues.append((cue, c.split.last_ms, c.state()))
    assert [q for q, _, _ in cues] == [CUE_SPLIT_ON, CUE_SPLIT_BEHIND, CUE_SPLIT_ON, CUE_SPLIT_ON]
    assert [ms for _, ms, _ in cues] == [12500, 25000, 37500, 50000]
    in_rep = proto.CS_ACTIVE | proto.CS_PLAN | proto.CS_REP
    assert [st for _, _, st in cues] == [in_rep, in_rep | proto.CS_BEHIND, in_rep, in_rep]


def test_the_state_tells_pacing_from_rhythm_held_and_a_rep():
    c = Coach(target_spm=171)  # 700 ms strides
    pacing = proto.CS_ACTIVE | proto.CS_PACER | proto.CS_PACING
    assert c.state() == pacing
    t = 0
    for _ in range(7):
        t += 700
        c.on_stride(t, 700, 2000)  # 2.9 m/s: matched, but no rep (under 3.2 m/s)
    assert c.state() == pacing
    t += 700
    c.on_stride(t, 700, 2000)  # the 8th matched stride: quiet, rhythm held
    assert c.state() == proto.CS_ACTIVE | proto.CS_PACER
    for _ in range(3):
        t += 700
        c.on_stride(t, 700, 2500)  # 3.6 m/s: three strides start a rep
    assert c.state() == proto.CS_ACTIVE | proto.CS_PACER | proto.CS_REP
    for _ in range(6):
        t += 800
        c.on_stride(t, 800, 2000)  # slower: the rep ends, 6 strides off: pacing again
    assert c.state() == pacing
    assert Coach(plan_ms=(), splits=False).state() == proto.CS_ACTIVE


def test_the_coach_does_not_judge_what_the_engine_cannot_trust():
    from stridepod import coach

    # the coach's own copies of the engine's flags match proto's
    doubt = proto.F_LOW_QUALITY | proto.F_GAP | proto.F_TURN
    assert doubt == coach.LENGTH_DOUBT
    assert coach.TIME_DOUBT == proto.F_GAP | proto.F_FIRST
    strides = _rep(480, 3840, 400)
    for flag in (proto.F_LOW_QUALITY, proto.F_GAP, proto.F_TURN):
        c = Coach()
        cues = []
        for i, (t, st, ln) in enumerate(strides):
            if 60 <= i < 64:  # past 200 m: four strides that read 20 % short
                cues.append(c.on_stride(t, st, ln * 8 // 10, flag))
            else:
                cues.append(c.on_stride(t, st, ln, 0))
        assert CUE_SHORT not in cues, flag
        # they still cover ground: the rep reaches its 400 m
        assert c.split.mm >= 400000
    c = Coach()  # the same four strides trusted: the guard cues
    cues = [c.on_stride(t, st, ln * 8 // 10 if 60 <= i < 64 else ln) for i, (t, st, ln) in
            enumerate(strides)]  # fmt: skip
    assert CUE_SHORT in cues
    # a GAP stride's time does not move the pacer (it would count as off the target)
    c = Coach(target_spm=250)
    for t, st, ln in strides[:20]:
        c.on_stride(t, st, ln)
    assert not c.pacer.pacing
    for k in range(8):
        c.on_stride(20000 + 700 * k, 700, 3840, proto.F_GAP)
    assert not c.pacer.pacing
