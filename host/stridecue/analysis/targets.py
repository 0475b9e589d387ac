"""A coach's targets for one athlete, checked, and the 100 m split plan a 400 m goal implies."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stridecue.analysis.settings import AnalyzerSettings
from stridecue.errors import ConfigError

CADENCE_RANGE_SPM = (100.0, 260.0)
STRIDE_LENGTH_RANGE_M = (0.5, 5.0)
GOAL_400_RANGE_S = (40.0, 120.0)

# Share of a 400 m each 100 m takes in a well-run race: the first includes the
# start, the second is the fastest, the last is the slowest (typical differential).
SPLIT_SHARES_400 = (0.245, 0.235, 0.245, 0.275)


def _check(name: str, value: float | None, lo: float, hi: float, unit: str) -> None:
    if value is not None and not lo <= value <= hi:
        raise ConfigError(f"{name}={value:g} is out of range: allowed {lo:g}..{hi:g} {unit}")


@dataclass(frozen=True, slots=True)
class Targets:
    """Any of cadence (steps/min), stride length (m, one foot's stride) and 400 m goal (s)."""

    cadence_spm: float | None = None
    stride_length_m: float | None = None
    goal_400_s: float | None = None

    def __post_init__(self) -> None:
        _check("target cadence", self.cadence_spm, *CADENCE_RANGE_SPM, "steps/min")
        _check("target stride length", self.stride_length_m, *STRIDE_LENGTH_RANGE_M, "m")
        _check("400 m goal", self.goal_400_s, *GOAL_400_RANGE_S, "s")

    def apply(self, settings: AnalyzerSettings) -> AnalyzerSettings:
        """``settings`` with these targets as the analyzer's (an unset one clears it)."""
        return dataclasses.replace(
            settings,
            target_cadence_spm=self.cadence_spm,
            target_stride_length_m=self.stride_length_m,
            goal_400m_s=self.goal_400_s,
        )

    def to_json(self) -> dict[str, float | None]:
        return {
            "cadence_spm": self.cadence_spm,
            "stride_length_m": self.stride_length_m,
            "goal_400_s": self.goal_400_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Targets:
        """Targets from :meth:`to_json`'s keys (others are ignored); missing ones are unset."""
        values: dict[str, float | None] = {}
        for name in ("cadence_spm", "stride_length_m", "goal_400_s"):
            v = data.get(name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            ):
                raise ConfigError(f"target {name}={v!r} must be a number or null")
            values[name] = None if v is None else float(v)
        return cls(**values)

    def split_plan_s(self) -> tuple[float, ...]:
        """Planned time of each 100 m of the 400 m goal, or () without a goal."""
        if self.goal_400_s is None:
            return ()
        return tuple(round(self.goal_400_s * share, 2) for share in SPLIT_SHARES_400)

    def plan_for_split(self, index: int) -> float | None:
        """Planned time of 100 m segment ``index`` (0-based); past 400 m the last one repeats."""
        plan = self.split_plan_s()
        if not plan:
            return None
        return plan[min(index, len(plan) - 1)]
