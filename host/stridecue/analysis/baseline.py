"""The athlete's own normal for this rep, on a log scale (so deviations are fractions).

The first ``window`` settled strides set the baseline and measure the athlete's
variability. After that a stride joins the baseline only once it is ``guard`` strides
old, so a change the detectors are still weighing cannot pull the baseline along with
it; the mean then covers at most ``max_n`` strides, so a long run follows slow drifts.
A coach's target replaces the learned mean (the variability is still measured).
Every stride that joins the baseline also teaches the athlete's :class:`Spread`. A
stride whose value the pod could not trust is :meth:`~LogBaseline.skip`-ped: it takes
its place in the delay but never joins, and no pair of strides across it is taken as
neighbours.
"""

from __future__ import annotations

import itertools
import math

from stridecue.analysis.noise import Spread


class LogBaseline:
    """Baseline mean and spread of ``log(x)`` for one channel (stride time or length)."""

    __slots__ = (
        "_delay",
        "_fill",
        "_first",
        "_guard",
        "_i",
        "_max_n",
        "_n",
        "_prev",
        "_s1",
        "_s2",
        "_spread",
        "_target",
        "_window",
        "mean",
        "own",
        "sd",
    )

    def __init__(
        self,
        *,
        window: int,
        guard: int,
        max_n: int,
        target: float | None = None,
        spread: Spread | None = None,
    ) -> None:
        self._window = window
        self._guard = guard
        self._max_n = max(max_n, window)
        # strides waiting to join: a ring of ``guard`` slots, oldest at ``_i`` once full
        self._delay = [0.0] * guard
        self._fill = 0
        self._i = 0
        self._n = 0
        self._s1 = 0.0
        self._s2 = 0.0
        self.mean = math.log(target) if target is not None else math.nan
        self._target = target is not None
        self.sd = math.nan
        self.own = math.nan
        self._spread = spread
        self._first: list[float] = []
        self._prev = math.nan

    @property
    def ready(self) -> bool:
        """True once the learning window is full (``mean`` and ``sd`` are set)."""
        return self._n >= self._window

    @property
    def n(self) -> int:
        """How many strides the baseline rests on."""
        return self._n

    def add(self, y: float) -> bool:
        """Offer one stride's ``log(x)``; True when a stride joined the baseline."""
        if self._n < self._window:
            self._n += 1
            self._s1 += y
            self._s2 += y * y
            self._first.append(y)
            if self._n == self._window:
                self._learnt()
            return self._n == self._window
        g = self._guard
        if g:
            if self._fill < g:
                self._delay[self._fill] = y
                self._fill += 1
                return False
            i = self._i
            old = self._delay[i]
            self._delay[i] = y
            self._i = i + 1 if i + 1 < g else 0
        else:
            old = y
        if old != old:  # a skipped stride comes out of the delay: it breaks the pairs
            self._prev = math.nan
            return False
        # spread is measured around the athlete's own mean, even when a target is set
        dev = old - self.own
        if self._spread is not None and self._prev == self._prev:
            self._spread.add(dev, self._prev)
        self._prev = dev
        if self._n < self._max_n:
            self._n += 1
        self.own += dev / self._n
        if not self._target:
            self.mean = self.own
        return True

    def _learnt(self) -> None:
        n = self._n
        m = self._s1 / n
        self.sd = math.sqrt(max(0.0, (self._s2 - n * m * m) / (n - 1)))
        self.own = m
        if not self._target:
            self.mean = m
        first = self._first
        if self._spread is not None:
            for a, b in itertools.pairwise(first):
                if a == a and b == b:  # no pair across a skipped stride
                    self._spread.add(b - m, a - m)
        self._prev = first[-1] - m
        self._first = []

    def skip(self) -> bool:
        """A stride whose value is not trusted: it never joins, and the strides either side
        of it are not taken as neighbours when the spread (``phi``) is learnt. It still
        moves the delay on, so True when an older stride joined the baseline."""
        if self._n < self._window:
            if self._first:
                self._first.append(math.nan)
            return False
        return self.add(math.nan)

    def set_target(self, x: float) -> None:
        """From now on the baseline mean is ``log(x)`` (the spread is still learnt)."""
        self._target = True
        self.mean = math.log(x)

    def forget_recent(self) -> None:
        """Drop strides not yet in the baseline (they may already show the change)."""
        self._fill = 0
        self._i = 0
        self._prev = math.nan
