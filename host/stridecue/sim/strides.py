"""Stride-level running scenarios with exact per-stride truth and known change points.

Every scenario is a list of :class:`StrideTruth` (one per stride of one foot) plus the
:class:`ChangePoint` list that says where, by construction, something changed. The IMU
simulator turns these per-stride parameters into foot trajectories; the detection
benchmark feeds them (with or without IMU noise) to the analyzer.

Natural variability is autocorrelated, as in real running: the log of stride time and
the log of stride length each follow an AR(1) process ``n[k] = phi * n[k-1] + e[k]``
whose stationary standard deviation is the coefficient of variation (CV). Stride length
and stride time innovations are correlated (``rho``) and contact time follows stride
time. Speed is stride length over stride time, so it is never drawn independently.

All generators take a ``numpy.random.Generator`` and are deterministic given its seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

#: change-point kinds; a change point's ``index`` is the first stride that differs
KINDS = ("stride_shortening", "rhythm_loss", "recovered", "rep_start", "rep_end")


@dataclass(frozen=True, slots=True)
class StrideTruth:
    """One stride as it really happened. ``t_s`` is the foot contact that ends it."""

    t_s: float
    stride_time_s: float
    contact_time_s: float
    stride_length_m: float
    speed_mps: float


@dataclass(frozen=True, slots=True)
class ChangePoint:
    """Stride ``index`` is the first one after a change of ``kind``.

    ``magnitude`` is the size of the change as a fraction: 0.05 for 5 % shorter
    strides, 0.05 for a 5 % stride-time drift, or the new stride-time CV for a
    loss of regularity. It is 0.0 for rep boundaries.
    """

    index: int
    kind: str
    magnitude: float = 0.0


@dataclass(frozen=True, slots=True)
class Profile:
    """Nominal steady running: the mean stride at race effort for an event group."""

    name: str
    stride_time_s: float
    stride_length_m: float
    contact_time_s: float

    @property
    def speed_mps(self) -> float:
        return self.stride_length_m / self.stride_time_s

    @property
    def cadence_spm(self) -> float:
        # two steps per stride
        return 120.0 / self.stride_time_s


#: 400 m effort: ~250 steps/min, 3.6 m strides, 7.5 m/s
SPRINT = Profile("sprint", stride_time_s=0.48, stride_length_m=3.6, contact_time_s=0.11)
#: 800 m-1500 m effort: ~167 steps/min, 3.3 m strides, ~4.6 m/s
DISTANCE = Profile("distance", stride_time_s=0.72, stride_length_m=3.3, contact_time_s=0.19)
#: recovery jog between reps: ~150 steps/min, 1.6 m strides, 2 m/s
JOG = Profile("jog", stride_time_s=0.80, stride_length_m=1.6, contact_time_s=0.27)

PROFILES = {p.name: p for p in (SPRINT, DISTANCE, JOG)}


@dataclass(frozen=True, slots=True)
class Noise:
    """Stride-to-stride variability: CVs (fractions), AR(1) coefficient, correlation."""

    time_cv: float = 0.02
    length_cv: float = 0.02
    contact_cv: float = 0.03
    phi: float = 0.5
    rho: float = 0.5

    def __post_init__(self) -> None:
        for name in ("time_cv", "length_cv", "contact_cv"):
            v = getattr(self, name)
            if not 0.0 <= v <= 0.3:
                raise ValueError(f"Noise.{name}={v} must be within 0.0..0.3 (a fraction)")
        if not -0.95 <= self.phi <= 0.95:
            raise ValueError(f"Noise.phi={self.phi} must be within -0.95..0.95")
        if not -1.0 <= self.rho <= 1.0:
            raise ValueError(f"Noise.rho={self.rho} must be within -1..1")


@dataclass(slots=True)
class Scenario:
    """A generated run: the strides, where things changed, and a name for reports."""

    name: str
    strides: list[StrideTruth]
    change_points: list[ChangePoint] = field(default_factory=list)

    def columns(self) -> dict[str, F64]:
        """The strides as numpy columns keyed by field name."""
        names = ("t_s", "stride_time_s", "contact_time_s", "stride_length_m", "speed_mps")
        return {n: np.array([getattr(s, n) for s in self.strides]) for n in names}


def ar1(rng: np.random.Generator, n: int, sd: float | F64, phi: float) -> F64:
    """``n`` samples of a stationary AR(1) with marginal std ``sd`` (scalar or per sample).

    A per-sample ``sd`` scales the innovations, so the process stays continuous when the
    variability changes (a rhythm loss makes strides irregular, it does not jump).
    """
    sd_arr = np.broadcast_to(np.asarray(sd, dtype=np.float64), (n,))
    e = rng.standard_normal(n)
    return _ar1_from(e, sd_arr, phi)


def _ar1_from(e: F64, sd: F64, phi: float) -> F64:
    # x[0] = sd[0] e[0] (stationary start); x[i] = phi x[i-1] + sqrt(1 - phi^2) sd[i] e[i]
    u = math.sqrt(1.0 - phi * phi) * sd * e
    u[0] = sd[0] * e[0]
    from scipy.signal import lfilter  # imported here: scipy.signal costs ~1 s at CLI start

    out: F64 = np.asarray(lfilter([1.0], [1.0, -phi], u), dtype=np.float64)
    return out


def _assemble(
    rng: np.random.Generator,
    time_mean_s: F64,
    length_mean_m: F64,
    contact_mean_s: F64,
    noise: Noise,
    time_cv: F64 | None = None,
    t0_s: float = 0.0,
) -> list[StrideTruth]:
    """Strides from per-stride means and the noise model (log-normal AR(1) deviations)."""
    n = time_mean_s.size
    cv_t = np.full(n, noise.time_cv) if time_cv is None else time_cv
    e_t = rng.standard_normal(n)
    e_o = rng.standard_normal(n)
    e_c = rng.standard_normal(n)
    r = noise.rho
    e_l = r * e_t + math.sqrt(max(0.0, 1.0 - r * r)) * e_o
    nt = _ar1_from(e_t, cv_t, noise.phi)
    nl = _ar1_from(e_l, np.full(n, noise.length_cv), noise.phi)
    # contact time follows the stride's own timing plus a little of its own noise
    nc = 0.7 * nt + _ar1_from(e_c, np.full(n, noise.contact_cv), noise.phi)
    st = time_mean_s * np.exp(nt)
    sl = length_mean_m * np.exp(nl)
    ct = np.minimum(contact_mean_s * np.exp(nc), 0.9 * st)
    t = t0_s + np.cumsum(st)
    return [
        StrideTruth(
            t_s=float(t[i]),
            stride_time_s=float(st[i]),
            contact_time_s=float(ct[i]),
            stride_length_m=float(sl[i]),
            speed_mps=float(sl[i] / st[i]),
        )
        for i in range(n)
    ]


def _const(n: int, v: float) -> F64:
    return np.full(n, float(v))


def _check_count(name: str, n: int, lo: int = 1) -> None:
    if n < lo:
        raise ValueError(f"{name}={n} must be at least {lo}")


def steady(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    n_strides: int = 500,
    noise: Noise | None = None,
    t0_s: float = 0.0,
) -> Scenario:
    """Steady running at ``profile`` with natural variability only: no change points."""
    _check_count("n_strides", n_strides)
    nz = noise or Noise()
    p = profile
    strides = _assemble(
        rng,
        _const(n_strides, p.stride_time_s),
        _const(n_strides, p.stride_length_m),
        _const(n_strides, p.contact_time_s),
        nz,
        t0_s=t0_s,
    )
    return Scenario(f"steady-{p.name}", strides)


def _ramp(n: int, start: int, ramp_strides: int, size: float) -> F64:
    """0 before ``start``, rising linearly to ``size`` over ``ramp_strides`` strides."""
    k = np.arange(n, dtype=np.float64) - start + 1.0
    if ramp_strides <= 0:
        return np.where(k >= 1.0, size, 0.0)
    return np.clip(k / ramp_strides, 0.0, 1.0) * size


def shortening(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    drop: float = 0.05,
    before: int = 60,
    after: int = 60,
    ramp_strides: int = 0,
    noise: Noise | None = None,
) -> Scenario:
    """Stride length falls by ``drop`` (fraction) at stride ``before`` and stays down.

    The stride time is unchanged (the athlete keeps the rhythm but covers less ground),
    so speed falls with the length. ``ramp_strides`` > 0 spreads the fall linearly.
    """
    _check_count("before", before)
    _check_count("after", after)
    if not 0.0 < drop < 0.5:
        raise ValueError(f"drop={drop} must be within 0..0.5 (a fraction)")
    nz = noise or Noise()
    n = before + after
    p = profile
    length = p.stride_length_m * (1.0 - _ramp(n, before, ramp_strides, drop))
    strides = _assemble(rng, _const(n, p.stride_time_s), length, _const(n, p.contact_time_s), nz)
    return Scenario(
        f"shortening-{p.name}-{drop:g}", strides, [ChangePoint(before, "stride_shortening", drop)]
    )


def rhythm_irregular(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    cv_after: float = 0.06,
    before: int = 60,
    after: int = 60,
    noise: Noise | None = None,
) -> Scenario:
    """Stride-time CV rises from the noise model's CV to ``cv_after`` at stride ``before``."""
    _check_count("before", before)
    _check_count("after", after)
    nz = noise or Noise()
    if not nz.time_cv < cv_after <= 0.3:
        raise ValueError(f"cv_after={cv_after} must exceed time_cv={nz.time_cv} and be <= 0.3")
    n = before + after
    p = profile
    cv = np.where(np.arange(n) >= before, cv_after, nz.time_cv)
    strides = _assemble(
        rng,
        _const(n, p.stride_time_s),
        _const(n, p.stride_length_m),
        _const(n, p.contact_time_s),
        nz,
        time_cv=cv,
    )
    name = f"irregular-{p.name}-{cv_after:g}"
    return Scenario(name, strides, [ChangePoint(before, "rhythm_loss", cv_after)])


