"""Relay exchanges from two runners' strides on one timeline: pure functions.

Positions are metres along the track with 0 at the start of the exchange zone, where
the outgoing runner stands. The incoming runner is at ``-approach_m`` when their first
stride begins and moves on by each stride's length; the outgoing runner is at 0 until
their first stride begins. A stride runs from ``t_s - stride_time_s`` to ``t_s`` (its
ending contact) and position is linear in time within it. The check mark is at
``-mark_m``: the outgoing runner goes when the incoming runner reaches it.

Everything here is exact arithmetic on those piecewise-linear paths: the hand-off is
the first time the gap (outgoing minus incoming position) closes to an arm's reach,
found by linear interpolation between the paths' corners, and the check-mark advice
re-runs the same exchange with the outgoing runner's measured run started earlier or
later (so their acceleration counts), against the incoming runner's measured run
(extended at their last speed). The errors therefore all come from the strides: a
stride-length bias ``b`` puts the incoming runner ``b`` x the distance they have run
off, which the hand-off point inherits (see docs/relay.md and benchmarks/relay.py).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets
from stridecue.errors import StrideCueError

REACH_M = 1.5  # arms' reach between the two runners at the hand-off
FOOT_M = 0.3  # one of the coach's foot lengths when pacing out a check mark
TARGET_M = 20.0  # where in a 30 m zone the coach wants the baton to change hands
ZONE_SPRINT_M = 30.0  # 4 x 100 m (World Athletics since 2018)
ZONE_LONG_M = 20.0  # 4 x 200 m, 4 x 400 m and longer
SLOWED_FRACTION = 0.06  # the incoming runner's last strides this much below their pace
PACE_STRIDES = 3  # strides averaged for a speed (the leg's pace and the last strides)


class RelayError(StrideCueError):
    """Relay input that cannot be analysed (one line, in the coach's terms)."""


class StrideLike(Protocol):
    """Anything with a stride's ending contact, duration and length."""

    @property
    def t_s(self) -> float: ...
    @property
    def stride_time_s(self) -> float: ...
    @property
    def stride_length_m(self) -> float: ...


@dataclass(frozen=True, slots=True)
class S:
    """A plain stride: ``t_s`` is the contact that ends it."""

    t_s: float
    stride_time_s: float
    stride_length_m: float


class Path:
    """One runner's position over time: corners (t, x), linear between them.

    Before the first corner the runner stands at the first position; after the last
    corner they stand still, or with ``extend`` run on at their last stride's speed.
    """

    def __init__(self, strides: Sequence[StrideLike], start_m: float) -> None:
        if not strides:
            raise RelayError("no strides")
        ts: list[float] = []
        xs: list[float] = []
        speeds: list[float] = []
        x = start_m
        for s in strides:
            begin = s.t_s - s.stride_time_s
            if ts and begin < ts[-1]:
                begin = ts[-1]  # rounding: a stride cannot begin before the last one ended
            if not ts or begin > ts[-1]:
                ts.append(begin)
                xs.append(x)
                speeds.append(0.0)  # standing between the last stride and this one
            x += s.stride_length_m
            end = max(s.t_s, ts[-1] + 1e-9)
            speeds[-1] = (x - xs[-1]) / (end - ts[-1])
            ts.append(end)
            xs.append(x)
            speeds.append(0.0)
        self.t = ts
        self.x = xs
        self._v = speeds  # speed on the segment that starts at corner i
        self.last_speed_mps = speeds[-2] if len(speeds) >= 2 else 0.0

    @property
    def t0(self) -> float:
        return self.t[0]

    @property
    def t1(self) -> float:
        return self.t[-1]

    def at(self, t: float, extend: bool = False) -> float:
        if t <= self.t[0]:
            return self.x[0]
        if t >= self.t[-1]:
            return self.x[-1] + (self.last_speed_mps * (t - self.t[-1]) if extend else 0.0)
        i = bisect.bisect_right(self.t, t) - 1
        return self.x[i] + self._v[i] * (t - self.t[i])

    def speed(self, t: float, extend: bool = False) -> float:
        if t < self.t[0]:
            return 0.0
        if t >= self.t[-1]:
            return self.last_speed_mps if extend else 0.0
        return self._v[bisect.bisect_right(self.t, t) - 1]

    def time_at(self, x: float, extend: bool = False) -> float | None:
        """The first time the runner reaches position ``x`` (None: never)."""
        if x <= self.x[0]:
            return self.t[0]
        for i in range(1, len(self.t)):
            if self.x[i] >= x:
                v = self._v[i - 1]
                return self.t[i] if v <= 0 else self.t[i - 1] + (x - self.x[i - 1]) / v
        if extend and self.last_speed_mps > 0:
            return self.t[-1] + (x - self.x[-1]) / self.last_speed_mps
        return None


def _first_close(
    incoming: Path, outgoing: Path, reach_m: float, shift_s: float, t_from: float, t_to: float
) -> float | None:
    """First t in [t_from, t_to] with outgoing(t + shift) - incoming(t) <= reach (exact)."""

    def gap(t: float) -> float:
        return outgoing.at(t + shift_s, extend=True) - incoming.at(t, extend=True)

    corners = {t_from, t_to}
    corners.update(t for t in incoming.t if t_from < t < t_to)
    corners.update(t - shift_s for t in outgoing.t if t_from < t - shift_s < t_to)
    ts = sorted(corners)
    prev_t, prev_g = ts[0], gap(ts[0])
    if prev_g <= reach_m:
        return prev_t
    for t in ts[1:]:
        g = gap(t)
        if g <= reach_m:  # linear between corners: interpolate the crossing
            return prev_t + (prev_g - reach_m) / (prev_g - g) * (t - prev_t)
        prev_t, prev_g = t, g
    return None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One baton exchange, measured. Times on the common clock, positions from the zone."""

    approach_m: float
    mark_m: float
    zone_m: float
    reach_m: float
    target_m: float
    foot_m: float
    start_t_s: float  # the outgoing runner's first stride begins
    incoming_at_start_m: float  # where the incoming runner was then (the mark is -mark_m)
    handoff_t_s: float | None  # the gap first closes to reach_m (None: it never did)
    handoff_zone_m: float | None  # the outgoing runner's position then
    incoming_speed_mps: float | None
    outgoing_speed_mps: float | None
    incoming_slowed: bool
    incoming_pace_mps: float  # best speed over PACE_STRIDES strides before the hand-off
    incoming_last_mps: float | None  # over their last PACE_STRIDES strides to the hand-off
    mark_advice_m: float | None  # metres to add to mark_m for a hand-off at target_m
    zone_time_s: float | None  # baton in at the zone's start to out at its end
    gap: list[tuple[float, float]] = field(default_factory=list)  # (t_s, metres), 0.1 s apart

    @property
    def in_zone(self) -> bool:
        x = self.handoff_zone_m
        return x is not None and 0.0 <= x <= self.zone_m

    @property
    def mark_is_right(self) -> bool:
        """No move worth a coach's word: under half a foot, with the hand-off in the zone."""
        a = self.mark_advice_m
        return a is not None and abs(a) < 0.5 * self.foot_m and self.in_zone

    @property
    def started_early_m(self) -> float:
        """How far before the mark the incoming runner still was at the start (+: early)."""
        return -self.mark_m - self.incoming_at_start_m

    @property
    def mark_advice_feet(self) -> float | None:
        a = self.mark_advice_m
        return None if a is None else a / self.foot_m

    def as_json(self) -> dict[str, Any]:
        def r(v: float | None, nd: int = 3) -> float | None:
            return None if v is None else round(v, nd)

        return {
            "start_t_s": r(self.start_t_s),
            "incoming_at_start_m": r(self.incoming_at_start_m),
            "handoff_t_s": r(self.handoff_t_s),
            "handoff_zone_m": r(self.handoff_zone_m),
            "in_zone": self.in_zone,
            "incoming_speed_mps": r(self.incoming_speed_mps),
            "outgoing_speed_mps": r(self.outgoing_speed_mps),
            "incoming_slowed": self.incoming_slowed,
            "incoming_pace_mps": r(self.incoming_pace_mps),
            "incoming_last_mps": r(self.incoming_last_mps),
            "mark_advice_m": r(self.mark_advice_m),
            "mark_advice_feet": r(self.mark_advice_feet, 1),
            "zone_time_s": r(self.zone_time_s),
            "leg_m": self.approach_m,
            "mark_m": self.mark_m,
            "zone_m": self.zone_m,
            "reach_m": self.reach_m,
            "target_m": self.target_m,
            "gap_m": [[round(t, 2), round(g, 2)] for t, g in self.gap],
        }


_EXAMPLE = {
    "team": '["Ana", "Bea", "Cleo", "Dee"]',
    "legs_m": "[100, 100, 100, 100]",
    "zones_m": "[30, 30, 30]",
    "marks_m": "[10.8, 10.2, 10.5]",
    "marks_feet": "[36, 34, 35]",
    "approach_m": "[80, 100, 100]",
    "targets_s": "[10.9, 9.6, 9.9, 9.5]",
}


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise RelayError(f"{name}={value:g} must be a positive number of metres")


def exchange(
    incoming: Sequence[StrideLike],
    outgoing: Sequence[StrideLike],
    *,
    approach_m: float,
    mark_m: float,
    zone_m: float = ZONE_SPRINT_M,
    reach_m: float = REACH_M,
    target_m: float = TARGET_M,
    foot_m: float = FOOT_M,
    slowed_fraction: float = SLOWED_FRACTION,
) -> Exchange:
    """Measure the exchange between ``incoming`` and ``outgoing`` (strides, one clock).

    ``approach_m``: the incoming runner's distance from their first stride to the zone
    (the CLI's ``--leg-m``); ``mark_m``: the check mark's distance before the zone.
    RelayError for input that cannot give an exchange.
    """
    for name, v in (
        ("leg", approach_m),
        ("mark", mark_m),
        ("zone", zone_m),
        ("reach", reach_m),
        ("foot", foot_m),
    ):
        _check_positive(name, v)
    if not (math.isfinite(target_m) and 0.0 <= target_m <= zone_m):
        raise RelayError(f"target={target_m:g} m must be within the zone, 0..{zone_m:g} m")
    if not incoming:
        raise RelayError("the incoming runner has no strides")
    t_in = incoming[0].t_s - incoming[0].stride_time_s
    # the outgoing runner's strides from before the incoming runner set off: warming up
    run = [s for s in outgoing if s.t_s - s.stride_time_s >= t_in]
    if not run:
        raise RelayError(
            "the outgoing runner never starts: no stride begins after the incoming runner's "
            f"first ({t_in:.2f} s); are both files from the same exchange, on one clock?"
        )
    inc = Path(incoming, -approach_m)
    out = Path(run, 0.0)
    start = out.t0
    if inc.t1 <= start:
        raise RelayError(
            f"no overlap in time: the incoming runner's strides end at {inc.t1:.2f} s, before "
            f"the outgoing runner starts at {start:.2f} s; are both files on one clock?"
        )
    t_h = _first_close(inc, out, reach_m, 0.0, inc.t0, min(inc.t1, out.t1))
    x_h = v_in = v_out = None
    if t_h is not None:
        x_h = out.at(t_h)
        v_in = inc.speed(t_h)
        v_out = out.speed(t_h)
    pace, last = _pace(incoming, t_h if t_h is not None else inc.t1)
    slowed = last is not None and pace > 0 and last < (1.0 - slowed_fraction) * pace
    advice = _mark_advice(inc, out, reach_m, target_m)
    return Exchange(
        approach_m=approach_m,
        mark_m=mark_m,
        zone_m=zone_m,
        reach_m=reach_m,
        target_m=target_m,
        foot_m=foot_m,
        start_t_s=start,
        incoming_at_start_m=inc.at(start),
        handoff_t_s=t_h,
        handoff_zone_m=x_h,
        incoming_speed_mps=v_in,
        outgoing_speed_mps=v_out,
        incoming_slowed=slowed,
        incoming_pace_mps=pace,
        incoming_last_mps=last,
        mark_advice_m=advice,
        zone_time_s=_zone_time(inc, out, t_h, zone_m),
        gap=_gap_series(inc, out, start, t_h),
    )


def _pace(strides: Sequence[StrideLike], t_h: float) -> tuple[float, float | None]:
    """(best, last) speed over PACE_STRIDES strides of the leg up to the hand-off."""
    upto = [s for s in strides if s.t_s - s.stride_time_s < t_h]
    n = PACE_STRIDES
    if len(upto) < 2 * n:
        return 0.0, None

    def speed(group: Sequence[StrideLike]) -> float:
        t = sum(s.stride_time_s for s in group)
        return sum(s.stride_length_m for s in group) / t if t > 0 else 0.0

    best = max(speed(upto[i : i + n]) for i in range(len(upto) - n + 1))
    return best, speed(upto[-n:])


def _zone_time(inc: Path, out: Path, t_h: float | None, zone_m: float) -> float | None:
    """The baton's time through the zone: in with the incoming runner, out with the outgoing."""
    if t_h is None:
        return None
    t_in = inc.time_at(0.0)
    t_out = out.time_at(zone_m)
    if t_in is None or t_out is None:
        return None
    if inc.at(t_h) >= zone_m:  # the baton left the zone before it changed hands
        t_out = inc.time_at(zone_m)
        if t_out is None:
            return None
    return t_out - t_in


def _gap_series(inc: Path, out: Path, start: float, t_h: float | None) -> list[tuple[float, float]]:
    end = t_h if t_h is not None else min(inc.t1, out.t1)
    n = max(0, int((end - start) / 0.1 + 1e-9))
    pts = [start + 0.1 * k for k in range(n + 1)]
    if t_h is not None and (not pts or pts[-1] < t_h - 1e-9):
        pts.append(t_h)
    return [(t, out.at(t) - inc.at(t)) for t in pts]


def _shifted_handoff(inc: Path, out: Path, reach_m: float, shift_s: float) -> float:
    """Where the hand-off lands (outgoing position) with the outgoing runner starting
    ``shift_s`` earlier; +inf when the incoming runner would never catch them."""
    t_to = max(inc.t1, out.t1 - shift_s) + 10.0
    t = _first_close(inc, out, reach_m, shift_s, inc.t0, t_to)
    return math.inf if t is None else out.at(t + shift_s, extend=True)


def _mark_advice(inc: Path, out: Path, reach_m: float, target_m: float) -> float | None:
    """Metres to add to the check mark so that, with today's runs, the hand-off is at
    ``target_m``: the outgoing runner's start moves by the time the incoming runner
    takes over those metres; their own run is the one measured, so acceleration counts."""
    lo, hi = -4.0, 4.0  # seconds earlier (+) or later (-) the outgoing runner would go
    f_lo = _shifted_handoff(inc, out, reach_m, lo)
    f_hi = _shifted_handoff(inc, out, reach_m, hi)
    if not f_lo <= target_m <= f_hi:
        return None
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _shifted_handoff(inc, out, reach_m, mid) < target_m:
            lo = mid
        else:
            hi = mid
    dt = 0.5 * (lo + hi)
    start = out.t0
    return inc.at(start, extend=True) - inc.at(start - dt, extend=True)


# --- the practice setup: team, legs, zones, check marks ---


def zone_before_line_m(zone_m: float) -> float:
    """How far before the leg's line the zone begins: 20 m of a 30 m zone, else half."""
    return 20.0 if zone_m == ZONE_SPRINT_M else zone_m / 2.0


@dataclass(frozen=True, slots=True)
class RelaySetup:
    """A relay practice: runners in order, their legs, and per exchange its zone and mark.

    ``marks_m[i]`` and ``zones_m[i]`` belong to exchange i (runner i to runner i + 1).
    ``approach_m[i]`` is runner i's distance from their first stride to zone i; by
    default the leg less the part of the zone before the line, plus (from the second
    runner on) the part of their own take-over zone before their start line.
    ``targets_s`` are the planned leg times (optional). ``go_buzz`` (experimental): buzz
    each outgoing runner's pod as the incoming runner reaches the mark
    (:mod:`stridecue.gobuzz`; off unless asked for).
    """

    team: tuple[str, ...]
    legs_m: tuple[float, ...]
    zones_m: tuple[float, ...] = ()
    marks_m: tuple[float, ...] = ()
    approach_m: tuple[float, ...] = ()
    targets_s: tuple[float, ...] = ()
    target_m: float = TARGET_M
    reach_m: float = REACH_M
    foot_m: float = FOOT_M
    go_buzz: bool = False

    def __post_init__(self) -> None:
        n = len(self.team)
        if not 2 <= n <= 4 or len(set(self.team)) != n or not all(self.team):
            raise RelayError(f"a relay team is 2 to 4 different runners, got {list(self.team)}")
        if len(self.legs_m) != n:
            raise RelayError(f"{n} runners need {n} leg distances, got {len(self.legs_m)}")
        for v in self.legs_m:
            _check_positive("leg", v)
        if not self.zones_m:
            zone = ZONE_SPRINT_M if max(self.legs_m) <= 100.0 else ZONE_LONG_M
            object.__setattr__(self, "zones_m", (zone,) * (n - 1))
        if not self.approach_m:
            object.__setattr__(self, "approach_m", self._default_approach())
        for name in ("zones_m", "marks_m", "approach_m"):
            vals = getattr(self, name)
            if len(vals) != n - 1:
                also = " (or marks_feet)" if name == "marks_m" else ""
                raise RelayError(f"{n} runners make {n - 1} exchanges: {name}{also} needs {n - 1}")
            for v in vals:
                _check_positive(name.removesuffix("_m"), v)
        if self.targets_s and len(self.targets_s) != n:
            raise RelayError(f"{n} runners need {n} target times, got {len(self.targets_s)}")
        for v in self.targets_s:
            if not (math.isfinite(v) and v > 0):
                raise RelayError(f"target time {v:g} s must be positive")
        for name in ("reach_m", "foot_m"):
            _check_positive(name.removesuffix("_m"), getattr(self, name))
        if not 0.0 <= self.target_m <= min(self.zones_m):
            raise RelayError(f"target={self.target_m:g} m must be within every zone")

    def _default_approach(self) -> tuple[float, ...]:
        out = []
        for i in range(len(self.team) - 1):
            a = self.legs_m[i] - zone_before_line_m(self.zones_m[i])
            if i > 0:
                a += zone_before_line_m(self.zones_m[i - 1])
            out.append(a)
        return tuple(out)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RelaySetup:
        """From a relay file's (or session.json's) table; marks may be given in feet."""
        if not isinstance(d, dict):
            raise RelayError("a relay setup is a table of team, legs_m, marks_m (or marks_feet)")
        known = {
            "team", "legs_m", "zones_m", "marks_m", "marks_feet", "approach_m",
            "targets_s", "target_m", "reach_m", "foot_m", "go_buzz",
        }  # fmt: skip
        unknown = sorted(set(d) - known)
        if unknown:
            raise RelayError(f"unknown relay setting {unknown[0]!r}: allowed {sorted(known)}")
        for key in _EXAMPLE:
            if key in d and not isinstance(d[key], list | tuple):
                # a bare "Ana,Bea" or 100 would be read letter by letter, or not at all
                raise RelayError(f"{key} = {d[key]!r}: give a list, e.g. {key} = {_EXAMPLE[key]}")
        go = d.get("go_buzz", False)
        if not isinstance(go, bool):
            raise RelayError(f"go_buzz = {go!r}: give true or false")
        try:
            foot = float(d.get("foot_m", FOOT_M))
            marks = [float(v) for v in d.get("marks_m", ())]
            if "marks_feet" in d:
                if marks:
                    raise RelayError("give the marks in marks_m or marks_feet, not both")
                marks = [float(v) * foot for v in d["marks_feet"]]
            return cls(
                team=tuple(str(v) for v in d.get("team", ())),
                legs_m=tuple(float(v) for v in d.get("legs_m", ())),
                zones_m=tuple(float(v) for v in d.get("zones_m", ())),
                marks_m=tuple(marks),
                approach_m=tuple(float(v) for v in d.get("approach_m", ())),
                targets_s=tuple(float(v) for v in d.get("targets_s", ())),
                target_m=float(d.get("target_m", TARGET_M)),
                reach_m=float(d.get("reach_m", REACH_M)),
                foot_m=foot,
                go_buzz=go,
            )
        except (TypeError, ValueError) as e:
            raise RelayError(f"relay setup: {e}; numbers are metres or seconds") from None

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": list(self.team),
            "legs_m": list(self.legs_m),
            "zones_m": list(self.zones_m),
            "marks_m": list(self.marks_m),
            "approach_m": list(self.approach_m),
            "targets_s": list(self.targets_s),
            "target_m": self.target_m,
            "reach_m": self.reach_m,
            "foot_m": self.foot_m,
            "go_buzz": self.go_buzz,
        }


