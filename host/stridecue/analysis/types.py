"""The analyzer's input (one stride) and output (an event)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: events a coach acts on; `stridecue analyze` prints these
ALERT_KINDS = ("rhythm_loss", "stride_shortening", "recovered")
#: bookkeeping events (rep boundaries, 100 m splits, the per-rep summary)
INFO_KINDS = ("rep_start", "rep_end", "split", "rep_summary")


@dataclass(frozen=True, slots=True)
class StrideIn:
    """One stride as the analyzer needs it.

    ``t_s`` is the time of the foot contact that ends the stride (any epoch, seconds),
    ``contact_time_s`` is NaN when unknown, ``seq`` is -1 when the source has none.
    """

    t_s: float
    stride_time_s: float
    stride_length_m: float
    contact_time_s: float = math.nan
    seq: int = -1


@dataclass(frozen=True, slots=True)
class Event:
    """Something the analyzer decided at stride ``stride_index`` (0-based, accepted strides)."""

    t_s: float
    stride_index: int
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "t_s": round(self.t_s, 4),
            "stride_index": self.stride_index,
            "kind": self.kind,
            "detail": self.detail,
        }