def rhythm_drift(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    drift: float = 0.05,
    before: int = 60,
    after: int = 60,
    ramp_strides: int = 0,
    noise: Noise | None = None,
) -> Scenario:
    """Stride time moves by ``drift`` (fraction; positive = slower rhythm) and stays.

    Stride length is unchanged, so a slower rhythm also means a lower speed.
    """
    _check_count("before", before)
    _check_count("after", after)
    if not 0.0 < abs(drift) < 0.5:
        raise ValueError(f"drift={drift} must be within -0.5..0.5 and not 0 (a fraction)")
    nz = noise or Noise()
    n = before + after
    p = profile
    time = p.stride_time_s * (1.0 + _ramp(n, before, ramp_strides, drift))
    strides = _assemble(rng, time, _const(n, p.stride_length_m), _const(n, p.contact_time_s), nz)
    return Scenario(
        f"drift-{p.name}-{drift:g}", strides, [ChangePoint(before, "rhythm_loss", abs(drift))]
    )


def _settle_curve(n: int, settle_strides: int) -> F64:
    """1 at the start of a rep falling to 0: how far from steady the first strides are."""
    k = np.arange(n, dtype=np.float64)
    tau = max(settle_strides, 1) / 3.0
    out: F64 = np.exp(-k / tau)
    return out


