"""Piecewise quintic Hermite curves: value, rate and acceleration given at each knot.

Every knot fixes (value, first derivative, second derivative), so the curve is C2
and its derivatives are exact polynomials: the simulator differentiates nothing
numerically, which is what makes its IMU signals integrate back to its trajectory.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# q(u) = sum c_j u^j on u in [0, 1]; rows: q(0), q'(0), q''(0), q(1), q'(1), q''(1)
_M = np.array(
    [
        [1, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0],
        [0, 0, 2, 0, 0, 0],
        [1, 1, 1, 1, 1, 1],
        [0, 1, 2, 3, 4, 5],
        [0, 0, 2, 6, 12, 20],
    ],
    dtype=np.float64,
)
_M_INV_T = np.linalg.inv(_M).T


class Quintic:
    """A C2 curve through knots ``t`` with value ``p``, rate ``v`` and acceleration ``a``."""

    def __init__(self, t: F64, p: F64, v: F64, a: F64) -> None:
        t = np.asarray(t, dtype=np.float64)
        if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
            raise ValueError("quintic knots must be at least two strictly increasing times")
        d = np.diff(t)
        p, v, a = (np.asarray(x, dtype=np.float64) for x in (p, v, a))
        b = np.stack([p[:-1], d * v[:-1], d * d * a[:-1], p[1:], d * v[1:], d * d * a[1:]], axis=1)
        self.t = t
        self._d = d
        self._c = b @ _M_INV_T  # (segments, 6) monomial coefficients in u

    def __call__(self, t: F64) -> tuple[F64, F64, F64]:
        """(value, first derivative, second derivative) at times ``t`` (clamped to the knots)."""
        t = np.asarray(t, dtype=np.float64)
        i = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, self._d.size - 1)
        d = self._d[i]
        u = np.clip((t - self.t[i]) / d, 0.0, 1.0)
        c = self._c[i]
        p = c[:, 5]
        dp = 5.0 * c[:, 5]
        ddp = 20.0 * c[:, 5]
        for j in (4, 3, 2, 1):
            p = p * u + c[:, j]
        for j in (4, 3, 2):
            dp = dp * u + j * c[:, j]
        for j in (4, 3):
            ddp = ddp * u + j * (j - 1) * c[:, j]
        ddp = ddp * u + 2.0 * c[:, 2]
        dp = dp * u + c[:, 1]
        p = p * u + c[:, 0]
        return p, dp / d, ddp / (d * d)