# --- legs and the team plan ---


@dataclass(frozen=True, slots=True)
class LegPlan:
    runner: str
    leg_m: float
    target_s: float | None
    projected_s: float | None  # at the runner's measured speed over their run
    diff_s: float | None  # projected - target (+: behind the plan)
    team_target_s: float | None  # cumulative
    team_projected_s: float | None  # cumulative


#: from this leg on the distance preset (a distance medley's 800 m / 1200 m / 1600 m legs)
DISTANCE_LEG_M = 800.0


def leg_targets(setup: RelaySetup, runner: str, targets: Targets) -> Targets:
    """A runner's targets for their leg: the analyzer preset the leg calls for (sprint
    below 800 m, distance from it) and, with a leg target time, an even plan over the leg.

    The leg is not made the rep distance: the rep the analyzer finds runs on past the
    hand-off (the run-out), so scaling it to the leg would shorten every stride.
    """
    i = setup.team.index(runner)
    leg = setup.legs_m[i]
    event = "distance" if leg >= DISTANCE_LEG_M else "sprint"
    plan = targets.plan
    if i < len(setup.targets_s) and setup.targets_s[i] > 0:
        plan = Plan.parse(f"even:{setup.targets_s[i]:g}/{leg:g}")
    return replace(targets, event=event, plan=plan)


