"""One clock for a practice: every pod's time mapped onto the session timeline.

The session timeline counts seconds of the athletes' time from the session start
(``t0_ns``, host wall clock). A simulation that runs ``speed`` times faster than
real time has pods whose clocks run ``speed`` times faster than the host's, so
host time is scaled by ``speed`` to get the athletes' time.

A stride is placed by its pod's own contact time (device ms), never by when it
reached the host, so backfilled strides and strides of two pods (a relay) line up:

    session s = device ms / 1000 + c

``c`` comes from the time sync (host minus device clock) when the pod had one and
the clock is not scaled; otherwise it is learnt as the records arrive: the smallest
``host session s - device s`` seen so far (the stride that arrived fastest).
The coach's button and every other host-side happening use :meth:`SessionClock.now_s`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class SessionClock:
    """Host time → session seconds for one practice (or one recorded session)."""

    __slots__ = ("_now_ns", "speed", "t0_ns")

    def __init__(
        self, t0_ns: int, speed: float = 1.0, *, now_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            speed = 1.0
        self.t0_ns = t0_ns
        self.speed = speed
        self._now_ns = now_ns  # the host's wall clock (a test may pass its own)

    def host_s(self, host_ns: int) -> float:
        """Session seconds of a host wall-clock time (ns since the Unix epoch)."""
        return (host_ns - self.t0_ns) * self.speed / 1e9

    def now_s(self) -> float:
        """Session seconds now (the coach's button, a cue written)."""
        return self.host_s(self._now_ns())

    def pod(self, offset_ms: float | None = None) -> PodClock:
        """The clock of one pod; ``offset_ms`` is host - device from its time sync."""
        return PodClock(self, offset_ms)


class PodClock:
    """Device ms of one pod → session seconds (see the module docstring)."""

    __slots__ = ("_c", "_synced", "session")

    def __init__(self, session: SessionClock, offset_ms: float | None = None) -> None:
        self.session = session
        self._synced = offset_ms is not None and math.isfinite(offset_ms) and session.speed == 1.0
        self._c = (
            offset_ms / 1000.0 - session.t0_ns / 1e9
            if self._synced and offset_ms is not None
            else math.inf
        )

    def stride_s(self, device_ms: int, host_ns: int) -> float:
        """Session seconds of a stride's contact, learning the offset from its arrival."""
        if not self._synced:
            c = self.session.host_s(host_ns) - device_ms / 1000.0
            if c < self._c:
                self._c = c
        return device_ms / 1000.0 + self._c

    @property
    def offset_s(self) -> float:
        """``c``: session s - device s (inf until a sync or a first stride)."""
        return self._c
