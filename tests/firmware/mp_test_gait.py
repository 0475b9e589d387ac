# Gait engine unit tests on synthetic strides (MicroPython unix port and CPython).
import math

import gait_synth as syn
from stridepod.gait import GaitEngine, isqrt
from stridepod.proto import F_ACC_SAT, F_FIRST, F_GAP, F_GYR_SAT, F_LOW_QUALITY


def _lengths(res):
    return [r[3] for r in res]


def _close(value, want, rel):
    assert abs(value - want) <= rel * want, (value, want)


def test_isqrt():
    for n in (0, 1, 2, 3, 4, 15, 16, 17, 99980001, (1 << 29) + 12345):
        r = isqrt(n)
        assert r * r <= n < (r + 1) * (r + 1), n


def test_strides_length_time_and_first_flag():
    res = syn.run(GaitEngine(200, 16, 2000), syn.strides(n=6, length_m=1.5))
    assert len(res) == 6, res
    for _t, stride_ms, _c, length_mm, flags in res[1:]:
        assert abs(stride_ms - 800) <= 10, stride_ms
        _close(length_mm, 1500, 0.02)
        assert not flags & (F_FIRST | F_GAP | F_GYR_SAT | F_LOW_QUALITY), flags
    assert res[0][4] & F_FIRST
    # stamped at the contact that ends the stride: contact to contact
    assert [r[0] for r in res[1:]] == [res[i][0] + res[i + 1][1] for i in range(5)]


def test_any_mounting_and_rate():
    for mnt, rate in ((syn.mount(math.pi, 0.2, 0.0), 200), (syn.mount(-1.2, 0.0, 2.5), 416)):
        res = syn.run(GaitEngine(rate, 16, 2000), syn.strides(n=4, rate_hz=rate, mnt=mnt))
        assert len(res) == 4, res
        for r in res[1:]:
            _close(r[3], 1500, 0.02)


def test_running_and_walking_shapes():
    run = syn.strides(n=4, length_m=3.0, swing_s=0.4, stance_s=0.15)
    res = syn.run(GaitEngine(200, 16, 2000), run)
    assert len(res) == 4 and all(abs(r[1] - 550) <= 10 for r in res[1:]), res
    for r in res[1:]:
        _close(r[3], 3000, 0.02)
    walk = syn.strides(n=4, length_m=0.8, swing_s=0.45, stance_s=0.6, pitch_rad=0.6)
    res = syn.run(GaitEngine(200, 16, 2000), walk)
    assert len(res) == 4, res
    for r in res[1:]:
        _close(r[3], 800, 0.03)


def test_standing_still_invents_no_stride():
    eng = GaitEngine(200, 16, 2000)
    seed = 12345
    for k in range(200 * 30):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        n = (seed >> 8) % 41 - 20  # +-20 mg / +-2 dps of noise
        assert not eng.push(k * 5, 20 + n, -30 - n, -1000 + n, n, -n, n >> 1)


def _edit(samples, drop, dup):
    # drop the sample indices in `drop`, send those in `dup` twice
    for i, s in enumerate(samples):
        if i in drop:
            continue
        yield s
        if i in dup:
            yield s


def test_dropped_and_duplicated_samples():
    # drop 3 samples in the third swing, duplicate one in the fifth
    cut = 200 + 2 * 160 + 40
    dup = 200 + 4 * 160 + 30
    samples = _edit(syn.strides(n=6), (cut, cut + 1, cut + 2), (dup,))
    res = syn.run(GaitEngine(200, 16, 2000), samples)
    assert len(res) == 6, res
    assert sum(1 for r in res if r[4] & F_GAP) >= 1
    for r in res[1:]:
        _close(r[3], 1500, 0.05)


def test_long_gap_restarts_cleanly():
    # the pod loses 5 s of samples in the middle of a swing
    samples = _gap(syn.strides(n=8), 800, 880, 5000)
    res = syn.run(GaitEngine(200, 16, 2000), samples)
    assert len(res) >= 4, res
    for r in res:
        assert r[1] < 1500 or r[4] & F_FIRST, r  # no stride spans the gap unflagged
    assert any(r[4] & F_GAP for r in res), res


def _gap(samples, a, b, dt_ms):
    for i, s in enumerate(samples):
        if i < a:
            yield s
        elif i >= b:
            yield (s[0] + dt_ms, s[1], s[2], s[3], s[4], s[5], s[6])


def test_clipped_gyro_is_flagged_and_bridged():
    kw = {"length_m": 2.5, "pitch_rad": 1.5, "swing_s": 0.4, "n": 4}
    clipped = list(syn.strides(gyro_clip_dps=700, **kw))
    bridged = syn.run(GaitEngine(200, 16, 700), clipped)
    raw = syn.run(GaitEngine(200, 16, 2000), clipped)
    assert len(bridged) == 4 and all(r[4] & F_GYR_SAT for r in bridged[1:]), bridged
    for i in range(1, 4):
        b = bridged[i]
        r = raw[i]
        assert abs(b[3] - 2500) < abs(r[3] - 2500), (b, r)
        _close(b[3], 2500, 0.03)


def _acc_clipped(samples, acc_g):
    lim = acc_g * 1000
    for s in samples:
        a = [lim if v > lim else -lim if v < -lim else v for v in s[1:4]]
        yield (s[0], a[0], a[1], a[2], s[4], s[5], s[6])


def test_clipped_landing_carries_the_velocity_error():
    # a 3 g range clips the swing's push and its braking before the landing; the
    # foot ends the stride "still moving" by the lost braking, which the engine
    # places on the landing's clipped samples. Spread linearly over the whole
    # stride (the engine before issue #19's tenth pass) these strides read 1.13 m.
    kw = {"length_m": 1.5, "swing_s": 0.4, "n": 6}
    free = syn.run(GaitEngine(200, 16, 2000), syn.strides(**kw))
    clipped = syn.run(GaitEngine(200, 3, 2000), _acc_clipped(syn.strides(**kw), 3))
    assert len(clipped) == 6 and all(r[4] & F_ACC_SAT for r in clipped), clipped
    for i in range(1, 6):
        _close(clipped[i][3], free[i][3], 0.10)


def test_rejects_bad_configuration():
    for args in ((10, 16, 2000), (200, 1, 2000), (200, 16, 50)):
        try:
            GaitEngine(*args)
        except ValueError:
            continue
        raise AssertionError(args)


def _wrapped(samples, start):
    # device time like time.ticks_ms(): modulo 2**30, starting near the wrap
    for s in samples:
        yield ((s[0] + start) & 0x3FFFFFFF, s[1], s[2], s[3], s[4], s[5], s[6])


def test_ticks_ms_wrap_is_seamless():
    plain = syn.run(GaitEngine(200, 16, 2000), syn.strides(n=6))
    start = (1 << 30) - 2500  # wraps during the second stride
    wrapped = syn.run(GaitEngine(200, 16, 2000), _wrapped(syn.strides(n=6), start))
    assert len(wrapped) == len(plain) == 6, wrapped
    for i in range(6):
        a = plain[i]
        b = wrapped[i]
        assert b[0] == (a[0] + start) & 0x3FFFFFFF
        assert a[1:] == b[1:], (a, b)
