# Battery level from the ADC on a resistor divider (boards.py: bat_adc,
# bat_divider, adc_full_scale_mv). A single-cell LiPo at rest: piecewise
# linear from 3.30 V (0 %) to 4.20 V (100 %). Averaged over a few readings.
_CURVE = (
    (3300, 0),
    (3600, 10),
    (3700, 30),
    (3800, 55),
    (3900, 70),
    (4000, 82),
    (4100, 92),
    (4200, 100),
)


def percent(mv):
    if mv <= _CURVE[0][0]:
        return 0
    for i in range(1, len(_CURVE)):
        v1, p1 = _CURVE[i]
        if mv <= v1:
            v0, p0 = _CURVE[i - 1]
            return p0 + (p1 - p0) * (mv - v0) // (v1 - v0)
    return 100


class Battery:
    def __init__(self, adc, divider, full_scale_mv):
        self.adc = adc
        self.divider = divider
        self.full_scale_mv = full_scale_mv

    def mv(self):
        t = 0
        for _ in range(8):
            if hasattr(self.adc, "read_uv"):
                t += self.adc.read_uv() // 1000
            else:
                t += self.adc.read_u16() * self.full_scale_mv // 65535
        return t // 8 * self.divider

    def __call__(self):
        # -> percent 0..100, or 255 when the reading makes no sense (no battery)
        try:
            mv = self.mv()
        except OSError:
            return 255
        if mv < 2500 or mv > 4500:
            return 255
        return percent(mv)
