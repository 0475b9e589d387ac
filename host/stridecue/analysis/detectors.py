"""Change detectors with a known false-alarm behaviour, for autocorrelated strides.

Consecutive strides resemble each other (a long stride tends to follow a long one), so
raw deviations from the baseline are not independent: a plain CUSUM would add up the
same wobble several times and alarm far more often than its threshold promises.
:class:`Ar1Whitener` first removes the part of each deviation that the previous stride
predicts (an AR(1) model, ``e[k] = y[k] - phi * y[k-1]``) and scales what is left to
unit variance, so the detectors see (close to) independent standard-normal residuals
while the athlete runs normally. A sustained change of size ``d`` (log units) shows up
as ``d / sigma_e`` on its first stride and ``d * (1 - phi) / sigma_e`` after that.

:class:`Cusum` (Page's cumulative sum) adds up the residuals minus an allowance ``k``
and alarms when the sum passes ``h``; with ``k`` half the shift it is tuned for, it is
the fastest detector of that shift for a given false-alarm rate. :class:`VarianceCusum`
does the same with squared residuals, for strides becoming irregular. Residuals are
clipped at ``clip`` standard deviations so one glitched stride cannot raise an alarm.
"""

from __future__ import annotations

import math


class Ar1Whitener:
    """Turns deviations from baseline into unit-variance, nearly independent residuals."""

    __slots__ = ("ahead", "inv_sigma_e", "phi", "prev")

    def __init__(self, *, phi: float, sd: float) -> None:
        self.phi = phi
        # innovation std of an AR(1) whose marginal std is ``sd``
        self.inv_sigma_e = 1.0 / (sd * math.sqrt(1.0 - phi * phi))
        self.prev = 0.0
        # variance of the next prediction error, in innovations (1 unless strides skipped)
        self.ahead = 1.0

    def residual(self, y: float) -> float:
        e = (y - self.phi * self.prev) * self.inv_sigma_e
        self.prev = y
        if self.ahead != 1.0:
            e /= math.sqrt(self.ahead)
            self.ahead = 1.0
        return e

    def skip(self) -> None:
        """A stride whose value is not known (not trusted): predict across it.

        The skipped value is replaced by its prediction ``phi * prev``, so the next
        residual is ``y - phi^2 * prev``; that prediction reaches one stride further, so
        its error has ``1 + phi^2`` innovations' variance and is scaled back to unit
        variance. A skip never makes the next residual jump.
        """
        phi = self.phi
        self.prev *= phi
        self.ahead = 1.0 + phi * phi * self.ahead


class Cusum:
    """One-sided upper CUSUM on unit-variance residuals: alarms when ``s > h``."""

    __slots__ = ("clip", "h", "k", "s")

    def __init__(self, *, k: float, h: float, clip: float) -> None:
        self.k = k
        self.h = h
        self.clip = clip
        self.s = 0.0

    def update(self, z: float) -> bool:
        if z > self.clip:
            z = self.clip
        elif z < -self.clip:
            z = -self.clip
        s = self.s + z - self.k
        self.s = s if s > 0.0 else 0.0
        return s > self.h

    def reset(self) -> None:
        self.s = 0.0


class VarianceCusum:
    """CUSUM of the log-likelihood ratio for residual variance growing by ``ratio``^2.

    Per stride it adds ``a * min(z^2, clip^2) - b`` with ``a = (1 - 1/r)/2`` and
    ``b = ln(r)/2`` where ``r = ratio^2``: zero drift at the break-even variance, a
    negative drift while the athlete runs evenly.
    """

    __slots__ = ("a", "b", "clip2", "h", "s")

    def __init__(self, *, ratio: float, h: float, clip: float) -> None:
        r = ratio * ratio
        self.a = 0.5 * (1.0 - 1.0 / r)
        self.b = 0.5 * math.log(r)
        self.h = h
        self.clip2 = clip * clip
        self.s = 0.0

    def update(self, z: float) -> bool:
        z2 = z * z
        if z2 > self.clip2:
            z2 = self.clip2
        s = self.s + self.a * z2 - self.b
        self.s = s if s > 0.0 else 0.0
        return s > self.h

    def reset(self) -> None:
        self.s = 0.0


def allowance(design: float, phi: float, sd: float) -> float:
    """CUSUM ``k`` for a sustained log-shift ``design``: half its steady residual size."""
    return 0.5 * design * (1.0 - phi) / (sd * math.sqrt(1.0 - phi * phi))


def threshold(k: float, false_alarm_strides: float) -> float:
    """CUSUM ``h`` that gives, on independent unit-normal residuals, a false alarm every
    ``false_alarm_strides`` strides on average (Siegmund's approximation
    ``ARL0 = (exp(2kb) - 2kb - 1) / (2k^2)``, ``b = h + 1.166``, for large ``2kb``)."""
    kk = k if k > 0.05 else 0.05
    b = math.log(2.0 * kk * kk * false_alarm_strides + 1.0) / (2.0 * kk)
    h = b - 1.166
    return h if h > 0.5 else 0.5


class WithinTolerance:
    """Counts consecutive strides whose deviation stays inside ``[lo, hi]``."""

    __slots__ = ("hi", "lo", "need", "run")

    def __init__(self, *, lo: float, hi: float, need: int) -> None:
        self.lo = lo
        self.hi = hi
        self.need = need
        self.run = 0

    def update(self, y: float) -> bool:
        """True once ``need`` strides in a row have been within tolerance."""
        self.run = self.run + 1 if self.lo <= y <= self.hi else 0
        return self.run >= self.need

    def reset(self) -> None:
        self.run = 0
