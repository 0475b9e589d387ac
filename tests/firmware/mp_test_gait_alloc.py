# The gait engine allocates nothing per sample, strides included (unix port):
# >= 10,000 samples pushed with the heap locked.
import array

import gait_synth as syn
import micropython
from stridepod.gait import GaitEngine

INTERPRETERS = ("micropython",)


def test_no_allocation_over_10000_samples():
    _locked_run(200 + 16 * 160 + 200, length_m=1.5)  # rest, 16 strides, rest


def test_no_allocation_when_landings_wait_for_confirmation():
    # gentle steps: no impact before the landings, so each waits for stillness
    _locked_run(200 + 16 * 200 + 200, length_m=0.6, swing_s=0.7, pitch_rad=2.5)


def test_no_allocation_when_the_accelerometer_clips():
    # a 3 g range clips the swing's push and its landing: the stride's velocity
    # error is then placed on the landing's clipped samples (the other branch of
    # _stride_end; with these strides it is taken at every stride under CPython)
    _locked_run(200 + 16 * 140 + 200, acc_g=3, length_m=1.5, swing_s=0.4)


def _locked_run(n, acc_g=16, **kw):
    reps = 10000 // n + 1
    buf = array.array("i", [0] * (7 * n))
    last = 0
    i = -1
    lim = acc_g * 1000  # the sensor saturates at its range
    for i, s in enumerate(syn.strides(n=16, **kw)):
        for k in range(7):
            v = s[k]
            if 1 <= k <= 3:
                v = lim if v > lim else -lim if v < -lim else v
            buf[7 * i + k] = v
        last = s[0]
    assert i == n - 1, i
    eng = GaitEngine(200, acc_g, 2000)
    push = eng.push
    period = last + 5
    count = 0
    strides = 0
    micropython.heap_lock()
    try:
        for r in range(reps):
            off = r * period
            i = 0
            while i < n:
                b = 7 * i
                if push(
                    buf[b] + off,
                    buf[b + 1],
                    buf[b + 2],
                    buf[b + 3],
                    buf[b + 4],
                    buf[b + 5],
                    buf[b + 6],
                ):
                    strides += 1
                i += 1
                count += 1
        locked = False
        try:
            bytearray(16)  # the lock is real: any allocation fails here
        except MemoryError:
            locked = True
    finally:
        micropython.heap_unlock()
    assert locked
    assert count >= 10000, count
    assert strides >= 16 * reps - 1, strides