def rep(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    distance_m: float = 400.0,
    fatigue_from_m: float | None = 250.0,
    fatigue_drop: float = 0.08,
    fatigue_slowdown: float = 0.03,
    settle_strides: int = 8,
    noise: Noise | None = None,
    t0_s: float = 0.0,
) -> Scenario:
    """One rep from a standing start: acceleration, steady running, then fatigue.

    The first strides are short and slow (acceleration, ``settle_strides`` to settle).
    From ``fatigue_from_m`` to the finish the stride length falls linearly by
    ``fatigue_drop`` and the stride time lengthens by ``fatigue_slowdown`` — the
    last-200 m signature. ``fatigue_from_m=None`` gives a rep run evenly to the end.
    Change points: ``rep_start`` at 0 and ``stride_shortening`` at the first stride
    whose mean length is 3 % below steady (the first a coach could call shortened).
    """
    if not 20.0 <= distance_m <= 10000.0:
        raise ValueError(f"distance_m={distance_m} must be within 20..10000 m")
    nz = noise or Noise()
    p = profile
    n_est = int(distance_m / p.stride_length_m * 1.4) + 20
    settle = _settle_curve(n_est, settle_strides)
    length = p.stride_length_m * (1.0 - 0.45 * settle)
    time = p.stride_time_s * (1.0 + 0.15 * settle)
    # distance covered by the mean strides, to place the fatigue section in metres
    covered = np.cumsum(length)
    cps = [ChangePoint(0, "rep_start")]
    if fatigue_from_m is not None:
        if not 0.0 < fatigue_from_m < distance_m:
            raise ValueError(f"fatigue_from_m={fatigue_from_m} must be within 0..{distance_m}")
        frac = np.clip((covered - fatigue_from_m) / (distance_m - fatigue_from_m), 0.0, 1.0)
        length = length * (1.0 - fatigue_drop * frac)
        time = time * (1.0 + fatigue_slowdown * frac)
        covered = np.cumsum(length)
        below = np.nonzero(1.0 - length / (p.stride_length_m * (1.0 - 0.45 * settle)) >= 0.03)[0]
        if below.size:
            cps.append(ChangePoint(int(below[0]), "stride_shortening", fatigue_drop))
    n = int(np.searchsorted(covered, distance_m)) + 1
    strides = _assemble(
        rng,
        time[:n],
        length[:n],
        p.contact_time_s * (1.0 + 0.2 * settle[:n]),
        nz,
        t0_s=t0_s,
    )
    cps = [c for c in cps if c.index < n]
    return Scenario(f"rep-{p.name}-{distance_m:g}m", strides, cps)