def leg_speed_mps(strides: Sequence[StrideLike]) -> float | None:
    """A runner's average speed over their run (their strides' distance over time)."""
    t = sum(s.stride_time_s for s in strides)
    return sum(s.stride_length_m for s in strides) / t if t > 0 else None


def team_plan(setup: RelaySetup, speeds_mps: Sequence[float | None]) -> list[LegPlan]:
    """Each leg's target and projection (leg / measured speed), and the team's running
    totals: the numbers behind the plan table (a display draws them as it likes)."""
    rows = []
    tt: float | None = 0.0
    tp: float | None = 0.0
    for i, name in enumerate(setup.team):
        leg = setup.legs_m[i]
        target = setup.targets_s[i] if setup.targets_s else None
        v = speeds_mps[i] if i < len(speeds_mps) else None
        proj = leg / v if v else None
        tt = tt + target if tt is not None and target is not None else None
        tp = tp + proj if tp is not None and proj is not None else None
        diff = proj - target if proj is not None and target is not None else None
        rows.append(LegPlan(name, leg, target, proj, diff, tt, tp))
    return rows


# --- in a relay coach's words ---


def _m(v: float) -> str:
    return f"{v:.1f} m"


def _clock(t_s: float) -> str:
    """Practice time to the hundredth, as a relay coach reads a watch: ``1:23.85``."""
    m, sec = divmod(max(t_s, 0.0), 60.0)
    return f"{int(m)}:{sec:05.2f}"


