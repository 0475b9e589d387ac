# haptics.py: patterns timed by step(), intensity scaling, max on-time, range
# checks, and a PWM that rejects a duty out of range.
from fakes.hw import PWM, Clock, Pin
from stridepod.haptics import MAX_ON_MS, Haptics


def _run(h, clock, until_ms):
    # step the pattern on a 1 ms grid, return the on-intervals [(t_on, t_off)]
    on = []
    t0 = None
    while clock.t < until_ms:
        h.step(clock.t)
        d = h.pwm.duty_u16()
        if d and t0 is None:
            t0 = clock.t
        if not d and t0 is not None:
            on.append((t0, clock.t))
            t0 = None
        clock.advance(1)
    return on


def _setup():
    clock = Clock(0)
    pwm = PWM(Pin(7), freq=20000)
    return Haptics(pwm, clock), clock, pwm


def test_rhythm_is_three_short_pulses():
    h, clock, _pwm = _setup()
    assert h.play(1, 100, 1, 0)
    on = _run(h, clock, 1000)
    assert on == [(0, 80), (160, 240), (320, 400)]
    assert not h.busy()


def test_stride_identify_and_repeat_gap():
    h, clock, _ = _setup()
    h.play(2, 100, 2, 0)
    assert _run(h, clock, 2000) == [(0, 400), (650, 1050)]
    h2, c2, _ = _setup()
    h2.play(3, 100, 1, 0)
    assert _run(h2, c2, 1000) == [(0, 150), (300, 450)]


def test_intensity_scales_duty():
    h, _, pwm = _setup()
    h.play(4, 100, 1, 100)
    full = pwm.duty_u16()
    h.play(4, 50, 1, 100)
    half = pwm.duty_u16()
    h.play(4, 1, 1, 100)
    low = pwm.duty_u16()
    assert full == 65535 and low >= h.min_duty and low < half < full
    h.play(4, 0, 1, 100)
    assert pwm.duty_u16() == 0 and not h.busy()


def test_total_on_time_is_capped():
    h, clock, _ = _setup()
    assert h.play(2, 100, 10, 1500)  # 10 x 1.5 s asked
    on = _run(h, clock, 20000)
    assert sum(b - a for a, b in on) == MAX_ON_MS


def test_new_cue_replaces_and_bad_cues_change_nothing():
    h, clock, pwm = _setup()
    h.play(2, 100, 1, 0)
    clock.advance(100)
    h.step(clock.t)
    for args in ((0, 50, 1, 0), (5, 50, 1, 0), (1, 101, 1, 0), (1, 50, 11, 0), (4, 50, 1, 19)):
        assert not h.play(*args)
    assert pwm.duty_u16() > 0 and h.busy()  # the long pulse goes on
    h.play(4, 100, 1, 30)
    assert _run(h, clock, 400) == [(100, 130)]


def test_pwm_rejects_out_of_range_duty():
    pwm = PWM(Pin(7))
    for bad in (-1, 65536):
        try:
            pwm.duty_u16(bad)
        except ValueError:
            continue
        raise AssertionError("duty %d accepted" % bad)
    try:
        Haptics(pwm, Clock(), min_duty=70000)
    except ValueError as e:
        assert "min_duty" in str(e)
    else:
        raise AssertionError("min_duty out of range accepted")


def test_step_allocates_nothing():
    import sys

    if sys.implementation.name != "micropython":
        return
    import micropython

    h, _clock, _ = _setup()
    h.pwm.log = None  # the fake's log would allocate
    h.pwm.duty_u16 = lambda d=None: None
    h.play(1, 100, 3, 0)
    micropython.heap_lock()
    try:
        for t in range(0, 2000, 5):
            h.step(t)
    finally:
        micropython.heap_unlock()
