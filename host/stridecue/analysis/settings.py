"""Every analyzer parameter, named with its unit, with defaults for sprint and distance.

Percentages are of the athlete's own baseline (4.0 means 4 %). Each CUSUM's alarm
threshold is derived from ``*_false_alarm_strides``: how many strides of normal running,
on average, between false alarms of that detector in the ideal model (independent
residuals, exact baseline). Higher means fewer false alarms and later cues. The
irregularity detector's threshold ``irregular_h`` is in units of evidence (log
likelihood ratio, see docs/detection.md).

:meth:`AnalyzerSettings.to_json` / :meth:`~AnalyzerSettings.from_json` store them (a
recorded session keeps the settings its analysis ran with). ``from_json`` checks every
value like the constructor does, takes a missing key as its default (settings stored
before that one existed) and refuses an unknown key with :class:`ConfigError`: a
misspelt or newer setting must not silently fall back to a default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from stridecue.analysis.plan import Plan
from stridecue.errors import ConfigError

#: (lower, upper) allowed for each setting; checked on construction
_RANGES: dict[str, tuple[float, float]] = {
    "max_stride_length_m": (2.0, 6.0),
    "settle_strides": (0, 200),
    "baseline_strides": (4, 200),
    "baseline_guard_strides": (0, 500),
    "baseline_max_strides": (4, 5000),
    "time_cv_pct": (0.3, 20.0),
    "length_cv_pct": (0.3, 20.0),
    "ar1_phi": (-0.9, 0.9),
    "clip_sd": (2.0, 50.0),
    "baseline_uncertainty_weight": (0.0, 20.0),
    "spread_prior_strides": (0, 1000),
    "phi_prior_strides": (0, 100000),
    "spread_memory_strides": (10, 100000),
    "shortening_design_pct": (0.5, 30.0),
    "shortening_false_alarm_strides": (100.0, 1e9),
    "drift_design_pct": (0.5, 30.0),
    "drift_false_alarm_strides": (100.0, 1e9),
    "irregular_cv_ratio": (1.1, 10.0),
    "irregular_h": (0.5, 100.0),
    "recovery_tolerance_pct": (0.1, 30.0),
    "recovery_strides": (1, 100),
    "run_min_speed_mps": (0.5, 12.0),
    "run_min_cadence_spm": (40.0, 300.0),
    "run_confirm_strides": (1, 50),
    "target_cadence_spm": (60.0, 320.0),
    "target_stride_length_m": (0.3, 4.0),
    "goal_400m_s": (30.0, 600.0),
    "split_m": (10.0, 1000.0),
    "rep_distance_m": (20.0, 10000.0),
    "distance_scale": (0.8, 1.2),
}
_OPTIONAL = ("target_cadence_spm", "target_stride_length_m", "goal_400m_s", "rep_distance_m")
_INTEGER = (
    "settle_strides",
    "baseline_strides",
    "baseline_guard_strides",
    "baseline_max_strides",
    "spread_prior_strides",
    "phi_prior_strides",
    "spread_memory_strides",
    "recovery_strides",
    "run_confirm_strides",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzerSettings:
    """Parameters of one athlete's analyzer (see docs/detection.md for each in plain words)."""

    # m; longer strides (two steps) are rejected as impossible: elite sprint steps reach
    # ~2.7 m, so 5.5 m; lower it to be stricter for distance runners
    max_stride_length_m: float = 5.5
    # a rep: strides ignored while the athlete gets up to speed, then strides that set the
    # baseline; later strides join the baseline only once ``baseline_guard_strides`` old
    settle_strides: int = 10
    baseline_strides: int = 24
    baseline_guard_strides: int = 16
    baseline_max_strides: int = 120
    # natural stride-to-stride variability: the least the analyzer assumes, and how much
    # each stride resembles the previous one (AR(1) coefficient) until it has learnt the
    # athlete's own; the priors count as this many strides, the memory is this long
    time_cv_pct: float = 2.0
    length_cv_pct: float = 2.0
    ar1_phi: float = 0.3
    spread_prior_strides: int = 0
    phi_prior_strides: int = 40
    spread_memory_strides: int = 600
    clip_sd: float = 5.0
    # how much a young baseline's own error widens the assumed spread (0: ignore it)
    baseline_uncertainty_weight: float = 1.0
    # detectors: the change each is tuned for, and how rarely it may cry wolf
    shortening_design_pct: float = 4.0
    shortening_false_alarm_strides: float = 30_000.0
    drift_design_pct: float = 4.5
    drift_false_alarm_strides: float = 80_000.0
    irregular_cv_ratio: float = 2.0
    irregular_h: float = 9.0
    # recovery: back within tolerance for this many strides in a row
    recovery_tolerance_pct: float = 2.0
    recovery_strides: int = 4
    # rep detection: running (not a recovery jog) means both of these, for a few strides
    run_min_speed_mps: float = 3.2
    run_min_cadence_spm: float = 140.0
    run_confirm_strides: int = 3
    # coach's targets (None: learn the baseline from the athlete's first settled strides)
    target_cadence_spm: float | None = None
    target_stride_length_m: float | None = None
    goal_400m_s: float | None = None
    # with a goal time and no stride-length target: judge strides against the length
    # that holds goal pace at the athlete's rhythm (otherwise the goal only feeds splits)
    goal_sets_stride_length: bool = False
    split_m: float = 100.0
    # the coach's split plan (checkpoints); split events then say how far ahead/behind
    plan: Plan | None = None
    # the rep's true distance (m): each rep's strides are scaled to sum to it at rep end
    rep_distance_m: float | None = None
    # the athlete's calibration: every stride length is multiplied by this (1: none)
    distance_scale: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "plan":
                if v is not None and not isinstance(v, Plan):
                    raise ConfigError(f"plan={v!r} must be a split plan (e.g. 100:11.5,400:50)")
                continue
            if f.name == "goal_sets_stride_length":
                if not isinstance(v, bool):
                    raise ConfigError(f"goal_sets_stride_length={v!r} must be True or False")
                continue
            if v is None and f.name in _OPTIONAL:
                continue
            lo, hi = _RANGES[f.name]
            if f.name in _INTEGER and not isinstance(v, int):
                raise ConfigError(f"{f.name}={v!r} must be a whole number within {lo}..{hi}")
            if not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
                raise ConfigError(f"{f.name}={v!r} must be within {lo:g}..{hi:g}")

    def to_json(self) -> dict[str, Any]:
        """Every setting by name: numbers, ``None`` for an unset target, a bool, the plan's text."""
        out = asdict(self)
        out["plan"] = None if self.plan is None else self.plan.spec
        return out

    @classmethod
    def from_json(cls, data: object) -> AnalyzerSettings:
        """Settings from :meth:`to_json`'s form, checked; missing keys take their defaults."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"analyzer settings must be a JSON object, got {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ConfigError(
                f"unknown analyzer setting(s) {', '.join(unknown)} (written by a newer "
                "stridecue, or misspelt): update stridecue, or remove them; known settings: "
                + ", ".join(sorted(known))
            )
        values = dict(data)
        plan = values.get("plan")
        if plan is not None and not isinstance(plan, Plan):
            if not isinstance(plan, str):
                raise ConfigError(f"plan={plan!r} must be a plan's text, e.g. 100:11.5,400:50")
            values["plan"] = Plan.parse(plan)
        for name, value in values.items():
            if isinstance(value, bool) and name != "goal_sets_stride_length":
                raise ConfigError(f"{name}={value!r} must be a number")
        return cls(**values)

    @classmethod
    def for_event(
        cls, event: str, **overrides: float | int | bool | Plan | None
    ) -> AnalyzerSettings:
        """Defaults for ``"sprint"`` (200-400 m reps) or ``"distance"`` (800 m and up)."""
        base = cls().with_event(event)
        try:
            return replace(base, **overrides)  # type: ignore[arg-type]
        except TypeError as e:
            raise ConfigError(f"unknown analyzer setting: {e}") from None

    def with_event(self, event: str) -> AnalyzerSettings:
        """These settings with the event's preset (the fields a preset sets; the rest kept)."""
        if event not in EVENTS:
            raise ConfigError(f"event={event!r} must be 'sprint' or 'distance'")
        fields = {k: getattr(_DEFAULTS, k) for preset in EVENTS.values() for k in preset}
        fields.update(EVENTS[event])
        return replace(self, **fields)


_DEFAULTS = AnalyzerSettings()
#: what each event's preset changes from the defaults: distance strides settle sooner, and
#: a longer rep lets the baseline span more
EVENTS: dict[str, dict[str, int]] = {
    "sprint": {},
    "distance": {"settle_strides": 8, "baseline_max_strides": 200},
}