def describe(ex: Exchange, incoming: str = "incoming", outgoing: str = "outgoing") -> list[str]:
    """The exchange as a coach would tell it."""
    lines = []
    early = ex.started_early_m
    where = (
        f"{_m(abs(early))} before the mark (went early)"
        if early > 0.05
        else f"{_m(-early)} past the mark (went late)"
        if early < -0.05
        else "on the mark"
    )
    lines.append(f"{outgoing} went at {_clock(ex.start_t_s)} with {incoming} {where}.")
    if ex.handoff_zone_m is None or ex.handoff_t_s is None:
        lines.append(
            f"{incoming} never got within {ex.reach_m:g} m: no hand-off; the mark is too far out."
        )
    else:
        x = ex.handoff_zone_m
        place = (
            f"{_m(x)} into the {ex.zone_m:g} m zone"
            if ex.in_zone
            else f"{_m(-x)} BEFORE the zone (outside it)"
            if x < 0
            else f"{_m(x - ex.zone_m)} PAST the end of the zone (outside it)"
        )
        lines.append(
            f"Hand-off at {_clock(ex.handoff_t_s)}, {place}: {incoming} at "
            f"{ex.incoming_speed_mps or 0:.1f} m/s, "
            f"{outgoing} at {ex.outgoing_speed_mps or 0:.1f} m/s."
        )
    if ex.incoming_slowed and ex.incoming_last_mps is not None:
        lost = 1.0 - ex.incoming_last_mps / ex.incoming_pace_mps
        lines.append(
            f"{incoming} slowed before the hand-off: {ex.incoming_last_mps:.1f} m/s over the "
            f"last strides against {ex.incoming_pace_mps:.1f} m/s in the leg ({lost:.0%} down)."
        )
    if ex.zone_time_s is not None:
        lines.append(f"Baton through the zone in {ex.zone_time_s:.2f} s.")
    a = ex.mark_advice_m
    if a is None:
        lines.append(f"No mark would put the hand-off at {ex.target_m:g} m at these speeds.")
    elif ex.mark_is_right:
        lines.append(f"Check mark ({_m(ex.mark_m)}) is right for a hand-off at {ex.target_m:g} m.")
    else:
        way = "further out" if a > 0 else "closer"
        feet = abs(a) / ex.foot_m
        lines.append(
            f"Move the check mark {_m(abs(a))} ({feet:.0f} foot lengths) {way}, to "
            f"{_m(ex.mark_m + a)}, for a hand-off at {ex.target_m:g} m into the zone."
        )
    return lines


