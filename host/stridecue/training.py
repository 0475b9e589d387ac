"""A rep's training numbers in a coach's words: splits against plan, first against last 200 m.

These read a ``rep_summary`` event's detail (see :mod:`stridecue.analysis.analyzer`):
``distance_m`` (after any scaling), ``distance_scale``, ``splits_s``,
``splits_vs_plan_s``, ``first_200`` / ``last_200`` / ``last_vs_first_pct``,
``doubtful_strides``, ``clipped_strides``. The report,
the dashboard and ``stridecue analyze`` all phrase them with these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets

#: a change within this many percent (either way) counts as held
HELD_PCT = 2.0

_WORDS = (
    # key, what a coach calls it, unit, format
    ("cadence_spm", "cadence", "steps/min", ".0f"),
    ("stride_length_m", "stride", "m", ".2f"),
    ("speed_mps", "speed", "m/s", ".2f"),
    ("contact_time_s", "contact", "s", ".3f"),
)


def distance_words(summary: Mapping[str, Any]) -> str:
    """``400 m`` or, when scaled, ``400 m (measured 392 m, x1.020)``."""
    d = summary.get("distance_m")
    text = f"{float(d):.0f} m" if d is not None else "? m"
    scale = summary.get("distance_scale")
    if scale is not None and scale != 1.0:
        measured = summary.get("measured_distance_m")
        seen = f"measured {float(measured):.0f} m, " if measured is not None else ""
        text += f" ({seen}x{float(scale):.3f})"
    return text


def splits_words(summary: Mapping[str, Any]) -> str:
    """``100 m splits 11.4 / 12.3 / 12.6 / 13.1 s, 0.4 s behind plan at the line``."""
    splits = summary.get("splits_s") or []
    if not splits:
        return "no full 100 m split"
    text = "100 m splits " + " / ".join(f"{float(x):.1f}" for x in splits) + " s"
    behind = summary.get("splits_vs_plan_s") or []
    if behind:
        last = float(behind[-1])
        if abs(last) < 0.05:
            text += ", on plan"
        else:
            text += f", {abs(last):.1f} s {'behind' if last > 0 else 'ahead of'} plan"
    return text


def doubtful_words(summary: Mapping[str, Any]) -> str:
    """``6 of 160 strides measured poorly by the pod (a turn, a bad reading, missing
    samples): in the distance, not judged``; empty when there were none. For the
    detailed views only (``-v``, the report): a coach's default view leaves it out."""
    n = summary.get("doubtful_strides")
    if not n:
        return ""
    of = summary.get("strides")
    total = f" of {int(of)}" if of else ""
    return (
        f"{int(n)}{total} strides measured poorly by the pod (a turn, a bad reading, "
        "missing samples): in the distance, not judged"
    )


def clipped_words(summary: Mapping[str, Any], athlete: str = "") -> str:
    """``Ana's pod was over its range on 12 of 15 strides: this rep's distance may read
    short`` when more than half of the rep's strides clipped (``the pod`` without a
    name); empty otherwise. For the coach, in every view: a rep that clipped mostly can
    read a few % short (docs/detection.md, "Strides the pod cannot trust")."""
    n = int(summary.get("clipped_strides") or 0)
    of = int(summary.get("strides") or 0)
    if of <= 0 or 2 * n <= of:
        return ""
    whose = f"{athlete}'s pod" if athlete else "the pod"
    return f"{whose} was over its range on {n} of {of} strides: this rep's distance may read short"


def clipped_count_words(summary: Mapping[str, Any]) -> str:
    """``3 of 160 strides over the pod's range: judged, in the distance`` when some but
    not most of the rep's strides clipped; empty otherwise (none, or the coach's line
    of :func:`clipped_words` already says it). For the detailed views only."""
    n = int(summary.get("clipped_strides") or 0)
    if not n or clipped_words(summary):
        return ""
    of = summary.get("strides")
    total = f" of {int(of)}" if of else ""
    return f"{n}{total} strides over the pod's range: judged, in the distance"


def halves_words(summary: Mapping[str, Any]) -> str:
    """First 200 m against last 200 m in one line, with a verdict a coach would give.

    ``last 200 m vs first: cadence 236 -> 230 steps/min (-2.5 %), stride 2.02 -> 1.90 m
    (-5.9 %), speed 7.95 -> 7.29 m/s (-8.3 %); stride shortened``. Empty for a rep too
    short to compare.
    """
    first = summary.get("first_200")
    last = summary.get("last_200")
    pct = summary.get("last_vs_first_pct") or {}
    if not first or not last:
        return ""
    span = float(last.get("to_m", 0.0)) - float(last.get("from_m", 0.0))
    name = "200 m" if span >= 199.5 else f"{span:.0f} m"
    parts = []
    lost = []
    for key, word, unit, fmt in _WORDS:
        a, b, p = first.get(key), last.get(key), pct.get(key)
        if a is None or b is None:
            continue
        change = f" ({float(p):+.1f} %)" if p is not None else ""
        parts.append(f"{word} {float(a):{fmt}} -> {float(b):{fmt}} {unit}{change}")
        if p is not None and key in ("cadence_spm", "stride_length_m") and p < -HELD_PCT:
            lost.append("rhythm slowed" if key == "cadence_spm" else "stride shortened")
    verdict = "; " + " and ".join(lost) if lost else "; form held"
    return f"last {name} vs first: " + ", ".join(parts) + verdict


def rep_words(summary: Mapping[str, Any]) -> str:
    """The whole rep in one line: number, distance, splits, first against last 200 m,
    and when the pod was over its range on most strides, that its distance may read
    short (:func:`clipped_words`)."""
    rep = summary.get("rep")
    head = f"rep {int(rep) + 1}: " if rep is not None else ""
    text = f"{head}{distance_words(summary)}, {splits_words(summary)}"
    halves = halves_words(summary)
    if halves:
        text = f"{text}; {halves}"
    clipped = clipped_words(summary)
    return f"{text}; {clipped}" if clipped else text


def race_time(t_s: float) -> str:
    """A rep's time as a coach writes it: ``0:50.0``, ``1:33.5``."""
    m, s = divmod(round(t_s, 1), 60.0)
    return f"{int(m)}:{s:04.1f}"


def plan_words(plan: Plan) -> str:
    """``100 m plan 11.5 / 12.5 / 13.0 / 13.0 s, 400 m in 0:50.0``; three or more equal
    100 m in a row are counted (``600 m in 1:33.0`` is ``6 x 15.5 s``)."""
    splits = plan.split_times_s()
    groups: list[str] = []
    i = 0
    while i < len(splits):
        n = 1
        while i + n < len(splits) and abs(splits[i + n] - splits[i]) < 0.05:
            n += 1
        if n >= 3:
            groups.append(f"{n} x {splits[i]:.1f}")
        else:
            groups += [f"{v:.1f}" for v in splits[i : i + n]]
        i += n
    head = f"100 m plan {' / '.join(groups)} s, " if groups else ""
    return f"{head}{plan.distance_m:g} m in {race_time(plan.checkpoints[-1][1])}"


def targets_plan_words(targets: Targets, *, from_roster: bool = False) -> str:
    """What the athlete runs to, for the coach: the rep distance and the plan (the coach's,
    else the 400 m goal's race shape), ``""`` with neither."""
    plan = targets.effective_plan()
    parts = []
    rep = targets.rep_distance_m
    if rep is not None and (plan is None or plan.distance_m != rep):
        parts.append(f"{rep:g} m reps")
    if plan is not None:
        source = " (roster)" if from_roster else ""
        parts.append(f"{plan_words(plan)}{source}")
    return ", ".join(parts)
