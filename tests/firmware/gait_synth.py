# Synthetic foot-IMU strides for the gait engine tests (MicroPython and CPython).
# A foot that stands, then repeats: swing (forward by length_m, lifted, pitching
# with zero rotation rate at both ends) and stance. The sensor is mounted with
# an arbitrary fixed rotation. Yields integer samples as the engine takes them:
# (t_ms, ax, ay, az in mg, gx, gy, gz in 0.1 deg/s).
import math

G = 9.80665


def _rot(axis, a):
    c = math.cos(a)
    s = math.sin(a)
    if axis == 0:
        return ((1, 0, 0), (0, c, -s), (0, s, c))
    if axis == 1:
        return ((c, 0, s), (0, 1, 0), (-s, 0, c))
    return ((c, -s, 0), (s, c, 0), (0, 0, 1))


def _mm(a, b):
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )


def _mv(a, v):
    return tuple(sum(a[i][k] * v[k] for k in range(3)) for i in range(3))


def _tmv(a, v):
    return tuple(sum(a[k][i] * v[k] for k in range(3)) for i in range(3))


def mount(rx, ry, rz):
    # foot frame -> sensor frame
    return _mm(_rot(0, rx), _mm(_rot(1, ry), _rot(2, rz)))


def strides(
    n=6,
    length_m=1.5,
    swing_s=0.5,
    stance_s=0.3,
    rate_hz=200,
    pitch_rad=1.0,
    lift_m=0.1,
    rest_s=1.0,
    mnt=None,
    gyro_clip_dps=0,
):
    # a generator: a list of 10,000 tuples would not fit a small heap
    m = mnt or mount(0.3, 0.5, 1.0)
    k = 0
    phases = [(False, rest_s)]
    for _ in range(n):
        phases.append((True, swing_s))
        phases.append((False, stance_s))
    phases.append((False, rest_s))
    for moving, dur in phases:
        count = int(dur * rate_hz + 0.5)
        for i in range(count):
            u = i / rate_hz if moving else None
            fs, gs = sample(u, swing_s, length_m, lift_m, pitch_rad, m)
            gy = [round(math.degrees(v) * 10) for v in gs]
            if gyro_clip_dps:
                c = gyro_clip_dps * 10
                gy = [c if v > c else -c if v < -c else v for v in gy]
            yield (
                (k * 1000) // rate_hz,
                round(fs[0] / G * 1000),
                round(fs[1] / G * 1000),
                round(fs[2] / G * 1000),
                gy[0],
                gy[1],
                gy[2],
            )
            k += 1


def sample(u, swing_s, length_m, lift_m, pitch_rad, m):
    # the sensor's specific force (m/s^2) and rate (rad/s), u s into a swing
    # (None: the foot stands)
    if u is None:
        ax = az = th = thd = 0.0
    else:
        w = 2 * math.pi / swing_s
        # x(u) = L (u/T - sin(w u) / 2pi): zero speed at both ends
        ax = length_m / swing_s * w * math.sin(w * u)
        az = lift_m * 2 * (math.pi / swing_s) ** 2 * math.cos(w * u)
        s2 = math.sin(math.pi * u / swing_s) ** 2
        th = pitch_rad * math.sin(w * u) * s2
        thd = pitch_rad * (
            w * math.cos(w * u) * s2 + math.sin(w * u) * math.sin(w * u) * math.pi / swing_s
        )
    r = _rot(1, th)  # foot -> navigation
    f = _tmv(r, (ax, 0.0, az + G))
    return _mv(m, f), _mv(m, (0.0, thd, 0.0))


def run(eng, samples):
    res = []
    for s in samples:
        if eng.push(s[0], s[1], s[2], s[3], s[4], s[5], s[6]):
            res.append((eng.t_contact_ms, eng.stride_ms, eng.contact_ms, eng.length_mm, eng.flags))
    return res