def session(
    rng: np.random.Generator,
    profile: Profile = SPRINT,
    n_reps: int = 4,
    distance_m: float = 400.0,
    jog_s: float = 90.0,
    fatigue_from_m: float | None = 250.0,
    noise: Noise | None = None,
) -> Scenario:
    """``n_reps`` reps separated by recovery jogs of ``jog_s`` seconds.

    Change points: ``rep_start`` / ``rep_end`` at every boundary, plus each rep's own.
    """
    _check_count("n_reps", n_reps)
    if not 0.0 <= jog_s <= 3600.0:
        raise ValueError(f"jog_s={jog_s} must be within 0..3600 s")
    nz = noise or Noise()
    strides: list[StrideTruth] = []
    cps: list[ChangePoint] = []
    t0 = 0.0
    for r in range(n_reps):
        sc = rep(rng, profile, distance_m, fatigue_from_m, noise=nz, t0_s=t0)
        base = len(strides)
        cps.extend(ChangePoint(base + c.index, c.kind, c.magnitude) for c in sc.change_points)
        strides.extend(sc.strides)
        t0 = strides[-1].t_s
        if r == n_reps - 1 or jog_s <= 0.0:
            continue
        n_jog = max(1, int(jog_s / JOG.stride_time_s))
        cps.append(ChangePoint(len(strides), "rep_end"))
        jog = steady(rng, JOG, n_jog, nz, t0_s=t0)
        strides.extend(jog.strides)
        t0 = strides[-1].t_s
    cps.append(ChangePoint(len(strides), "rep_end"))
    return Scenario(f"session-{profile.name}-{n_reps}x{distance_m:g}m", strides, cps)


def to_csv_rows(strides: Sequence[StrideTruth], contact: bool = True) -> list[str]:
    """Lines of the ``stridecue analyze`` CSV (header first) for these strides."""
    head = "t_s,stride_time_s,stride_length_m" + (",contact_time_s" if contact else "")
    rows = [head]
    for s in strides:
        row = f"{s.t_s:.4f},{s.stride_time_s:.5f},{s.stride_length_m:.4f}"
        rows.append(row + (f",{s.contact_time_s:.5f}" if contact else ""))
    return rows


# --- relay: 2-4 runners on one timeline, exchanges with exact positions ---


def _relay_profile(speed_mps: float) -> Profile:
    """A sprinter's stride at ``speed_mps`` (as the practice scenarios pick one)."""
    spm = float(np.clip(140.0 + 11.0 * speed_mps, 150.0, 270.0))
    stride_s = 120.0 / spm
    contact = float(np.interp(speed_mps, (5.0, 8.0, 10.0), (0.20, 0.12, 0.095)))
    return Profile("relay", stride_s, speed_mps * stride_s, contact)


