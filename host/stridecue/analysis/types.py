"""The analyzer's input (one stride) and output (an event)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What an :class:`Event` says. A ``StrEnum``: its value is the JSON/CSV spelling."""

    RHYTHM_LOSS = "rhythm_loss"
    STRIDE_SHORTENING = "stride_shortening"
    RECOVERED = "recovered"
    REP_START = "rep_start"
    REP_END = "rep_end"
    SPLIT = "split"
    REP_SUMMARY = "rep_summary"


#: the problems a cue is about (an alert starts, ``recovered`` ends it)
PROBLEMS = (EventKind.RHYTHM_LOSS, EventKind.STRIDE_SHORTENING)
#: events a coach acts on; `stridecue analyze` prints these
ALERT_KINDS = (*PROBLEMS, EventKind.RECOVERED)
#: bookkeeping events (rep boundaries, 100 m splits, the per-rep summary)
INFO_KINDS = (EventKind.REP_START, EventKind.REP_END, EventKind.SPLIT, EventKind.REP_SUMMARY)


@dataclass(frozen=True, slots=True)
class StrideIn:
    """One stride as the analyzer needs it.

    ``t_s`` is the time of the foot contact that ends the stride (any epoch, seconds),
    ``contact_time_s`` is NaN when unknown, ``seq`` is -1 when the source has none,
    ``flags`` the pod's ``StrideFlag`` bits (0 when the source has none; what each
    stops is in :mod:`stridecue.analysis.trust`).
    """

    t_s: float
    stride_time_s: float
    stride_length_m: float
    contact_time_s: float = math.nan
    seq: int = -1
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Event:
    """Something the analyzer decided at stride ``stride_index`` (0-based, accepted strides)."""

    t_s: float
    stride_index: int
    kind: EventKind
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "t_s": round(self.t_s, 4),
            "stride_index": self.stride_index,
            "kind": str(self.kind),
            "detail": self.detail,
        }
