# ERM coin motor on a PWM pin (through a MOSFET): the named cue patterns of
# docs/protocol.md, played without blocking. play() only records what to do;
# step(now_ms) sets the duty and says when it next needs to run, so the
# asyncio task (run) or any loop can drive it. Nothing is allocated per step.
#
# Patterns (proto.PAT_*) are (on_ms, off_ms) pulses, repeated `repeat` times
# with a gap:
#   1 RHYTHM   three short pulses      3 x (80 on, 80 off)
#   2 STRIDE   one long pulse          400 on
#   3 IDENTIFY two pulses              2 x (150 on, 150 off)
#   4 PULSE    one pulse of duration_ms (20..2000)
# A nonzero duration_ms on patterns 1-3 sets the on-time of each pulse.
# The motor's total on-time per cue is capped at MAX_ON_MS (motor and battery).
from stridepod.proto import PAT_PULSE, PAT_RHYTHM
from stridepod.rt import ticks_add, ticks_diff

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


MAX_ON_MS = const(2000)
_GAP_MS = const(250)  # between repeats
_SPIN_DOWN_MS = const(60)  # an ERM keeps shaking the case this long after its duty is 0
_DUTY_MAX = const(65535)

# per pattern id (PAT_RHYTHM .. PAT_PULSE): pulses, on_ms, off_ms
_PULSES = (0, 3, 1, 2, 1)
_ON = (0, 80, 400, 150, 0)
_OFF = (0, 80, 0, 150, 0)


class Haptics:
    def __init__(self, pwm, clock_ms, min_duty=26000, max_duty=_DUTY_MAX):
        # min_duty: the lowest duty that still spins the motor (intensity 1 %)
        if not 0 <= min_duty <= max_duty <= _DUTY_MAX:
            raise ValueError("haptics: need 0 <= min_duty <= max_duty <= 65535")
        self.pwm = pwm
        self.clock_ms = clock_ms
        self.min_duty = min_duty
        self.max_duty = max_duty
        self.played = 0
        self._pulses = 0  # pulses left, current one included
        self._on = 0
        self._off = 0
        self._per_rep = 0
        self._duty = 0
        self._t = 0  # when the current phase ends
        self._is_on = False
        self._on_used = 0
        self._phase_on = 0
        self._ran = False  # the motor ran since ran_since_last() was asked
        self._off_at = 0  # device ms the motor last stopped
        self.wake = None  # optional () -> None, called by play() (asyncio flag)
        self._set(0)

    def _set(self, duty):
        self.pwm.duty_u16(duty)

    def duty_for(self, intensity_pct):
        if intensity_pct <= 0:
            return 0
        span = self.max_duty - self.min_duty
        return self.min_duty + span * intensity_pct // 100

    def play(self, pattern, intensity_pct, repeat, duration_ms):
        # -> False (nothing changes) when the cue is out of range
        if pattern < PAT_RHYTHM or pattern > PAT_PULSE or not 0 <= intensity_pct <= 100:
            return False
        if repeat < 1 or repeat > 10:
            return False
        if duration_ms and not 20 <= duration_ms <= MAX_ON_MS:
            return False
        if pattern == PAT_PULSE and not duration_ms:
            return False
        self._per_rep = _PULSES[pattern]
        self._pulses = self._per_rep * repeat
        self._on = duration_ms or _ON[pattern]
        self._off = _OFF[pattern]
        self._duty = self.duty_for(intensity_pct)
        self._on_used = 0
        self.played += 1
        self._start_pulse(self.clock_ms())
        if self.wake:
            self.wake()
        return True

    def stop(self):
        self._pulses = 0
        if self._is_on:
            self._off_at = self.clock_ms()
        self._is_on = False
        self._set(0)

    def ran_since_last(self, now):
        # -> True when the motor ran (or was still spinning down) since the last
        # call: the IMU shares the case, so those samples carry its vibration
        # (a negative difference is a stop so old that the ms ticks wrapped)
        ran = self._ran
        self._ran = self._is_on or 0 <= ticks_diff(now, self._off_at) < _SPIN_DOWN_MS
        return ran

    def busy(self):
        return self._pulses > 0

    def _start_pulse(self, now):
        on = min(self._on, MAX_ON_MS - self._on_used)
        if on <= 0 or self._duty == 0:
            self.stop()
            return
        self._is_on = True
        self._ran = True
        self._phase_on = on
        self._t = ticks_add(now, on)
        self._set(self._duty)

    def step(self, now):
        # advance the pattern; -> ms until the next change, or -1 when idle
        if self._pulses <= 0:
            return -1
        left = ticks_diff(self._t, now)
        if left > 0:
            return left
        if self._is_on:
            self._is_on = False
            self._off_at = now
            self._on_used += self._phase_on
            self._set(0)
            self._pulses -= 1
            if self._pulses <= 0:
                return -1
            gap = self._off
            if self._per_rep and self._pulses % self._per_rep == 0:
                gap = max(gap, _GAP_MS)
            self._t = ticks_add(now, gap)
            return gap
        self._start_pulse(now)
        return ticks_diff(self._t, now) if self._pulses > 0 else -1

    async def run(self, flag):
        # asyncio task; flag is an rt.Flag, set through self.wake by play()
        from stridepod import rt

        self.wake = flag.set
        while True:
            wait = self.step(self.clock_ms())
            if wait < 0:
                await flag.wait()
            else:
                await rt.wait_flag(flag, wait)
