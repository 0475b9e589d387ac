"""Distance from stride lengths, split times every ``split_m``, and a 400 m projection.

A split is timed where the cumulative distance crosses a multiple of ``split_m``,
interpolated within the stride that crosses it (constant speed over one stride). The
fatigue index compares the last full split with the best one: ``last/best - 1`` in
time, so 0.08 means the last 100 m took 8 % longer than the fastest.

With a :class:`~stridecue.analysis.plan.Plan` each split also says where the plan has
the athlete at that mark (``plan_elapsed_s``) and how far behind it (``vs_plan_s``,
positive = behind, negative = ahead). With a distance scale other than 1 (calibration,
or a rep scaled to its told distance) each split names it (``distance_scale``).
"""

from __future__ import annotations

import math
from typing import Any

from stridecue.analysis.plan import Plan


class SplitTracker:
    """Cumulative distance and splits within one rep."""

    __slots__ = ("_goal_400m_s", "_last_split_t", "_next_m", "_plan", "_scale", "distance_m",
                 "split_m", "splits_s", "t0_s")  # fmt: skip

    def __init__(
        self,
        *,
        t0_s: float,
        split_m: float,
        goal_400m_s: float | None,
        plan: Plan | None = None,
        scale: float = 1.0,
    ) -> None:
        self.t0_s = t0_s
        self.split_m = split_m
        self._goal_400m_s = goal_400m_s
        self._plan = plan
        self._scale = scale
        self.distance_m = 0.0
        self._next_m = split_m
        self._last_split_t = t0_s
        self.splits_s: list[float] = []

    def add(
        self, t_s: float, stride_time_s: float, stride_length_m: float
    ) -> dict[str, Any] | None:
        """Advance by one stride ending at ``t_s``; the split's detail when one completes."""
        before = self.distance_m
        self.distance_m = after = before + stride_length_m
        if after < self._next_m - 1e-9:  # a rep scaled to its distance ends on the line
            return None
        # time at which the split line was crossed, inside this stride
        frac = (self._next_m - before) / stride_length_m
        t_cross = t_s - stride_time_s * (1.0 - frac)
        split = t_cross - self._last_split_t
        self._last_split_t = t_cross
        self.splits_s.append(split)
        self._next_m += self.split_m
        elapsed = t_cross - self.t0_s
        detail: dict[str, Any] = {
            "at_m": round(self._next_m - self.split_m, 1),
            "split_s": round(split, 3),
            "elapsed_s": round(elapsed, 3),
        }
        at_m = self._next_m - self.split_m
        if at_m < 400.0:
            # the rest of the 400 m at this split's pace
            projected = elapsed + (400.0 - at_m) * split / self.split_m
            detail["projected_400m_s"] = round(projected, 2)
            if self._goal_400m_s is not None:
                detail["vs_goal_s"] = round(projected - self._goal_400m_s, 2)
        if self._plan is not None:
            planned = self._plan.plan_elapsed_s(at_m)
            detail["plan_elapsed_s"] = round(planned, 3)
            detail["vs_plan_s"] = round(elapsed - planned, 3)
        if self._scale != 1.0:
            detail["distance_scale"] = round(self._scale, 4)
        return detail

    def fatigue_index(self) -> float:
        """Last full split's time over the best one's, minus 1 (NaN with under 2 splits)."""
        if len(self.splits_s) < 2:
            return math.nan
        return self.splits_s[-1] / min(self.splits_s) - 1.0
