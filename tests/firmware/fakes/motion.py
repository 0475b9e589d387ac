# A crude foot-IMU motion for app-level tests (not for accuracy): stance with
# the foot still (1 g, no rotation), then a swing with a forward pitch
# rotation and fore-aft acceleration, and an impact at each contact.
# Units as the LSM6DSO32 model takes them: mg and mdps.
import math


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


class Still:
    # a foot at rest (a shoe standing, a pod on a table): 1 g down, no rotation
    def at(self, t_ms):
        return (0, 0, 1000, 0, 0, 0)


class Shake:
    # a pod shaken in a bag: the wake-up function fires, no stride ever completes
    def at(self, t_ms):
        return (2000 if t_ms // 40 % 2 else -2000, 0, 1000, 0, 0, 0)
