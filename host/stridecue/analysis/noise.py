"""How much one athlete's strides naturally vary, learnt while they run normally.

Two numbers per channel (log stride time, log stride length): the spread ``sd`` of a
stride around the baseline, and ``phi``, how much of one stride's deviation carries into
the next (the AR(1) coefficient). Both start from a prior (the settings' CV floor and
``ar1_phi``) and are refined from every stride that joins the baseline, with a memory of
``max_n`` strides. The spread's prior counts as ``prior_n`` strides; ``phi`` is harder
to estimate from few strides, so its prior counts as ``phi_prior_n``. Both belong to
the athlete, not the rep, so a second rep starts with what the first one taught.

``sd`` never goes below the floor: a few unusually even strides must not make the
detectors jumpy. Sums are updated per stride (cheap); ``refresh()`` recomputes the two
numbers and is called only every few strides.
"""

from __future__ import annotations

import math

#: phi is kept in this range: beyond it one AR(1) term no longer describes running
PHI_MIN = 0.0
PHI_MAX = 0.8


class Spread:
    """Online estimate of stride-to-stride spread and lag-1 correlation for one channel."""

    __slots__ = ("_max_n", "_n", "_n0", "_n0p", "_phi0", "_pp", "_yp", "_yy", "floor_sd",
                 "phi", "sd")  # fmt: skip

    def __init__(
        self, *, floor_sd: float, phi: float, prior_n: int, phi_prior_n: int, max_n: int
    ) -> None:
        self.floor_sd = floor_sd
        self._max_n = max(max_n, 1)
        self._n0 = float(prior_n)
        self._n0p = float(phi_prior_n)
        self._phi0 = phi
        self._n = 0.0
        # exponentially weighted means of y^2, y*y_prev and y_prev^2
        self._yy = 0.0
        self._pp = 0.0
        self._yp = 0.0
        self.sd = floor_sd
        self.phi = phi

    @property
    def n(self) -> float:
        return self._n

    def add(self, y: float, y_prev: float) -> None:
        """One in-control deviation ``y`` and the one before it (log units)."""
        n = self._n
        if n < self._max_n:
            self._n = n = n + 1.0
        w = 1.0 / n
        self._yy += (y * y - self._yy) * w
        self._pp += (y_prev * y_prev - self._pp) * w
        self._yp += (y * y_prev - self._yp) * w

    def refresh(self) -> None:
        """Recompute ``sd`` and ``phi`` from the prior and the strides seen so far."""
        n = self._n
        v0 = self.floor_sd * self.floor_sd
        var = (self._n0 * v0 + n * self._yy) / (self._n0 + n) if self._n0 + n > 0 else v0
        sd = math.sqrt(var)
        self.sd = sd if sd > self.floor_sd else self.floor_sd
        den = self._n0p * v0 + n * self._pp
        phi = (self._n0p * self._phi0 * v0 + n * self._yp) / den if den > 0.0 else self._phi0
        self.phi = PHI_MIN if phi < PHI_MIN else PHI_MAX if phi > PHI_MAX else phi
