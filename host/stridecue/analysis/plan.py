"""A split plan as a coach writes it: where the athlete should be, and when.

A plan is a list of checkpoints, each a cumulative distance and the time the athlete
should reach it, starting from the rep's start (0 m at 0 s). Between checkpoints the
plan is run at even pace (linear interpolation); past the last one at the last
segment's pace. Three ways to write one (``--plan SPEC``):

- ``100:11.5,200:24,400:50``: checkpoints, metres:seconds, increasing in both;
- ``even:50`` (50 s for 400 m, 12.5 s every 100 m) or ``even:75/600`` (75 s for 600 m);
- ``shape:50``: a 400 m in 50 s with the usual race shape (first 100 m with the start,
  the second the fastest, the last the slowest: 24.5 / 23.5 / 24.5 / 27.5 %).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from stridecue.errors import ConfigError

#: share of a 400 m each 100 m takes in a well-run race (``shape:``)
SHAPE_400 = (0.245, 0.235, 0.245, 0.275)
#: the longest rep a plan may describe (m) and the longest time (s)
MAX_DISTANCE_M = 10_000.0
MAX_TIME_S = 3_600.0
#: faster than the fastest 100 m ever run (12.4 m/s at its peak): a typo in the seconds
MAX_SPEED_MPS = 13.0
#: the shortest rep a plan is for (as a told rep distance, analysis.targets)
MIN_DISTANCE_M = 20.0

_HELP = "write e.g. 100:11.5,200:24,400:50 (metres:seconds), even:50 or shape:50"


def _number(text: str, what: str, spec: str) -> float:
    if re.fullmatch(r"\s*\d+,\d+\s*", text):  # even:11,5
        raise ConfigError(f"plan {spec!r}: write decimals with a dot (11.5, not 11,5); {_HELP}")
    try:
        v = float(text)
    except ValueError:
        raise ConfigError(
            f"plan {spec!r}: {what} {text.strip()!r} is not a number; {_HELP}"
        ) from None
    if not math.isfinite(v) or v <= 0.0:
        raise ConfigError(f"plan {spec!r}: {what} {text.strip()!r} must be above 0; {_HELP}")
    return v


@dataclass(frozen=True, slots=True)
class Plan:
    """Checkpoints ``((metres, seconds), ...)``, both strictly increasing, from (0, 0)."""

    checkpoints: tuple[tuple[float, float], ...]
    spec: str = ""

    def __post_init__(self) -> None:
        shown = self.spec or ",".join(f"{m:g}:{s:g}" for m, s in self.checkpoints)
        if not self.checkpoints:
            raise ConfigError(f"plan {shown!r} has no checkpoints; {_HELP}")
        prev_m = prev_s = 0.0
        for m, s in self.checkpoints:
            if not (math.isfinite(m) and math.isfinite(s)) or m > MAX_DISTANCE_M or s > MAX_TIME_S:
                raise ConfigError(
                    f"plan {shown!r}: {m:g} m at {s:g} s is out of range: allowed up to "
                    f"{MAX_DISTANCE_M:g} m and {MAX_TIME_S:g} s"
                )
            if m <= prev_m or s <= prev_s:
                raise ConfigError(
                    f"plan {shown!r} is not increasing: {m:g} m at {s:g} s after "
                    f"{prev_m:g} m at {prev_s:g} s; distances and times must both increase"
                )
            if (m - prev_m) / (s - prev_s) > MAX_SPEED_MPS:
                raise ConfigError(
                    f"plan {shown!r}: {m - prev_m:g} m in {s - prev_s:g} s is faster than anyone "
                    f"runs (over {MAX_SPEED_MPS:g} m/s); check the seconds"
                )
            prev_m, prev_s = m, s
        if prev_m < MIN_DISTANCE_M:
            raise ConfigError(
                f"plan {shown!r} ends at {prev_m:g} m: a plan covers at least "
                f"{MIN_DISTANCE_M:g} m (the shortest rep)"
            )
        if not self.spec:
            object.__setattr__(self, "spec", shown)

    @classmethod
    def parse(cls, spec: str) -> Plan:
        """A plan from its written form (see the module doc); ConfigError in one line."""
        text = spec.strip()
        kind, sep, rest = text.partition(":")
        kind = kind.strip().lower()
        if sep and kind == "even":
            secs, slash, dist = rest.partition("/")
            total_s = _number(secs, "time", spec)
            total_m = _number(dist, "distance", spec) if slash else 400.0
            return cls(((total_m, total_s),), text)
        if sep and kind == "shape":
            if "/" in rest:
                raise ConfigError(
                    f"plan {spec!r}: shape: is a 400 m race shape, with no distance; write "
                    "shape:50, or even:93/600 or checkpoints for another rep"
                )
            return cls.shape_400(_number(rest, "time", spec), text)
        points = []
        prev_s = ""
        for part in text.split(","):
            m, colon, s = part.partition(":")
            if not colon:
                if part.strip().isdigit() and prev_s.strip().isdigit():  # 100:11,5
                    raise ConfigError(
                        f"plan {spec!r}: write decimals with a dot (11.5, not 11,5); {_HELP}"
                    )
                raise ConfigError(f"plan {spec!r}: {part.strip()!r} is not metres:seconds; {_HELP}")
            points.append((_number(m, "distance", spec), _number(s, "time", spec)))
            prev_s = s
        return cls(tuple(points), text)

    @classmethod
    def for_rep(cls, spec: str, rep_m: float | None) -> Plan:
        """The plan ``spec`` for reps of ``rep_m`` metres (None: unknown, as :meth:`parse`).

        A bare ``even:S`` runs S seconds over the rep (``even:93`` for a 600 m rep is
        ``even:93/600``, as in the roster), and a plan whose last checkpoint lies past the
        rep (a 600 m plan given to a 400 m rep) is refused in one line."""
        if rep_m is not None and not (math.isfinite(rep_m) and rep_m > 0.0):
            rep_m = None  # a bad rep distance is refused where it is checked
        kind, sep, rest = spec.strip().partition(":")
        bare_even = sep and kind.strip().lower() == "even" and "/" not in rest
        if rep_m is not None and rep_m != 400.0 and bare_even:
            spec = f"even:{rest.strip()}/{rep_m:g}"
        plan = cls.parse(spec)
        if rep_m is not None and plan.distance_m > rep_m + 1e-6:
            raise ConfigError(
                f"plan {plan.spec!r} ends at {plan.distance_m:g} m, past the {rep_m:g} m rep; "
                f"give a plan that ends at {rep_m:g} m (e.g. even:SECONDS) or the rep's distance"
            )
        return plan

    @classmethod
    def shape_400(cls, goal_s: float, spec: str = "") -> Plan:
        """A 400 m in ``goal_s`` with the race shape :data:`SHAPE_400`."""
        points = []
        elapsed = 0.0
        for i, share in enumerate(SHAPE_400):
            elapsed += goal_s * share
            points.append((100.0 * (i + 1), round(elapsed, 3)))
        return cls(tuple(points), spec or f"shape:{goal_s:g}")

    @property
    def distance_m(self) -> float:
        """The last checkpoint's distance (the rep the plan is for)."""
        return self.checkpoints[-1][0]

    def plan_elapsed_s(self, at_m: float) -> float:
        """When the plan has the athlete at ``at_m`` metres (interpolated, s from the start)."""
        prev_m = prev_s = 0.0
        for m, s in self.checkpoints:
            if at_m <= m:
                return prev_s + (s - prev_s) * (at_m - prev_m) / (m - prev_m)
            prev_m, prev_s = m, s
        # past the last checkpoint: the last segment's pace
        if len(self.checkpoints) > 1:
            m0, s0 = self.checkpoints[-2]
        else:
            m0, s0 = 0.0, 0.0
        return prev_s + (at_m - prev_m) * (prev_s - s0) / (prev_m - m0)

    def split_times_s(self, split_m: float = 100.0) -> tuple[float, ...]:
        """Planned time of each ``split_m`` segment up to the plan's distance."""
        n = int(self.distance_m / split_m + 1e-9)
        marks = [self.plan_elapsed_s(split_m * k) for k in range(n + 1)]
        return tuple(round(b - a, 2) for a, b in itertools.pairwise(marks))
