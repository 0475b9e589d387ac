# Foot-IMU motions for app-level tests, in the units the LSM6DSO32 model takes
# (mg, mdps): a runner's foot (gait_synth.py's swing and stance, physically
# consistent, so the gait engine measures good strides), a foot at rest, a pod
# shaken in a bag.
import asyncio
import math

from gait_synth import G, mount, sample
from stridepod import rt


class Gait:
    # 700 ms strides: 230 ms stance, then a 470 ms swing 1.6 m forward
    def __init__(self, stride_ms=700, stance_ms=230, length_m=1.6):
        self.stride_ms = stride_ms
        self.stance_ms = stance_ms
        self.length_m = length_m
        self.mnt = mount(0.3, 0.5, 1.0)  # laced on at some angle

    def at(self, t_ms):
        p = t_ms % self.stride_ms
        return self._sensed((p - self.stance_ms) / 1000 if p >= self.stance_ms else None)

    def _sensed(self, u):
        # what the sensor reads u s into a swing (None: the foot stands)
        swing_s = (self.stride_ms - self.stance_ms) / 1000
        f, g = sample(u, swing_s, self.length_m, 0.1, 1.0, self.mnt)
        return (
            round(f[0] / G * 1000),
            round(f[1] / G * 1000),
            round(f[2] / G * 1000),
            round(math.degrees(g[0]) * 1000),
            round(math.degrees(g[1]) * 1000),
            round(math.degrees(g[2]) * 1000),
        )


class Still(Gait):
    # the same foot at rest (a shoe standing): gravity only, no rotation
    def at(self, t_ms):
        return self._sensed(None)


class Shake:
    # a pod shaken in a bag: the wake-up function fires, no stride ever completes
    def at(self, t_ms):
        return (2000 if t_ms // 40 % 2 else -2000, 0, 1000, 0, 0, 0)


class ChipClock:
    # the chip samples while its ODR is set, at the rate it really runs at
    # (acc_mhz: its clock's trim); a new rate (the idle watch, a session) starts
    # the count again. Integer work only: elapsed ms x mHz, a sample per 10**6
    def __init__(self):
        self.mhz = 0
        self.t0 = None
        self.acc = self.t_us = self.step_us = 0

    def produce_due(self, chip, now, at):
        # push the samples due by `now` (ms), each what at(t_ms) says the foot does
        if chip.acc_mhz() != self.mhz:
            self.mhz = chip.acc_mhz()
            self.t0 = None
        if not self.mhz:
            return
        if self.t0 is None:
            self.t0 = now
            self.acc = self.t_us = 0
            self.step_us = 1000000000 // self.mhz
        self.acc += rt.ticks_diff(now, self.t0) * self.mhz
        self.t0 = now
        while self.acc >= 1000000:
            self.acc -= 1000000
            chip.produce(*at(self.t_us // 1000))
            self.t_us += self.step_us


async def feed_imu(chip, gait):
    clock = ChipClock()
    while True:
        clock.produce_due(chip, rt.ticks_ms(), gait.at)
        await asyncio.sleep_ms(5)
