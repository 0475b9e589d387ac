"""Rep detection: is the athlete running a rep, or jogging/walking to recover?

Running means a speed of at least ``min_speed_mps`` and a cadence of at least
``min_cadence_spm``. The state flips only after ``confirm`` strides in a row agree
(hysteresis), so one slow stride in a rep or one quick one in a jog changes nothing.
A rep begins at the first of its confirming strides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class RepDetector:
    """Running/recovery state from each stride's speed and cadence."""

    __slots__ = ("_max_stride_s", "_min_speed", "confirm", "running", "streak")

    def __init__(self, *, min_speed_mps: float, min_cadence_spm: float, confirm: int) -> None:
        self._min_speed = min_speed_mps
        # cadence (steps/min) = 120 / stride time: one stride is two steps
        self._max_stride_s = 120.0 / min_cadence_spm
        self.confirm = confirm
        self.running = False
        self.streak = 0

    def is_fast(self, stride_time_s: float, stride_length_m: float) -> bool:
        return (
            stride_time_s <= self._max_stride_s
            and stride_length_m >= self._min_speed * stride_time_s
        )

    def update(self, fast: bool) -> int:
        """+1 when a rep starts, -1 when it ends (both ``confirm`` strides late), else 0."""
        if fast != self.running:
            self.streak += 1
            if self.streak >= self.confirm:
                self.running = fast
                self.streak = 0
                return 1 if fast else -1
        else:
            self.streak = 0
        return 0


@dataclass(slots=True)
class RepStats:
    """Running sums for the per-rep summary."""

    index: int
    start_t_s: float
    strides: int = 0
    time_s: float = 0.0
    length_m: float = 0.0
    contact_s: float = 0.0
    contact_n: int = 0
    first_alert_m: float = math.nan
    alerts: int = 0

    def add(self, stride_time_s: float, stride_length_m: float, contact_time_s: float) -> None:
        self.strides += 1
        self.time_s += stride_time_s
        self.length_m += stride_length_m
        if contact_time_s == contact_time_s:
            self.contact_s += contact_time_s
            self.contact_n += 1

    def alert(self, distance_m: float) -> None:
        if self.alerts == 0:
            self.first_alert_m = distance_m
        self.alerts += 1

    def summary(self) -> dict[str, Any]:
        n = max(self.strides, 1)
        return {
            "rep": self.index,
            "strides": self.strides,
            "distance_m": round(self.length_m, 1),
            "duration_s": round(self.time_s, 2),
            "mean_cadence_spm": round(120.0 * n / self.time_s, 1) if self.time_s else None,
            "mean_stride_length_m": round(self.length_m / n, 3),
            "mean_contact_time_s": (
                round(self.contact_s / self.contact_n, 4) if self.contact_n else None
            ),
            "alerts": self.alerts,
            # how far form held: metres run before the first alert (all of it if none)
            "form_held_m": round(self.length_m if self.alerts == 0 else self.first_alert_m, 1),
        }
