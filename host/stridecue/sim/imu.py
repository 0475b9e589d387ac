"""What a 6-axis IMU laced on the shoe reads while the foot moves.

Specific force (kinematic acceleration minus gravity, so +1 g up at rest) and
angular rate, rotated into the sensor frame of a chosen mounting, then the sensor's
imperfections: bias, scale error, white noise, 16-bit quantisation, saturation
at the full-scale range, sample-time jitter, clock drift, dropped and duplicated
samples. Defaults follow an LSM6DSO32 at ±32 g / ±2000 dps, 416 Hz.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from stridecue.errors import ConfigError
from stridecue.sim.foot import GRAVITY, Bout, FootModel, FootPlan, Motion, rot_zyx
from stridecue.sim.quintic import F64

# field -> (low, high) allowed, inclusive
IMU_LIMITS: dict[str, tuple[float, float]] = {
    "rate_hz": (50.0, 3400.0),
    "acc_range_g": (2.0, 64.0),
    "gyro_range_dps": (125.0, 5000.0),
    "acc_noise_mps2": (0.0, 5.0),
    "gyro_noise_rps": (0.0, 1.0),
    "acc_bias_mps2": (0.0, 5.0),
    "gyro_bias_rps": (0.0, 1.0),
    "scale_error": (0.0, 0.2),
    "jitter_s": (0.0, 0.01),
    "clock_ppm": (-1000.0, 1000.0),
    "drop_prob": (0.0, 0.2),
    "dup_prob": (0.0, 0.2),
    "mount_roll_deg": (-180.0, 180.0),
    "mount_pitch_deg": (-90.0, 90.0),
    "mount_yaw_deg": (-180.0, 180.0),
    "bandwidth_hz": (0.0, 1000.0),
}


@dataclass(frozen=True, slots=True)
class ImuConfig:
    """Sensor, mounting and sampling; every field is range-checked (IMU_LIMITS)."""

    rate_hz: float = 416.0
    acc_range_g: float = 32.0
    gyro_range_dps: float = 2000.0
    acc_noise_mps2: float = 0.03  # white noise std per sample
    gyro_noise_rps: float = 0.004
    acc_bias_mps2: float = 0.1  # std of the constant bias drawn per axis
    gyro_bias_rps: float = 0.01
    scale_error: float = 0.005  # std of the per-axis scale factor error
    jitter_s: float = 0.0  # std of the timestamp error
    clock_ppm: float = 0.0  # sensor clock error: its 1 s lasts (1 + ppm 1e-6) s
    drop_prob: float = 0.0  # per sample: lost (a gap in the stream)
    dup_prob: float = 0.0  # per sample: delivered twice
    mount_roll_deg: float = 0.0  # sensor frame relative to the foot frame (ZYX)
    mount_pitch_deg: float = -20.0  # the instep slopes up toward the ankle
    mount_yaw_deg: float = 0.0
    quantize: bool = True  # 16-bit output at the full-scale range
    bandwidth_hz: float = 0.0  # sensor's digital low-pass (2nd order), 0 = none

    def __post_init__(self) -> None:
        for name, (lo, hi) in IMU_LIMITS.items():
            value = float(getattr(self, name))
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ConfigError(f"{name}={value!r} is out of range: allowed {lo}..{hi}")

    @property
    def acc_full_scale(self) -> float:
        return self.acc_range_g * GRAVITY

    @property
    def gyro_full_scale(self) -> float:
        return math.radians(self.gyro_range_dps)

    @classmethod
    def ideal(cls, rate_hz: float = 416.0) -> ImuConfig:
        """No noise, bias, scale error or quantisation; ranges wide enough for a sprint."""
        return cls(
            rate_hz=rate_hz,
            acc_range_g=64.0,
            gyro_range_dps=5000.0,
            acc_noise_mps2=0.0,
            gyro_noise_rps=0.0,
            acc_bias_mps2=0.0,
            gyro_bias_rps=0.0,
            scale_error=0.0,
            quantize=False,
        )


@dataclass(frozen=True, slots=True)
class SimStride:
    """Exact truth of one stride as the pod reports it: at the contact that ends it."""

    index: int
    t_contact_s: float  # the contact that ends this stride
    stride_time_s: float
    contact_time_s: float  # of the stance that ends this stride
    stride_length_m: float
    speed_mps: float
    first: bool  # from a standing start: its first contact is not a landing
    acc_saturated: bool
    gyro_saturated: bool


@dataclass(frozen=True, slots=True)
class Recording:
    """Samples as the pod's IMU delivered them, and the truth behind them."""

    t: F64  # s, sensor timestamps (with jitter, drift, gaps, duplicates)
    acc: F64  # (n, 3) m/s^2 specific force, sensor frame
    gyr: F64  # (n, 3) rad/s, sensor frame
    strides: tuple[SimStride, ...]
    config: ImuConfig
    motion: Motion = field(repr=False)  # exact kinematics at the true sample times
    acc_clean: F64 = field(repr=False)  # before sensor errors, at the true sample times
    gyr_clean: F64 = field(repr=False)


def mount_rotation(cfg: ImuConfig) -> F64:
    """Sensor-to-foot rotation (3, 3)."""
    r = rot_zyx(
        np.array([math.radians(cfg.mount_yaw_deg)]),
        np.array([math.radians(cfg.mount_pitch_deg)]),
        np.array([math.radians(cfg.mount_roll_deg)]),
    )
    out: F64 = r[0]
    return out


def ideal_signals(motion: Motion, mount: F64) -> tuple[F64, F64]:
    """Exact specific force and angular rate in the sensor frame."""
    r_ws = motion.rotation() @ mount  # sensor -> world
    f_world = motion.acc + np.array([0.0, 0.0, GRAVITY])
    acc = np.einsum("nji,nj->ni", r_ws, f_world)
    gyr = motion.rate_body @ mount  # mount^T applied to each row
    return acc, gyr


