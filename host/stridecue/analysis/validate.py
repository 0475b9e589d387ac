"""Reject strides no foot could produce, and strides that arrive twice or out of order.

A rejected stride never reaches the detectors; it is counted by reason and the first of
each reason is logged as a warning (later ones only counted, so replaying a bad file
does not flood the log).
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger(__name__)

#: hard physical limits. A stride is two steps (same-foot contact to contact): elite
#: sprinters' steps reach ~2.7 m, so a stride over 5.5 m is impossible. (A 4 m limit
#: would be right for a step but rejects most strides above ~7.5 m/s.)
MAX_STRIDE_TIME_S = 5.0
MAX_STRIDE_LENGTH_M = 5.5

REASONS = (
    "non_finite",
    "stride_time_out_of_range",
    "stride_length_out_of_range",
    "contact_time_out_of_range",
    "duplicate",
    "out_of_order",
)


class StrideValidator:
    """Checks each stride against physics and against the previous accepted stride."""

    __slots__ = ("last_seq", "last_t_s", "max_length_m", "rejected")

    def __init__(self, max_length_m: float = MAX_STRIDE_LENGTH_M) -> None:
        self.max_length_m = max_length_m
        self.last_t_s = -math.inf
        self.last_seq = -1
        self.rejected: dict[str, int] = dict.fromkeys(REASONS, 0)

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def check(self, t_s: float, st: float, sl: float, ct: float, seq: int) -> str | None:
        """The reason to reject this stride, or None to accept it (and remember it)."""
        # Fast path for a plausible stride that follows the last one: NaN and inf fail
        # these comparisons (t_s - t_s is NaN for both), so they fall through to
        # _reason, which names what is wrong. One call instead of two per stride.
        if (
            0.0 < st <= MAX_STRIDE_TIME_S
            and 0.0 < sl <= self.max_length_m
            and t_s > self.last_t_s
            and t_s - t_s == 0.0
            and (ct != ct or 0.0 <= ct < st)
            and (seq < 0 or seq > self.last_seq)
        ):
            self.last_t_s = t_s
            if seq >= 0:
                self.last_seq = seq
            return None
        reason = self._reason(t_s, st, sl, ct, seq)
        if reason is None:
            self.last_t_s = t_s
            if seq >= 0:
                self.last_seq = seq
            return None
        n = self.rejected[reason] + 1
        self.rejected[reason] = n
        if n == 1:
            log.warning(
                "stride rejected (%s): t_s=%r stride_time_s=%r stride_length_m=%r "
                "contact_time_s=%r seq=%r; further %s rejections are only counted",
                reason, t_s, st, sl, ct, seq, reason,
            )  # fmt: skip
        return reason

    def _reason(self, t_s: float, st: float, sl: float, ct: float, seq: int) -> str | None:
        if not (math.isfinite(t_s) and math.isfinite(st) and math.isfinite(sl)):
            return "non_finite"
        if not 0.0 < st <= MAX_STRIDE_TIME_S:
            return "stride_time_out_of_range"
        if not 0.0 < sl <= self.max_length_m:
            return "stride_length_out_of_range"
        # NaN contact time means "not measured"; +-inf is as bad as any other nonsense
        if ct == ct and not 0.0 <= ct < st:
            return "contact_time_out_of_range"
        if seq >= 0 and self.last_seq >= 0:
            if seq == self.last_seq:
                return "duplicate"
            if seq < self.last_seq:
                return "out_of_order"
        if t_s == self.last_t_s:
            return "duplicate"
        if t_s < self.last_t_s:
            return "out_of_order"
        return None