def describe_plan(rows: Sequence[LegPlan]) -> list[str]:
    def s(v: float | None, sign: bool = False) -> str:
        return "-" if v is None else (f"{v:+.2f}" if sign else f"{v:.2f}")

    out = ["runner           leg   target  projected   diff   team plan  team proj."]
    for r in rows:
        out.append(
            f"{r.runner[:14]:14s} {r.leg_m:5.0f} m {s(r.target_s):>7s} {s(r.projected_s):>9s} "
            f"{s(r.diff_s, True):>7s} {s(r.team_target_s):>10s} {s(r.team_projected_s):>10s}"
        )
    return out


#: a longer break between strides ends a run (an attempt at the exchange)
PAUSE_S = 1.5


def runs(strides: Sequence[StrideLike]) -> list[list[StrideLike]]:
    """Strides split into runs at pauses longer than :data:`PAUSE_S`."""
    out: list[list[StrideLike]] = []
    for s in strides:
        if out and s.t_s - s.stride_time_s - out[-1][-1].t_s <= PAUSE_S:
            out[-1].append(s)
        else:
            out.append([s])
    return out


@dataclass(frozen=True)
class Attempt:
    """One exchange found in a session: who to whom, the strides measured, the result."""

    leg: int  # 0: the first runner hands to the second
    incoming: str
    outgoing: str
    incoming_strides: list[StrideLike]
    outgoing_strides: list[StrideLike]
    exchange: Exchange
    setup_no: int = 1  # which setup of the session measured it (1: the first)
    set_at_s: float | None = None  # when that setup was put in force (session seconds)

    @property
    def started_s(self) -> float:
        """When the incoming runner set off on this attempt (their first stride begins)."""
        s = self.incoming_strides[0]
        return s.t_s - s.stride_time_s