_OVERSAMPLE = 8


def _band_limited(plan: FootPlan, t: F64, cfg: ImuConfig) -> tuple[Motion, F64, F64]:
    """Signals through the sensor's own low-pass: simulated 8x faster, filtered, decimated."""
    from scipy.signal import butter, lfilter  # the sensor's filter is causal

    step = (t[1] - t[0]) / _OVERSAMPLE if t.size > 1 else 1.0 / cfg.rate_hz
    fine = t[0] + np.arange(t.size * _OVERSAMPLE) * step
    motion = plan.motion(fine)
    acc, gyr = ideal_signals(motion, mount_rotation(cfg))
    nyquist = 0.5 / step
    b, a = butter(2, min(cfg.bandwidth_hz / nyquist, 0.99))
    # start the filter settled on the first sample (the pod was at rest)
    zi = _lfilter_zi(b, a)
    acc = np.stack([lfilter(b, a, acc[:, i], zi=zi * acc[0, i])[0] for i in range(3)], axis=1)
    gyr = np.stack([lfilter(b, a, gyr[:, i], zi=zi * gyr[0, i])[0] for i in range(3)], axis=1)
    k = slice(0, None, _OVERSAMPLE)
    coarse = Motion(
        motion.t[k],
        motion.pos[k],
        motion.vel[k],
        motion.acc[k],
        motion.yaw[k],
        motion.pitch[k],
        motion.roll[k],
        motion.rate_body[k],
    )
    return coarse, acc[k], gyr[k]


def _lfilter_zi(b: F64, a: F64) -> F64:
    from scipy.signal import lfilter_zi

    out: F64 = lfilter_zi(b, a)
    return out


def _quantize(x: F64, full_scale: float) -> F64:
    lsb = full_scale / 32768.0
    out: F64 = np.clip(np.round(x / lsb), -32768, 32767) * lsb
    return out


def simulate(
    bouts: Sequence[Bout],
    config: ImuConfig | None = None,
    *,
    seed: int = 0,
    model: FootModel | None = None,
    tail_s: float = 1.0,
) -> Recording:
    """Simulate the session ``bouts`` as recorded by an IMU on the foot."""
    cfg = config or ImuConfig()
    rng = np.random.default_rng(seed)
    plan = (model or FootModel()).plan(bouts)
    duration = plan.end_s + tail_s
    n = int(duration * cfg.rate_hz)
    t_true = np.arange(n) / cfg.rate_hz * (1.0 + cfg.clock_ppm * 1e-6)
    if cfg.bandwidth_hz > 0.0:
        motion, acc_clean, gyr_clean = _band_limited(plan, t_true, cfg)
    else:
        motion = plan.motion(t_true)
        acc_clean, gyr_clean = ideal_signals(motion, mount_rotation(cfg))
    acc = acc_clean * (1.0 + rng.normal(0.0, cfg.scale_error, 3)) + rng.normal(
        0.0, cfg.acc_bias_mps2, 3
    )
    gyr = gyr_clean * (1.0 + rng.normal(0.0, cfg.scale_error, 3)) + rng.normal(
        0.0, cfg.gyro_bias_rps, 3
    )
    acc = acc + rng.normal(0.0, cfg.acc_noise_mps2, acc.shape)
    gyr = gyr + rng.normal(0.0, cfg.gyro_noise_rps, gyr.shape)
    acc_sat = np.any(np.abs(acc) >= cfg.acc_full_scale, axis=1)
    gyr_sat = np.any(np.abs(gyr) >= cfg.gyro_full_scale, axis=1)
    if cfg.quantize:
        acc = _quantize(acc, cfg.acc_full_scale)
        gyr = _quantize(gyr, cfg.gyro_full_scale)
    else:
        acc = np.clip(acc, -cfg.acc_full_scale, cfg.acc_full_scale)
        gyr = np.clip(gyr, -cfg.gyro_full_scale, cfg.gyro_full_scale)
    # timestamps: the nominal grid (what the pod counts), plus jitter
    t_stamp = np.arange(n) / cfg.rate_hz + rng.normal(0.0, cfg.jitter_s, n)
    keep = rng.random(n) >= cfg.drop_prob
    keep[0] = True
    reps = np.where(rng.random(n) < cfg.dup_prob, 2, 1) * keep
    idx = np.repeat(np.arange(n), reps)
    strides = _stride_truth(plan, t_true, acc_sat, gyr_sat)
    return Recording(t_stamp[idx], acc[idx], gyr[idx], strides, cfg, motion, acc_clean, gyr_clean)


def _stride_truth(plan: FootPlan, t: F64, acc_sat: F64, gyr_sat: F64) -> tuple[SimStride, ...]:
    out = []
    for k, (i, spec) in enumerate(plan.specs):
        start, end = plan.stances[i], plan.stances[i + 1]
        m = (t >= start.t_contact_s) & (t < end.t_contact_s)
        contact = end.t_toe_off_s - end.t_contact_s
        out.append(
            SimStride(
                index=k,
                t_contact_s=end.t_contact_s,
                stride_time_s=end.t_contact_s - start.t_contact_s,
                contact_time_s=contact if math.isfinite(contact) else math.nan,
                stride_length_m=math.hypot(end.x_m - start.x_m, end.y_m - start.y_m),
                speed_mps=spec.speed_mps,
                first=start.standing and start.t_toe_off_s <= end.t_contact_s,
                acc_saturated=bool(np.any(acc_sat[m])),
                gyro_saturated=bool(np.any(gyr_sat[m])),
            )
        )
    return tuple(out)
