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


async def feed_imu(chip, gait):
    # the chip samples while its ODR is set: push the samples due since it started (a
    # new rate, the idle watch or a session, starts the count again)
    t0 = None
    hz = acc = t_us = step_us = 0
    while True:
        if chip.acc_mhz() != hz:
            hz = chip.acc_mhz()  # mHz: as fast as the part really samples
            t0 = None
        if hz:
            now = rt.ticks_ms()
            if t0 is None:
                t0 = now
                acc = t_us = 0
                step_us = 1000000000 // hz
            # elapsed ms x mHz: a sample per 10**6 (small ints: integer work only)
            acc += rt.ticks_diff(now, t0) * hz
            t0 = now
            while acc >= 1000000:
                acc -= 1000000
                chip.produce(*gait.at(t_us // 1000))
                t_us += step_us
        await asyncio.sleep_ms(5)