def session_attempts(
    team: Sequence[tuple[str, Sequence[StrideLike]]],
    setup: RelaySetup,
    *,
    target_m: float | None = None,
    foot_m: float | None = None,
    slowed_fraction: float = SLOWED_FRACTION,
) -> list[Attempt]:
    """Every exchange practised in a session: each run of a runner during which the
    next runner set off, measured with the setup's legs, marks and zones."""
    out: list[Attempt] = []
    for i in range(len(team) - 1):
        (a_name, a_strides), (b_name, b_strides) = team[i], team[i + 1]
        b_runs = runs(b_strides)
        for attempt in runs(a_strides):
            t0, t1 = attempt[0].t_s - attempt[0].stride_time_s, attempt[-1].t_s
            later = [s for s in b_strides if t0 <= s.t_s - s.stride_time_s < t1]
            if not later:
                continue
            b_run = next(r for r in b_runs if r[0] in later or later[0] in r)
            outgoing = [s for s in b_run if s.t_s - s.stride_time_s >= t0]
            ex = exchange(
                attempt,
                outgoing,
                approach_m=setup.approach_m[i],
                mark_m=setup.marks_m[i],
                zone_m=setup.zones_m[i],
                reach_m=setup.reach_m,
                target_m=setup.target_m if target_m is None else target_m,
                foot_m=setup.foot_m if foot_m is None else foot_m,
                slowed_fraction=slowed_fraction,
            )
            out.append(Attempt(i, a_name, b_name, attempt, outgoing, ex))
    return out