@dataclass(frozen=True, slots=True)
class RelayFault:
    """What goes wrong at one exchange. ``start_m`` > 0: the outgoing runner goes when
    the incoming runner is still that far before the mark (early), < 0: past it (late).
    ``slow`` > 0: the incoming runner's strides shorten by up to that fraction over the
    last ``slow_over_m`` metres before the zone (easing up, waiting for the partner)."""

    start_m: float = 0.0
    slow: float = 0.0
    slow_over_m: float = 20.0


@dataclass(slots=True)
class RelayRun:
    """Every runner's strides on one clock, and per exchange what the analysis needs.

    Runner ``k``'s strides are exact truth: the incoming runner of exchange ``i`` is at
    ``-approach_m[i]`` when their first stride begins, the outgoing runner at 0 until
    theirs (positions from the start of zone ``i``)."""

    runners: list[Scenario]
    approach_m: list[float]
    marks_m: list[float]
    zones_m: list[float]
    faults: list[RelayFault]
    reaction_s: float


def relay(
    rng: np.random.Generator,
    speeds_mps: Sequence[float] = (10.0, 10.2, 10.0, 10.3),
    marks_m: Sequence[float] = (11.0, 11.0, 11.0),
    approach_m: Sequence[float] = (80.0, 100.0, 100.0),
    zones_m: Sequence[float] = (30.0, 30.0, 30.0),
    faults: Sequence[RelayFault] | None = None,
    reaction_s: float = 0.0,
    noise: Noise | None = None,
    settle_strides: int = 14,
) -> RelayRun:
    """A relay of ``len(speeds_mps)`` runners (2-4), each from a standing start.

    The first runner sets off at t = 0; each next runner goes ``reaction_s`` after the
    incoming runner reaches their check mark (moved by the exchange's fault). Every
    runner except the last runs on 15 m past the end of their zone; the last runs
    their zone and 60 m more.
    """
    n = len(speeds_mps)
    if not 2 <= n <= 4:
        raise ValueError(f"a relay has 2 to 4 runners, got {n}")
    for name, seq in (("marks_m", marks_m), ("approach_m", approach_m), ("zones_m", zones_m)):
        if len(seq) < n - 1:
            raise ValueError(f"{name} needs {n - 1} values (one per exchange)")
    fs = list(faults) if faults is not None else [RelayFault()] * (n - 1)
    if len(fs) < n - 1:
        raise ValueError(f"faults needs {n - 1} values (one per exchange)")
    nz = noise or Noise()
    runners: list[Scenario] = []
    t0 = 0.0
    for k in range(n):
        last = k == n - 1
        distance = zones_m[k - 1] + 60.0 if last else approach_m[k] + zones_m[k] + 15.0
        sc = rep(
            rng, _relay_profile(speeds_mps[k]), distance, None,
            settle_strides=settle_strides, noise=nz, t0_s=t0,
        )  # fmt: skip
        strides = sc.strides
        if k < n - 1 and fs[k].slow > 0:
            strides = _slowing(strides, approach_m[k], fs[k])
        runners.append(Scenario(f"relay-runner-{k + 1}", strides, sc.change_points))
        if k < n - 1:
            at = -marks_m[k] - fs[k].start_m  # where the incoming runner is when k+1 goes
            t0 = _time_at(strides, approach_m[k], at) + reaction_s
    return RelayRun(
        runners, list(approach_m[: n - 1]), list(marks_m[: n - 1]), list(zones_m[: n - 1]),
        fs[: n - 1], reaction_s,
    )  # fmt: skip


def _slowing(strides: list[StrideTruth], approach_m: float, fault: RelayFault) -> list[StrideTruth]:
    """Strides shortening (rhythm kept) from ``slow_over_m`` before the zone to its start."""
    out = []
    x = -approach_m
    for s in strides:
        f = min(max((x + fault.slow_over_m) / fault.slow_over_m, 0.0), 1.0) * fault.slow
        length = s.stride_length_m * (1.0 - f)
        out.append(
            StrideTruth(s.t_s, s.stride_time_s, s.contact_time_s, length, length / s.stride_time_s)
        )
        x += length
    return out


