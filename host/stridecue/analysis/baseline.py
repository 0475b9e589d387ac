"""The athlete's own normal for this rep, on a log scale (so deviations are fractions).

The first ``window`` settled strides set the baseline and measure the athlete's
variability. After that a stride joins the baseline only once it is ``guard`` strides
old, so a change the detectors are still weighing cannot pull the baseline along with
it; the mean then covers at most ``max_n`` strides, so a long run follows slow drifts.
A coach's target replaces the learned mean (the variability is still measured).
"""

from __future__ import annotations

import math
from collections import deque


class LogBaseline:
    """Baseline mean and spread of ``log(x)`` for one channel (stride time or length)."""

    __slots__ = (
        "_delay",
        "_guard",
        "_max_n",
        "_n",
        "_s1",
        "_s2",
        "_target",
        "_window",
        "mean",
        "sd",
    )

    def __init__(self, *, window: int, guard: int, max_n: int, target: float | None = None) -> None:
        self._window = window
        self._guard = guard
        self._max_n = max(max_n, window)
        self._delay: deque[float] = deque()
        self._n = 0
        self._s1 = 0.0
        self._s2 = 0.0
        self.mean = math.log(target) if target is not None else math.nan
        self._target = target is not None
        self.sd = math.nan

    @property
    def ready(self) -> bool:
        """True once the learning window is full (``mean`` and ``sd`` are set)."""
        return self._n >= self._window

    def add(self, y: float) -> None:
        """Offer one stride's ``log(x)``; returns nothing, updates the baseline causally."""
        if self._n < self._window:
            self._n += 1
            self._s1 += y
            self._s2 += y * y
            if self._n == self._window:
                m = self._s1 / self._n
                var = max(0.0, (self._s2 - self._n * m * m) / (self._n - 1))
                self.sd = math.sqrt(var)
                if not self._target:
                    self.mean = m
            return
        d = self._delay
        d.append(y)
        if len(d) > self._guard:
            old = d.popleft()
            if self._n < self._max_n:
                self._n += 1
            if not self._target:
                self.mean += (old - self.mean) / self._n

    def forget_recent(self) -> None:
        """Drop strides not yet in the baseline (they may already show the change)."""
        self._delay.clear()
