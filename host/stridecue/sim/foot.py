"""Where a foot pod is, and how it is turned, through walking and running strides.

A stride runs from one foot contact to the next contact of the same foot:

* **contact** — heel strike (walking, jogging) or forefoot strike (fast running):
  the foot lands pitched (toe up, or heel up) and rolls flat about the heel or the
  ball of the foot; the landing is an impact, the sensor's velocity dropping to the
  rolling velocity within ``impact_s``;
* **stance** — the foot lies still on the ground (the zero-velocity phase a ZUPT
  gait engine relies on);
* **push-off** — the heel lifts and the foot rolls about the ball of the foot until
  toe-off;
* **swing** — the pod flies forward one stride length, lifts to a clearance
  height, the foot keeps pitching heel-up (the heel kick) and then swings toe-up
  for the next contact, with a little roll and any change of heading.

All motion is built from C2 quintic pieces (``quintic.py``) and rigid rotations
about ground pivots, so position, velocity, acceleration, orientation and angular
rate are exact: nothing is differentiated numerically. World frame: x forward at
the start, y left, z up; foot frame: x to the toes, y left, z up from the sole.
Shape parameters depend on speed and come from ``FootShape.for_speed``; they are
typical values from the gait literature, checked against the PyShoe recordings in
docs/simulator.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from stridecue.errors import ConfigError
from stridecue.sim.quintic import F64, Quintic

GRAVITY = 9.80665  # m/s^2

# Allowed ranges of per-stride parameters: (low, high), inclusive.
LIMITS: dict[str, tuple[float, float]] = {
    "stride_time_s": (0.35, 3.0),  # 4.5 steps/s sprint .. slow walk
    "contact_fraction": (0.12, 0.75),  # contact time / stride time
    "stride_length_m": (0.2, 6.0),
    "speed_mps": (0.2, 12.0),
    "heading_change_rad": (-0.6, 0.6),  # per stride
    "rest_s": (0.0, 3600.0),
}


def check_range(field: str, value: float, where: str = "") -> None:
    """Raise ConfigError naming the field and its allowed range when value is outside it."""
    lo, hi = LIMITS[field]
    if not (math.isfinite(value) and lo <= value <= hi):
        at = f" ({where})" if where else ""
        raise ConfigError(f"{field}={value!r}{at} is out of range: allowed {lo}..{hi}")


@dataclass(frozen=True, slots=True)
class StrideSpec:
    """The truth of one stride: contact to next contact of the same foot."""

    stride_time_s: float
    contact_fraction: float
    stride_length_m: float
    heading_change_rad: float = 0.0

    def __post_init__(self) -> None:
        check_range("stride_time_s", self.stride_time_s)
        check_range("contact_fraction", self.contact_fraction)
        check_range("stride_length_m", self.stride_length_m)
        check_range("speed_mps", self.speed_mps)
        check_range("heading_change_rad", self.heading_change_rad)

    @property
    def speed_mps(self) -> float:
        return self.stride_length_m / self.stride_time_s

    @property
    def contact_time_s(self) -> float:
        return self.stride_time_s * self.contact_fraction

    @property
    def cadence_spm(self) -> float:
        return 120.0 / self.stride_time_s


@dataclass(frozen=True, slots=True)
class Bout:
    """Standing still for ``rest_s``, then running (or walking) ``strides``, then stopping."""

    strides: tuple[StrideSpec, ...]
    rest_s: float = 2.0

    def __post_init__(self) -> None:
        check_range("rest_s", self.rest_s)
        if not self.strides:
            raise ConfigError("a bout needs at least one stride: allowed 1.. strides")


_SPEEDS = (0.8, 1.5, 2.5, 4.0, 6.0, 8.0, 10.0)  # m/s, grid of the shape tables


def _interp(v: float, table: Sequence[float]) -> float:
    return float(np.interp(v, _SPEEDS, table))


@dataclass(frozen=True, slots=True)
class FootShape:
    """How one stride looks at one speed (angles in rad, lengths in m, times in s)."""

    strike_pitch_rad: float  # < 0 heel strike (toe up), > 0 forefoot strike
    toe_off_pitch_rad: float  # heel up at toe-off
    toe_off_rate_factor: float  # toe-off pitch rate / mean push-off rate
    pitch_apex_frac: float  # time of the highest heel kick, fraction of swing
    clearance_m: float  # pod height above its stance height at the swing apex
    height_apex_frac: float  # time of that apex, fraction of swing
    touchdown_fwd_mps: float  # pod's forward speed just before contact
    touchdown_down_mps: float  # pod's downward speed just before contact
    pre_contact_rate_rps: float  # pitch rate just before contact (rad/s)
    impact_s: float  # time for the landing to stop the pod
    load_frac: float  # share of contact spent rolling flat
    still_frac: float  # share of contact spent still (foot flat)
    swing_roll_rad: float  # peak roll in swing
    swing_toe_out_rad: float  # peak yaw away from the heading in swing

    @classmethod
    def for_speed(cls, speed_mps: float, running: bool = True) -> FootShape:
        # a slow jog is still running (flight, impact): shaped like 2.5 m/s at least
        v = max(speed_mps, 2.5) if running else speed_mps
        deg = math.radians
        return cls(
            strike_pitch_rad=deg(_interp(v, (-22, -20, -12, -4, 5, 10, 14))),
            toe_off_pitch_rad=deg(_interp(v, (55, 60, 62, 60, 55, 50, 45))),
            toe_off_rate_factor=_interp(v, (1.8, 1.8, 1.5, 1.5, 1.4, 1.35, 1.3)),
            pitch_apex_frac=_interp(v, (0.22, 0.24, 0.28, 0.3, 0.3, 0.3, 0.3)),
            clearance_m=_interp(v, (0.07, 0.10, 0.17, 0.26, 0.34, 0.40, 0.45)),
            height_apex_frac=_interp(v, (0.3, 0.33, 0.38, 0.4, 0.42, 0.42, 0.42)),
            touchdown_fwd_mps=_interp(v, (0.4, 0.6, 0.9, 1.2, 1.4, 1.5, 1.6)),
            touchdown_down_mps=_interp(v, (0.3, 0.4, 0.8, 1.0, 1.1, 1.1, 1.1)),
            pre_contact_rate_rps=_interp(v, (-1.0, -1.5, -2.0, -2.0, -1.5, -1.0, -0.5)),
            impact_s=_interp(v, (0.02, 0.02, 0.016, 0.012, 0.011, 0.013, 0.014)),
            load_frac=_interp(v, (0.15, 0.18, 0.2, 0.2, 0.2, 0.2, 0.2)),
            still_frac=_interp(v, (0.36, 0.32, 0.22, 0.24, 0.22, 0.2, 0.18)),
            swing_roll_rad=deg(_interp(v, (8, 10, 12, 12, 12, 12, 12))),
            swing_toe_out_rad=deg(_interp(v, (6, 8, 8, 8, 8, 8, 8))),
        )


def _shape(spec: StrideSpec) -> FootShape:
    # walking has double support: contact over half the stride
    return FootShape.for_speed(spec.speed_mps, running=spec.contact_fraction < 0.5)


@dataclass(frozen=True, slots=True)
class FootGeometry:
    """Where the pod sits on the foot (m, foot frame, from the heel's ground point)."""

    heel_to_ball_m: float = 0.17
    pod_forward_m: float = 0.10  # from the heel, along the foot
    pod_height_m: float = 0.06  # above the sole


@dataclass(frozen=True, slots=True)
class Motion:
    """Pod kinematics at sample times (world frame; angles as ZYX yaw, pitch, roll)."""

    t: F64
    pos: F64  # (n, 3) m
    vel: F64  # (n, 3) m/s
    acc: F64  # (n, 3) m/s^2, kinematic (no gravity)
    yaw: F64
    pitch: F64  # > 0 heel up
    roll: F64
    rate_body: F64  # (n, 3) angular rate in the foot frame, rad/s

    def rotation(self) -> F64:
        """(n, 3, 3) foot-to-world rotations R = Rz(yaw) Ry(pitch) Rx(roll)."""
        return rot_zyx(self.yaw, self.pitch, self.roll)


def rot_zyx(yaw: F64, pitch: F64, roll: F64) -> F64:
    cz, sz = np.cos(yaw), np.sin(yaw)
    cy, sy = np.cos(pitch), np.sin(pitch)
    cx, sx = np.cos(roll), np.sin(roll)
    r = np.empty((np.size(yaw), 3, 3))
    r[:, 0, 0] = cz * cy
    r[:, 0, 1] = cz * sy * sx - sz * cx
    r[:, 0, 2] = cz * sy * cx + sz * sx
    r[:, 1, 0] = sz * cy
    r[:, 1, 1] = sz * sy * sx + cz * cx
    r[:, 1, 2] = sz * sy * cx - cz * sx
    r[:, 2, 0] = -sy
    r[:, 2, 1] = cy * sx
    r[:, 2, 2] = cy * cx
    return r


@dataclass(frozen=True, slots=True)
class StanceTruth:
    """One ground contact: when it began and ended, and where the foot lay."""

    t_contact_s: float  # for a standing start: when the still foot began to be loaded
    t_toe_off_s: float  # inf for the last stance of a bout (the athlete stopped)
    x_m: float  # pod's ground position while the foot is flat
    y_m: float
    standing: bool  # a standing start or stop, not a landing


@dataclass
class _Keys:
    """Knots of one channel, appended in time order."""

    t: list[float]
    p: list[float]
    v: list[float]
    a: list[float]

    @classmethod
    def new(cls) -> _Keys:
        return cls([], [], [], [])

    def add(self, t: float, p: float, v: float = 0.0, a: float = 0.0) -> None:
        if self.t and t <= self.t[-1]:
            raise ConfigError(
                f"stride phases overlap at t={t:.4f} s: lengthen stride_time_s or "
                "lower contact_fraction (allowed ranges in stridecue.sim.foot.LIMITS)"
            )
        self.t.append(t)
        self.p.append(p)
        self.v.append(v)
        self.a.append(a)

    def curve(self) -> Quintic:
        return Quintic(np.array(self.t), np.array(self.p), np.array(self.v), np.array(self.a))


@dataclass(frozen=True, slots=True)
class _Stance:
    t0: float  # start of contact (loading)
    t_heel_off: float
    t1: float  # toe-off (inf when the bout ends here)
    pivot0: tuple[float, float]  # ground pivot while loading (heel or ball), x, y
    ball: tuple[float, float]  # ground point of the ball of the foot
    yaw: float
    r0: tuple[float, float]  # pod offset from pivot0 in the foot frame (x, z)
    t_c: float  # the contact that times this stance's stride (virtual after standing)


class FootModel:
    """Builds the pod's motion over a sequence of bouts (the athlete's session)."""

    def __init__(self, *, geometry: FootGeometry | None = None, roll_sign: float = 1.0) -> None:
        self.geometry = geometry or FootGeometry()
        self.roll_sign = roll_sign  # +1 right foot, -1 left foot

    def plan(self, bouts: Sequence[Bout]) -> FootPlan:
        return FootPlan(self, bouts)


class FootPlan:
    """Keyframes of a whole session; evaluate with ``motion(t)``; truth in ``stances``."""

    def __init__(self, model: FootModel, bouts: Sequence[Bout]) -> None:
        if not bouts:
            raise ConfigError("a session needs at least one bout: allowed 1.. bouts")
        self._g = model.geometry
        self._roll_sign = model.roll_sign
        self.pitch = _Keys.new()
        self.yaw = _Keys.new()
        self.roll = _Keys.new()
        self.xyz = [_Keys.new(), _Keys.new(), _Keys.new()]
        self._stances: list[_Stance] = []
        self._last: _Stance | None = None
        self.stances: list[StanceTruth] = []
        self.specs: list[tuple[int, StrideSpec]] = []  # (index of its first stance, spec)
        self._build(bouts)

    # ---- construction -------------------------------------------------------------
    def _pod_offsets(self) -> tuple[tuple[float, float], tuple[float, float]]:
        g = self._g
        return (g.pod_forward_m, g.pod_height_m), (
            g.pod_forward_m - g.heel_to_ball_m,
            g.pod_height_m,
        )

    def _build(self, bouts: Sequence[Bout]) -> None:
        t = 0.0
        x, y, yaw = 0.0, 0.0, 0.0
        self.pitch.add(t, 0.0)
        self.yaw.add(t, 0.0)
        self.roll.add(t, 0.0)
        for bout in bouts:
            t, x, y, yaw = self._bout(bout, t, x, y, yaw)
        self.end_s = t
        if self._last is not None:
            last = self._last
            self._stances.append(replace(last, t_heel_off=math.inf, t1=math.inf))
        for ch in (self.pitch, self.yaw, self.roll):
            ch.add(t + 1.0, ch.p[-1])
        self._pitch = self.pitch.curve()
        self._yaw = self.yaw.curve()
        self._roll = self.roll.curve()
        self._xyz = [c.curve() for c in self.xyz] if len(self.xyz[0].t) >= 2 else None

    def _bout(
        self, bout: Bout, t: float, x: float, y: float, yaw: float
    ) -> tuple[float, float, float, float]:
        specs = bout.strides
        shape = _shape(specs[0])
        tc = specs[0].contact_time_s
        # standing start: the foot stays flat through rest_s, then the first
        # stride's stance runs its still and push-off phases from a virtual contact
        t_contact = t + bout.rest_s
        t_heel_off = t_contact + tc * (shape.load_frac + shape.still_frac)
        if self._last is None:
            stance = self._flat_stance(-math.inf, t_heel_off, t_contact + tc, x, y, yaw)
            stance = replace(stance, t_c=t_contact)
            self.stances.append(StanceTruth(t_contact, t_contact + tc, x, y, True))
        else:  # the foot has stood where the last bout stopped
            p = self._last
            stance = replace(p, t_heel_off=t_heel_off, t1=t_contact + tc, t_c=t_contact)
            s = self.stances[-1]
            self.stances[-1] = StanceTruth(s.t_contact_s, t_contact + tc, s.x_m, s.y_m, True)
        self._last = None
        self.pitch.add(t_heel_off, 0.0)
        for k, spec in enumerate(specs):
            nxt = specs[k + 1] if k + 1 < len(specs) else None
            self.specs.append((len(self.stances) - 1, spec))
            stance, x, y, yaw = self._stride(stance, spec, nxt, x, y, yaw)
        self._last = stance
        return self.pitch.t[-1] + 0.05, x, y, yaw

    def _flat_stance(
        self, t0: float, t_heel_off: float, t1: float, x: float, y: float, yaw: float
    ) -> _Stance:
        g = self._g
        c, s = math.cos(yaw), math.sin(yaw)
        heel = (x - c * g.pod_forward_m, y - s * g.pod_forward_m)
        ball = (heel[0] + c * g.heel_to_ball_m, heel[1] + s * g.heel_to_ball_m)
        r_heel, _ = self._pod_offsets()
        return _Stance(t0, t_heel_off, t1, heel, ball, yaw, r_heel, t0)

    def _stride(
        self,
        st: _Stance,
        spec: StrideSpec,
        nxt: StrideSpec | None,
        x: float,
        y: float,
        yaw: float,
    ) -> tuple[_Stance, float, float, float]:
        """Push-off of stance ``st``, swing, landing; returns the new stance."""
        shape = _shape(spec)
        tc = spec.contact_time_s
        t_to = st.t1
        t_land = st.t_c + spec.stride_time_s
        swing = t_land - t_to
        # --- pitch: push-off to toe-off, heel kick apex, pre-contact, contact
        d_push = t_to - st.t_heel_off
        th_to = shape.toe_off_pitch_rad
        w_to = shape.toe_off_rate_factor * th_to / d_push
        d_apex = shape.pitch_apex_frac * swing
        alpha_to = -w_to / d_apex
        self.pitch.add(t_to, th_to, w_to, alpha_to)
        self.pitch.add(t_to + d_apex, th_to + 0.5 * w_to * d_apex, 0.0, alpha_to)
        # next stance
        nshape = _shape(nxt or spec)
        n_tc = nxt.contact_time_s if nxt else tc
        th_c = nshape.strike_pitch_rad
        d_load = nshape.load_frac * n_tc
        w_c = -0.8 * th_c / d_load
        imp = min(nshape.impact_s, 0.25 * swing)
        t_pre = t_land - imp
        w_pre = nshape.pre_contact_rate_rps
        self.pitch.add(t_pre, th_c - 0.5 * imp * (w_pre + w_c), w_pre)
        self.pitch.add(t_land, th_c, w_c)
        self.pitch.add(t_land + d_load, 0.0)
        # --- heading turns during swing; roll swings out and back
        yaw1 = yaw + spec.heading_change_rad
        self.yaw.add(t_to, yaw)
        mid_yaw = 0.5 * (yaw + yaw1) - self._roll_sign * shape.swing_toe_out_rad
        self.yaw.add(t_to + 0.5 * swing, mid_yaw)
        self.yaw.add(t_pre, yaw1)
        self.roll.add(t_to, 0.0)
        self.roll.add(t_to + 0.5 * swing, self._roll_sign * shape.swing_roll_rad)
        self.roll.add(t_pre, 0.0)
        # --- ground positions of the next foot-flat
        mid = yaw + 0.5 * spec.heading_change_rad
        x1 = x + spec.stride_length_m * math.cos(mid)
        y1 = y + spec.stride_length_m * math.sin(mid)
        if nxt is None:  # the athlete stops: flat until the next bout, if any
            t_heel_off1 = t1 = math.inf
        else:
            t_heel_off1 = t_land + n_tc * (nshape.load_frac + nshape.still_frac)
            t1 = t_land + n_tc
        new = self._flat_stance(t_land, t_heel_off1, t1, x1, y1, yaw1)
        if th_c > 0:  # forefoot strike: the foot rolls flat about the ball
            r_ball = self._pod_offsets()[1]
            new = replace(new, pivot0=new.ball, r0=r_ball)
        if nxt is not None:
            self.pitch.add(t_heel_off1, 0.0)
        self._stances.append(st)
        # --- pod position in swing: toe-off state, apex, pre-contact, contact
        p_to, v_to, a_to = self._pivot_state(
            st.ball, yaw, self._pod_offsets()[1], th_to, w_to, alpha_to
        )
        p_c, v_c, a_c = self._pivot_state(new.pivot0, yaw1, new.r0, th_c, w_c, 0.0)
        c1, s1 = math.cos(yaw1), math.sin(yaw1)
        v_td = (
            c1 * nshape.touchdown_fwd_mps,
            s1 * nshape.touchdown_fwd_mps,
            -nshape.touchdown_down_mps,
        )
        p_pre = [p_c[i] - 0.5 * imp * (v_td[i] + v_c[i]) for i in range(3)]
        d_h = shape.height_apex_frac * swing
        z_apex = self._g.pod_height_m + shape.clearance_m
        for i in range(3):
            ch = self.xyz[i]
            ch.add(t_to, p_to[i], v_to[i], a_to[i])
            if i == 2:
                ch.add(t_to + d_h, z_apex, 0.0, -4.0 * (z_apex - p_to[2]) / d_h**2)
            ch.add(t_pre, p_pre[i], v_td[i], 0.0)
            ch.add(t_land, p_c[i], v_c[i], a_c[i])
        self.stances.append(StanceTruth(t_land, t1, x1, y1, nxt is None))
        return new, x1, y1, yaw1

    @staticmethod
    def _pivot_state(
        pivot: tuple[float, float],
        yaw: float,
        r: tuple[float, float],
        th: float,
        w: float,
        al: float,
    ) -> tuple[list[float], list[float], list[float]]:
        """Pod position, velocity, acceleration while the foot rotates about a ground pivot."""
        c, s = math.cos(th), math.sin(th)
        rx, rz = r
        fx, fz = c * rx + s * rz, -s * rx + c * rz  # Ry(th) r
        dx, dz = -s * rx + c * rz, -c * rx - s * rz  # d/dth
        cy, sy = math.cos(yaw), math.sin(yaw)
        pos = [pivot[0] + cy * fx, pivot[1] + sy * fx, fz]
        vel = [cy * dx * w, sy * dx * w, dz * w]
        ax = -fx * w * w + dx * al
        az = -fz * w * w + dz * al
        return pos, vel, [cy * ax, sy * ax, az]

    # ---- evaluation -----------------------------------------------------------
    def motion(self, t: F64) -> Motion:
        """Exact pod kinematics at times ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        th, w, al = self._pitch(t)
        psi, dpsi, _ = self._yaw(t)
        phi, dphi, _ = self._roll(t)
        pos = np.zeros((t.size, 3))
        vel = np.zeros((t.size, 3))
        acc = np.zeros((t.size, 3))
        in_stance = np.zeros(t.size, dtype=bool)
        r_ball = self._pod_offsets()[1]
        for st in self._stances:
            for lo, hi, pivot, r in (
                (st.t0, st.t_heel_off, st.pivot0, st.r0),
                (st.t_heel_off, st.t1, st.ball, r_ball),
            ):
                m = (t >= lo) & (t < hi)
                if not m.any():
                    continue
                in_stance |= m
                c, s = np.cos(th[m]), np.sin(th[m])
                rx, rz = r
                fx, fz = c * rx + s * rz, -s * rx + c * rz
                dx, dz = -s * rx + c * rz, -c * rx - s * rz
                cy, sy = math.cos(st.yaw), math.sin(st.yaw)
                ww, aa = w[m], al[m]
                pos[m] = np.stack([pivot[0] + cy * fx, pivot[1] + sy * fx, fz], axis=1)
                vel[m] = np.stack([cy * dx * ww, sy * dx * ww, dz * ww], axis=1)
                ah = -fx * ww * ww + dx * aa
                acc[m] = np.stack([cy * ah, sy * ah, -fz * ww * ww + dz * aa], axis=1)
        sw = ~in_stance
        if self._xyz is not None and sw.any():
            for i, curve in enumerate(self._xyz):
                p, v, a = curve(t[sw])
                pos[sw, i], vel[sw, i], acc[sw, i] = p, v, a
        # angular rate in the foot frame for R = Rz(psi) Ry(th) Rx(phi)
        cx, sx = np.cos(phi), np.sin(phi)
        cth, sth = np.cos(th), np.sin(th)
        # world-frame rate = dpsi ez + w Rz ey + dphi Rz Ry ex; in the foot frame:
        # Rx^T [ (0, w, 0) + dpsi Ry^T ez ] + (dphi, 0, 0), with Ry^T ez = (-s, 0, c)
        bx = -sth * dpsi
        by = w
        bz = cth * dpsi
        rate = np.stack([bx + dphi, cx * by + sx * bz, -sx * by + cx * bz], axis=1)
        return Motion(t, pos, vel, acc, psi, th, phi, rate)