@dataclass(frozen=True, slots=True)
class SetupAt:
    """A setup and when it was put in force, in seconds of the session's clock."""

    t_s: float
    setup: RelaySetup


def history_attempts(
    strides: Mapping[str, Sequence[StrideLike]],
    history: Sequence[SetupAt],
    *,
    target_m: float | None = None,
    foot_m: float | None = None,
    slowed_fraction: float = SLOWED_FRACTION,
) -> list[Attempt]:
    """Every exchange of a session whose coach changed the setup between attempts:
    each attempt measured with the setup in force when the incoming runner set off
    (as the live panel measured it). An attempt before the first setup is measured
    with the first. ``strides``: each runner's strides by name."""
    if not history:
        raise RelayError("no relay setup to measure the exchanges with")
    order = sorted(range(len(history)), key=lambda k: history[k].t_s)
    out: list[Attempt] = []
    for pos, k in enumerate(order):
        h = history[k]
        since = -math.inf if pos == 0 else h.t_s
        until = history[order[pos + 1]].t_s if pos + 1 < len(order) else math.inf
        missing = [n for n in h.setup.team if n not in strides]
        if missing:
            raise RelayError(f"setup {pos + 1} names {missing[0]}, who is not in the session")
        team = [(n, strides[n]) for n in h.setup.team]
        for at in session_attempts(
            team, h.setup, target_m=target_m, foot_m=foot_m, slowed_fraction=slowed_fraction
        ):
            if since <= at.started_s < until:
                out.append(replace(at, setup_no=pos + 1, set_at_s=h.t_s))
    return out


