"""benchmarks/sim_clip_bound.py: what a 16 g sprint stride allows any ZUPT at best.

docs/accuracy-record.md (issue #19, sixteenth pass) rests on this: given the simulator's
noise-free signal, the true attitude and the true stances, the lost impulse itself
(``oracle``) reads 10 m/s strides within a few tenths of a per cent, so the harness is
sound; a plain ZUPT reads them several per cent short; and fitting each clipped
group's size along its known direction from the 3-D residual (``fit3``) recovers most
of it, leaving a scatter just above the athlete's own. SIMULATION.
"""

from __future__ import annotations

import numpy as np
from benchload import load


def _row(method: str) -> tuple[float, float, float]:
    bench = load("sim_clip_bound")
    err: list[float] = []
    r_est: list[float] = []
    r_true: list[float] = []
    for mount in bench.MOUNTS:
        e, tr = bench.strides(10.0, mount, 0, 16.0, method)
        est = tr * (1.0 + e)
        err += list(np.abs(e))
        r_est += list(np.log(est[1:] / est[:-1]))
        r_true += list(np.log(tr[1:] / tr[:-1]))
    return float(np.median(err)), float(np.std(r_est)), float(np.std(r_true))


def test_the_bound_is_sound_and_the_fit_recovers_most_of_the_lost_impulse() -> None:
    med, _, _ = _row("oracle")
    assert med < 0.003  # the harness itself: lost impulse known, error ~0.1 %
    lin, s_lin, s_true = _row("linear")
    assert lin > 0.02  # the plain ZUPT: the 16 g part loses several per cent
    fit, s_fit, _ = _row("fit3")
    assert fit < 0.01
    assert s_true < s_fit < s_lin  # closer to the athlete's scatter, not down to it
