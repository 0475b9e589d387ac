"""Strides from a standard Running Speed and Cadence foot pod (a Stryd, a Polar Stride).

Such a pod sends a measurement about once a second: speed, cadence (steps/min) and,
optionally, a stride length, but no per-stride timing and no contact time. To analyse
it like a StrideCue pod, the strides it reports are rebuilt: between two measurements
``dt`` apart the athlete made ``dt * cadence / 120`` strides (a stride is two steps),
each lasting ``120 / cadence`` s and covering ``speed * stride time`` metres (speed is
the one field every RSC pod sends; the standard's "stride length" is ambiguous between
one step and two, so it is not used). Fractions carry over to the next measurement, so
no stride is lost or invented over a run; a gap of more than ``max_gap_s`` (the link
dropped) starts afresh. What these strides cannot carry: contact time, and
stride-to-stride variation inside a second, so rhythm detection works on a smoothed
signal (docs/detection.md says what that costs).
"""

from __future__ import annotations

import math

from stridecue.protocol.rsc import RscMeasurement


class RscStrides:
    """Turns one RSC pod's measurements into (t_s, stride_time_s, stride_length_m)."""

    def __init__(self, *, max_gap_s: float = 5.0) -> None:
        self.max_gap_s = max_gap_s
        self._t_s: float | None = None
        self._owed = 0.0  # strides made but not yet handed out (a fraction)

    def feed(self, t_s: float, m: RscMeasurement) -> list[tuple[float, float, float]]:
        """The strides completed since the previous measurement, oldest first."""
        last, self._t_s = self._t_s, t_s
        if m.cadence_spm <= 0 or not math.isfinite(m.speed_mps) or last is None:
            self._owed = 0.0
            return []
        dt = t_s - last
        if not 0.0 < dt <= self.max_gap_s:
            self._owed = 0.0
            return []
        stride_time = 120.0 / m.cadence_spm
        self._owed += dt / stride_time
        n = int(self._owed)
        self._owed -= n
        length = m.speed_mps * stride_time
        return [(t_s - (n - 1 - k) * stride_time, stride_time, length) for k in range(n)]
