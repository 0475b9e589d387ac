"""Named practice scenarios for the virtual athlete, with known change points.

Each scenario takes its per-stride truth (stride time, contact time, stride length,
with natural autocorrelated variability and change points) from
:mod:`stridecue.sim.strides`, and lays it out as bouts the foot model can run: a
standing start, the strides, a stop. On a 400 m track the bends turn the athlete
left (heading changes stride by stride, as a pod on a real track sees).

``build(name, **params)`` makes one; ``NAMES`` lists them with what they are;
``parse_params`` reads their parameters as written on a command line (NAME=NUMBER).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stridecue.errors import ConfigError
from stridecue.sim import strides as st
from stridecue.sim.foot import LIMITS, Bout, StrideSpec

# parameter -> (low, high) inclusive; every scenario checks what it uses
PARAMS: dict[str, tuple[float, float]] = {
    "speed_mps": (1.0, 10.0),  # running pace
    "walk_speed_mps": (0.5, 2.2),
    "cadence_spm": (100.0, 270.0),  # steps/min; 270 = 4.5 steps/s
    "top_speed_mps": (4.0, 10.0),
    "effort": (0.5, 1.0),  # fraction of top speed
    "distance_m": (50.0, 2000.0),
    "reps": (1, 10),
    "recovery_s": (10.0, 600.0),
    "before": (10, 2000),  # strides before a change
    "after": (10, 2000),
    "cv_after": (0.03, 0.3),  # stride-time CV after a rhythm loss
    "drift": (0.02, 0.3),  # stride-time drift (fraction)
    "strides": (5, 20000),
    "fade_from": (0.2, 0.95),  # fraction of the distance where fatigue sets in
    "fade": (0.03, 0.3),  # stride-length loss by the finish (fraction)
    "seed": (0, 2**31 - 1),
    "rest_s": LIMITS["rest_s"],
}

TRACK_BEND_RADIUS_M = 100.0 / math.pi  # a 400 m track: two 100 m bends, two 100 m straights


def check(field: str, value: float) -> float:
    lo, hi = PARAMS[field]
    if not (isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"{field}={value!r} is out of range: allowed {lo}..{hi}")
    return value


@dataclass(frozen=True, slots=True)
class Scenario:
    """A simulated practice: bouts for the foot model, change points on the strides."""

    name: str
    description: str
    bouts: tuple[Bout, ...]
    change_points: tuple[st.ChangePoint, ...]  # index into the strides of all bouts, in order

    @property
    def n_strides(self) -> int:
        return sum(len(b.strides) for b in self.bouts)

    @property
    def specs(self) -> list[StrideSpec]:
        return [s for b in self.bouts for s in b.strides]


def default_cadence_spm(speed_mps: float) -> float:
    """Typical step rate at a running speed (steps/min): ~170 at 3 m/s, ~250 at 10 m/s."""
    return float(np.clip(140.0 + 11.0 * speed_mps, 150.0, 270.0))


def default_contact_s(speed_mps: float) -> float:
    """Typical ground contact time at a running speed (s): 0.3 s jogging, 0.095 s sprinting."""
    return float(np.interp(speed_mps, (2.0, 3.0, 5.0, 8.0, 10.0), (0.30, 0.27, 0.20, 0.12, 0.095)))


def profile(speed_mps: float, cadence_spm: float | None = None, name: str = "custom") -> st.Profile:
    """A stride-level running profile from a pace (and, optionally, a step rate)."""
    check("speed_mps", speed_mps)
    spm = default_cadence_spm(speed_mps) if cadence_spm is None else cadence_spm
    check("cadence_spm", spm)
    stride_s = 120.0 / spm
    length = speed_mps * stride_s
    if not LIMITS["stride_length_m"][0] <= length <= LIMITS["stride_length_m"][1]:
        raise ConfigError(
            f"speed_mps={speed_mps} at cadence_spm={spm:g} gives {length:.2f} m strides: "
            f"allowed {LIMITS['stride_length_m'][0]}..{LIMITS['stride_length_m'][1]} m; "
            "raise the cadence or lower the speed"
        )
    return st.Profile(name, stride_s, length, default_contact_s(speed_mps))


def _specs(
    strides: Sequence[st.StrideTruth], track: bool, start_m: float = 0.0
) -> list[StrideSpec]:
    out = []
    covered = start_m
    lo, hi = LIMITS["contact_fraction"]
    for s in strides:
        lap_m = covered % 400.0
        on_bend = track and (lap_m < 100.0 or 200.0 <= lap_m < 300.0)
        turn = s.stride_length_m / TRACK_BEND_RADIUS_M if on_bend else 0.0
        covered += s.stride_length_m
        frac = min(max(s.contact_time_s / s.stride_time_s, lo), hi)
        out.append(StrideSpec(s.stride_time_s, frac, s.stride_length_m, turn))
    return out


def _scenario(
    name: str,
    description: str,
    sc: st.Scenario,
    rest_s: float,
    track: bool = False,
) -> Scenario:
    bout = Bout(tuple(_specs(sc.strides, track)), rest_s=rest_s)
    return Scenario(name, description, (bout,), tuple(sc.change_points))


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(int(check("seed", seed)))


def steady_400(
    speed_mps: float = 8.0, cadence_spm: float | None = None, seed: int = 0, rest_s: float = 2.0
) -> Scenario:
    p = profile(speed_mps, cadence_spm, "steady")
    sc = st.rep(_rng(seed), p, 400.0, fatigue_from_m=None)
    return _scenario(
        "steady-400", f"400 m at {speed_mps:g} m/s, held to the line", sc, rest_s, True
    )


def fatigue_400(
    speed_mps: float = 8.0, cadence_spm: float | None = None, seed: int = 0, rest_s: float = 2.0
) -> Scenario:
    p = profile(speed_mps, cadence_spm, "fatigue")
    # over the last 100 m: strides 15 % shorter and 6 % slower, i.e. ~20 % less speed
    sc = st.rep(_rng(seed), p, 400.0, 300.0, fatigue_drop=0.15, fatigue_slowdown=0.06)
    text = f"400 m from {speed_mps:g} m/s, fading by ~20 % over the last 100 m"
    return _scenario("fatigue-400", text, sc, rest_s, True)


def cadence_reps(
    top_speed_mps: float = 9.0,
    effort: float = 0.9,
    reps: int = 3,
    distance_m: float = 500.0,
    recovery_s: float = 60.0,
    seed: int = 0,
    rest_s: float = 2.0,
) -> Scenario:
    check("top_speed_mps", top_speed_mps)
    check("effort", effort)
    check("reps", reps)
    check("distance_m", distance_m)
    check("recovery_s", recovery_s)
    p = profile(top_speed_mps * effort, None, "reps")
    sc = st.session(_rng(seed), p, int(reps), distance_m, jog_s=recovery_s, fatigue_from_m=None)
    text = f"{int(reps)} x {distance_m:g} m at {effort:.0%} of {top_speed_mps:g} m/s, jog between"
    return _scenario("cadence-reps", text, sc, rest_s, True)


def rhythm_loss(
    speed_mps: float = 8.0,
    cv_after: float = 0.06,
    before: int = 60,
    after: int = 60,
    seed: int = 0,
    rest_s: float = 2.0,
) -> Scenario:
    check("cv_after", cv_after)
    check("before", before)
    check("after", after)
    p = profile(speed_mps, None, "rhythm")
    sc = st.rhythm_irregular(_rng(seed), p, cv_after, int(before), int(after))
    text = f"stride-time CV rising from 2 % to {cv_after:.0%} after {before} strides"
    return _scenario("rhythm-loss", text, sc, rest_s)


def rhythm_drift(
    speed_mps: float = 8.0,
    drift: float = 0.06,
    before: int = 60,
    after: int = 60,
    seed: int = 0,
    rest_s: float = 2.0,
) -> Scenario:
    check("drift", drift)
    check("before", before)
    check("after", after)
    p = profile(speed_mps, None, "drift")
    sc = st.rhythm_drift(_rng(seed), p, drift, int(before), int(after), ramp_strides=10)
    text = f"stride time drifting {drift:.0%} slower after {before} strides"
    return _scenario("rhythm-drift", text, sc, rest_s)


def _shortening(drop: float) -> Callable[..., Scenario]:
    def make(
        speed_mps: float = 8.0,
        before: int = 60,
        after: int = 60,
        seed: int = 0,
        rest_s: float = 2.0,
    ) -> Scenario:
        check("before", before)
        check("after", after)
        p = profile(speed_mps, None, "shortening")
        sc = st.shortening(_rng(seed), p, drop, int(before), int(after))
        text = f"strides {drop:.0%} shorter after {before} strides, rhythm held"
        return _scenario(f"shortening-{round(drop * 100)}", text, sc, rest_s)

    return make


def relay_leg(
    speed_mps: float = 9.5, distance_m: float = 100.0, seed: int = 0, rest_s: float = 2.0
) -> Scenario:
    check("distance_m", distance_m)
    p = profile(speed_mps, None, "relay")
    rng = _rng(seed)
    run = st.rep(rng, p, distance_m, fatigue_from_m=None, settle_strides=14)
    # hand-off: the runner eases down over ~8 strides to a jog, then stops
    last = run.strides[-1]
    ease = []
    for k in range(1, 9):
        f = 1.0 - 0.75 * k / 8.0
        v = max(last.speed_mps * f, 2.0)
        prof = profile(v, None, "ease")
        ease.append(
            st.StrideTruth(0.0, prof.stride_time_s, prof.contact_time_s, prof.stride_length_m, v)
        )
    strides = [*run.strides, *ease]
    cps = (*run.change_points, st.ChangePoint(len(run.strides), "rep_end"))
    bout = Bout(tuple(_specs(strides, True)), rest_s=rest_s)
    text = f"relay leg: standing start, {distance_m:g} m at up to {speed_mps:g} m/s, hand-off"
    return Scenario("relay-leg", text, (bout,), cps)


def rep(
    speed_mps: float = 6.0,
    distance_m: float = 400.0,
    fade_from: float | None = None,
    fade: float = 0.15,
    seed: int = 0,
    rest_s: float = 2.0,
) -> Scenario:
    """One rep of any distance on the track; with ``fade_from``, fading to the finish."""
    check("distance_m", distance_m)
    p = profile(speed_mps, None, "rep")
    at_m = None
    if fade_from is not None:
        at_m = check("fade_from", fade_from) * distance_m
        check("fade", fade)
    sc = st.rep(_rng(seed), p, distance_m, at_m, fatigue_drop=fade, fatigue_slowdown=0.4 * fade)
    text = f"{distance_m:g} m at {speed_mps:g} m/s" + (
        f", fading {fade:.0%} from {at_m:g} m" if at_m is not None else ""
    )
    return _scenario("rep", text, sc, rest_s, True)


def steady(
    speed_mps: float = 4.0,
    cadence_spm: float | None = None,
    strides: int = 60,
    seed: int = 0,
    rest_s: float = 2.0,
) -> Scenario:
    check("strides", strides)
    p = profile(speed_mps, cadence_spm, "steady")
    sc = st.steady(_rng(seed), p, int(strides))
    return _scenario("steady", f"{strides} strides at {speed_mps:g} m/s", sc, rest_s)


def walk(
    walk_speed_mps: float = 1.3, strides: int = 30, seed: int = 0, rest_s: float = 2.0
) -> Scenario:
    check("walk_speed_mps", walk_speed_mps)
    check("strides", strides)
    stride_s = 120.0 / (95.0 + 12.0 * walk_speed_mps)
    p = st.Profile("walk", stride_s, walk_speed_mps * stride_s, 0.62 * stride_s)
    sc = st.steady(_rng(seed), p, int(strides))
    return _scenario("walk", f"walking at {walk_speed_mps:g} m/s", sc, rest_s)


NAMES: dict[str, Callable[..., Scenario]] = {
    "steady-400": steady_400,
    "fatigue-400": fatigue_400,
    "cadence-reps": cadence_reps,
    "rhythm-loss": rhythm_loss,
    "rhythm-drift": rhythm_drift,
    "shortening-3": _shortening(0.03),
    "shortening-5": _shortening(0.05),
    "shortening-10": _shortening(0.10),
    "relay-leg": relay_leg,
    "rep": rep,
    "steady": steady,
    "walk": walk,
}


def parameters(name: str) -> tuple[str, ...]:
    """The parameters scenario ``name`` takes; ConfigError names an unknown scenario."""
    make = NAMES.get(name)
    if make is None:
        raise ConfigError(f"unknown scenario {name!r}: allowed {', '.join(NAMES)}")
    return make.__code__.co_varnames[: make.__code__.co_argcount]


def parse_params(pairs: Iterable[str], example: str) -> dict[str, float]:
    """``["speed_mps=6", "seed=2"]`` -> ``{"speed_mps": 6.0, "seed": 2.0}``.

    ``example`` is one pair written the way its source takes it (``--param speed_mps=7``,
    ``sim:rep,speed_mps=6``): a ConfigError names the bad pair and shows the example.
    """
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        try:
            out[key] = float(value)
        except ValueError:
            sep = ""
        if not (sep and key):
            raise ConfigError(
                f"scenario parameter {pair!r} must be NAME=NUMBER, e.g. {example}"
            ) from None
    return out


def check_params(name: str, given: Iterable[str], also: Mapping[str, str] | None = None) -> None:
    """ConfigError unless scenario ``name`` takes every parameter named in ``given``.

    ``also`` holds the caller's own parameters beside the scenario's (name -> what it is,
    e.g. the simulated pod's playback ``speed``): allowed, and listed in the error.
    """
    takes = parameters(name)
    own = also or {}
    for key in given:
        if key not in takes and key not in own:
            allowed = [*takes, *(f"{k} ({what})" for k, what in own.items())]
            raise ConfigError(
                f"scenario {name!r} has no parameter {key!r}: allowed {', '.join(allowed)}"
            )


def build(name: str, **params: float) -> Scenario:
    """The scenario ``name`` with ``params``; ConfigError names a bad name or field."""
    check_params(name, params)
    make = NAMES[name]
    try:
        return make(**params)
    except ConfigError as e:
        if str(e).split("=")[0] in LIMITS:  # a drawn stride no athlete can run
            given = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
            raise ConfigError(
                f"scenario {name!r} ({given}) drew an impossible stride: {e}; "
                "use milder parameters (lower cv_after, drift or speed)"
            ) from None
        raise
    except ValueError as e:  # from the stride-level generators
        raise ConfigError(f"scenario {name!r}: {e}") from None