def stored_setups(settings: Mapping[str, Any], host_s: Callable[[int], float]) -> list[SetupAt]:
    """A session's setups with when each was put in force: ``relay_history`` (every setup
    applied, with its host time), or ``relay`` alone (a session with one setup, or
    recorded before the history was kept) from the start. ``host_s``: host ns to
    session seconds. Empty: the session stores no relay setup."""
    return [SetupAt(0.0 if ns is None else host_s(ns), s) for ns, s in stored_history(settings)]


def stored_history(settings: Mapping[str, Any]) -> list[tuple[int | None, RelaySetup]]:
    """(host ns it was applied, setup) for each setup a session stores; None: from the
    start. RelayError (one line) for a history that is not one."""
    history = settings.get("relay_history")
    if isinstance(history, list) and history:
        out: list[tuple[int | None, RelaySetup]] = []
        for k, h in enumerate(history):
            table = h.get("relay") if isinstance(h, dict) else None
            at = h.get("host_ns") if isinstance(h, dict) else None
            if not isinstance(table, dict) or not isinstance(at, int):
                raise RelayError(
                    f"relay_history entry {k + 1} is not a setup with its time; "
                    "give the setup with --relay SETUP.toml"
                )
            out.append((at, RelaySetup.from_dict(table)))
        return out
    stored = settings.get("relay")
    return [(None, RelaySetup.from_dict(stored))] if isinstance(stored, dict) else []


def setup_words(at: Attempt) -> str:
    """The setup an attempt was measured with, in a coach's words (mark, zone)."""
    ex = at.exchange
    when = "" if at.set_at_s is None else f", set at {_clock(at.set_at_s)}"
    return (
        f"setup {at.setup_no}{when}: check mark {_m(ex.mark_m)} "
        f"({ex.mark_m / ex.foot_m:.0f} foot lengths), {ex.zone_m:g} m zone, "
        f"run-up {ex.approach_m:g} m"
    )