def _time_at(strides: Sequence[StrideTruth], approach_m: float, x: float) -> float:
    """When a runner starting at ``-approach_m`` reaches position ``x`` (linear in a stride)."""
    pos = -approach_m
    for s in strides:
        if pos + s.stride_length_m >= x:
            return s.t_s - s.stride_time_s + (x - pos) / s.stride_length_m * s.stride_time_s
        pos += s.stride_length_m
    raise ValueError(f"the runner never reaches {x:g} m")


def with_length_error(
    rng: np.random.Generator, strides: Sequence[StrideTruth], bias: float, noise: float
) -> list[StrideTruth]:
    """The strides as a pod reports them: lengths off by ``bias`` (fraction) plus
    independent ``noise`` (fraction, standard deviation) per stride; times exact."""
    out = []
    for s in strides:
        length = s.stride_length_m * (1.0 + bias + noise * float(rng.standard_normal()))
        out.append(
            StrideTruth(s.t_s, s.stride_time_s, s.contact_time_s, length, length / s.stride_time_s)
        )
    return out


# --- 400 m and cadence training (docs/training.md) ---

#: training rep shapes: even pace, a positive split (slowing all the way), a fade from 250 m
TRAINING_KINDS = ("even", "positive", "fade")


def training_rep(
    rng: np.random.Generator,
    kind: str = "even",
    profile: Profile = SPRINT,
    distance_m: float = 400.0,
    noise: Noise | None = None,
    t0_s: float = 0.0,
) -> Scenario:
    """A rep from a standing start whose true strides sum to exactly ``distance_m``.

    ``even``: held to the line; ``positive``: stride length falls 5 % and stride time
    rises 2 % evenly from the start to the line (each 100 m slower than the one before);
    ``fade``: steady to 250 m, then 8 % shorter and 3 % slower strides by the line (the
    last-200 m signature). The strides are scaled by one factor (within a stride's
    noise) so that the rep is exact: its true splits are :func:`split_times` of them.
    """
    if kind == "even":
        sc = rep(rng, profile, distance_m, None, noise=noise, t0_s=t0_s)
    elif kind == "positive":
        sc = rep(rng, profile, distance_m, 1.0, 0.05, 0.02, noise=noise, t0_s=t0_s)
    elif kind == "fade":
        at = min(250.0, 0.625 * distance_m)
        sc = rep(rng, profile, distance_m, at, 0.08, 0.03, noise=noise, t0_s=t0_s)
    else:
        raise ValueError(f"kind={kind!r} must be one of {', '.join(TRAINING_KINDS)}")
    k = distance_m / math.fsum(s.stride_length_m for s in sc.strides)
    exact = [
        StrideTruth(
            s.t_s, s.stride_time_s, s.contact_time_s, s.stride_length_m * k, s.speed_mps * k
        )
        for s in sc.strides
    ]
    return Scenario(f"training-{kind}-{distance_m:g}m", exact, sc.change_points)


def split_times(strides: Sequence[StrideTruth], split_m: float = 100.0) -> list[float]:
    """Time of each full ``split_m`` of a rep, interpolated within the crossing stride.

    The rep starts at the start of its first stride (as the analyzer times it).
    """
    out: list[float] = []
    if not strides:
        return out
    covered = 0.0
    last = strides[0].t_s - strides[0].stride_time_s
    mark = split_m
    for s in strides:
        before = covered
        covered += s.stride_length_m
        while covered >= mark - 1e-9:
            t = s.t_s - s.stride_time_s * (1.0 - (mark - before) / s.stride_length_m)
            out.append(t - last)
            last = t
            mark += split_m
    return out


def pod_measured(
    rng: np.random.Generator,
    strides: Sequence[StrideTruth],
    bias: float = -0.02,
    cv: float = 0.02,
) -> list[StrideTruth]:
    """The strides as a pod measures them: each length off by ``bias`` plus independent
    noise of ``cv`` (fractions; -2 % and 2 % as measured on real recordings)."""
    err = 1.0 + bias + cv * rng.standard_normal(len(strides))
    return [
        StrideTruth(s.t_s, s.stride_time_s, s.contact_time_s, s.stride_length_m * float(e),
                    s.speed_mps * float(e))
        for s, e in zip(strides, err, strict=True)
    ]  # fmt: skip
