"""A coach's targets for one athlete, checked: rhythm, stride length, 400 m goal, split plan
(:class:`~stridecue.analysis.plan.Plan`; without one, the 400 m goal's usual race shape)
and the rep's true distance."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stridecue.analysis.plan import SHAPE_400, Plan
from stridecue.analysis.settings import EVENTS, AnalyzerSettings
from stridecue.errors import ConfigError

CADENCE_RANGE_SPM = (100.0, 260.0)
STRIDE_LENGTH_RANGE_M = (0.5, 5.0)
GOAL_400_RANGE_S = (40.0, 120.0)
REP_DISTANCE_RANGE_M = (20.0, 10000.0)

# Share of a 400 m each 100 m takes in a well-run race: the first includes the
# start, the second is the fastest, the last is the slowest (typical differential).
SPLIT_SHARES_400 = SHAPE_400


def _check(name: str, value: float | None, lo: float, hi: float, unit: str) -> None:
    if value is not None and not lo <= value <= hi:
        raise ConfigError(f"{name}={value:g} is out of range: allowed {lo:g}..{hi:g} {unit}")


@dataclass(frozen=True, slots=True)
class Targets:
    """Any of cadence (steps/min), stride length (m, one foot's stride), 400 m goal (s),
    split plan and rep distance (m)."""

    cadence_spm: float | None = None
    stride_length_m: float | None = None
    goal_400_s: float | None = None
    plan: Plan | None = None
    rep_distance_m: float | None = None
    #: the analyzer's preset for this athlete (``"sprint"``/``"distance"``, e.g. from a
    #: relay leg); None: the session's
    event: str | None = None

    def __post_init__(self) -> None:
        _check("target cadence", self.cadence_spm, *CADENCE_RANGE_SPM, "steps/min")
        _check("target stride length", self.stride_length_m, *STRIDE_LENGTH_RANGE_M, "m")
        _check("400 m goal", self.goal_400_s, *GOAL_400_RANGE_S, "s")
        _check("rep distance", self.rep_distance_m, *REP_DISTANCE_RANGE_M, "m")
        if self.event is not None and self.event not in EVENTS:
            raise ConfigError(f"event={self.event!r} must be one of {', '.join(EVENTS)}")

    def apply(self, settings: AnalyzerSettings) -> AnalyzerSettings:
        """``settings`` with these targets as the analyzer's (an unset one clears it)."""
        if self.event is not None:
            settings = settings.with_event(self.event)
        return dataclasses.replace(
            settings,
            target_cadence_spm=self.cadence_spm,
            target_stride_length_m=self.stride_length_m,
            goal_400m_s=self.goal_400_s,
            plan=self.plan,
            rep_distance_m=self.rep_distance_m,
        )

    def to_json(self) -> dict[str, float | str | None]:
        """The three numbers always; the plan (its text) and rep distance only when set."""
        out: dict[str, float | str | None] = {
            "cadence_spm": self.cadence_spm,
            "stride_length_m": self.stride_length_m,
            "goal_400_s": self.goal_400_s,
        }
        if self.plan is not None:
            out["plan"] = self.plan.spec
        if self.rep_distance_m is not None:
            out["rep_distance_m"] = self.rep_distance_m
        if self.event is not None:
            out["event"] = self.event
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Targets:
        """Targets from :meth:`to_json`'s keys (others are ignored); missing ones are unset."""
        plan = data.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise ConfigError(f"target plan={plan!r} must be a plan's text or null")
        event = data.get("event")
        if event is not None and not isinstance(event, str):
            raise ConfigError(f"target event={event!r} must be 'sprint', 'distance' or null")
        values: dict[str, float | None] = {}
        for name in ("cadence_spm", "stride_length_m", "goal_400_s", "rep_distance_m"):
            v = data.get(name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            ):
                raise ConfigError(f"target {name}={v!r} must be a number or null")
            values[name] = None if v is None else float(v)
        return cls(
            values["cadence_spm"],
            values["stride_length_m"],
            values["goal_400_s"],
            None if plan is None else Plan.parse(plan),
            values["rep_distance_m"],
            event,
        )

    def effective_plan(self) -> Plan | None:
        """The coach's plan, else the 400 m goal's race shape, else None."""
        if self.plan is not None:
            return self.plan
        if self.goal_400_s is None:
            return None
        return Plan.shape_400(self.goal_400_s)

    def split_plan_s(self) -> tuple[float, ...]:
        """Planned time of each 100 m (the plan's, else the 400 m goal's), or () without."""
        if self.plan is not None:
            return self.plan.split_times_s()
        if self.goal_400_s is None:
            return ()
        return tuple(round(self.goal_400_s * share, 2) for share in SPLIT_SHARES_400)

    def plan_for_split(self, index: int) -> float | None:
        """Planned time of 100 m segment ``index`` (0-based); past 400 m the last one repeats."""
        plan = self.split_plan_s()
        if not plan:
            return None
        return plan[min(index, len(plan) - 1)]
