# A crude foot-IMU motion for app-level tests (not for accuracy): stance with
# the foot still (1 g, no rotation), then a swing with a forward pitch
# rotation and fore-aft acceleration, and an impact at each contact.
# Units as the LSM6DSO32 model takes them: mg and mdps.
import asyncio
import math

from stridepod import rt


class Gait:
    def __init__(self, stride_ms=700, stance_ms=230):
        self.stride_ms = stride_ms
        self.stance_ms = stance_ms

    def at(self, t_ms):
        p = t_ms % self.stride_ms
        if p < self.stance_ms:
            imp = 6000 if p < 8 else 0
            return (0, 0, 1000 + imp, 0, 0, 0)
        f = (p - self.stance_ms) / (self.stride_ms - self.stance_ms)
        s = math.sin(math.pi * f)
        ax = int(4000 * math.sin(2 * math.pi * f))
        az = int(1000 + 1500 * s)
        gy = int(-600000 * s * math.cos(math.pi * f))
        return (ax, 0, az, 0, gy, 0)


async def feed_imu(chip, gait):
    # the chip samples while its ODR is set: push the samples due since it started
    t0 = None
    made = 0
    while True:
        hz = chip.acc_hz()
        if not hz:
            t0 = None
        else:
            now = rt.ticks_ms()
            if t0 is None:
                t0 = now
                made = 0
            due = rt.ticks_diff(now, t0) * hz // 1000
            while made < due:
                chip.produce(*gait.at(made * 1000 // hz))
                made += 1
        await asyncio.sleep_ms(5)
