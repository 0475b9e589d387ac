"""The building blocks: whitening, CUSUMs, baseline, splits and rep detection."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from stridecue.analysis.baseline import LogBaseline
from stridecue.analysis.detectors import (
    Ar1Whitener,
    Cusum,
    VarianceCusum,
    WithinTolerance,
    allowance,
)
from stridecue.analysis.reps import RepDetector
from stridecue.analysis.splits import SplitTracker
from stridecue.sim.strides import ar1


def test_whitener_turns_ar1_into_independent_unit_noise() -> None:
    y = ar1(np.random.default_rng(0), 50_000, 0.02, 0.4)
    w = Ar1Whitener(phi=0.4, sd=0.02)
    z = np.array([w.residual(float(v)) for v in y])
    assert z.std() == pytest.approx(1.0, abs=0.02)
    d = z - z.mean()
    assert abs(np.dot(d[1:], d[:-1]) / np.dot(d, d)) < 0.02


def test_cusum_by_hand() -> None:
    c = Cusum(k=0.5, h=2.0, clip=3.0)
    assert [c.update(z) for z in (1.0, 1.0, -5.0, 10.0)] == [False, False, False, True]
    # 0.5, 1.0, then max(0, 1 - 3 - 0.5) = 0 (clipped at -3), then 0 + 3 - 0.5 = 2.5
    assert c.s == pytest.approx(2.5)
    c.reset()
    assert c.s == 0.0
    assert [c.update(1.5) for _ in range(3)] == [False, False, True]


def test_variance_cusum_drifts_down_in_control_up_out_of_control() -> None:
    rng = np.random.default_rng(1)
    v = VarianceCusum(ratio=2.0, h=1e9, clip=5.0)
    incr_null = [v.a * z * z - v.b for z in rng.standard_normal(20000)]
    assert np.mean(incr_null) < -0.2
    incr_alt = [v.a * min(z * z, 25.0) - v.b for z in 3.0 * rng.standard_normal(20000)]
    assert np.mean(incr_alt) > 1.0
    # one wild stride cannot alarm on its own: it is clipped at 5 sd
    w = VarianceCusum(ratio=2.0, h=9.0, clip=5.0)
    assert not w.update(1000.0)


def test_allowance_is_half_the_whitened_shift() -> None:
    k = allowance(0.04, 0.3, 0.02)
    assert k == pytest.approx(0.5 * 0.04 * 0.7 / (0.02 * math.sqrt(1 - 0.09)))


def test_within_tolerance_needs_consecutive_strides() -> None:
    t = WithinTolerance(lo=-0.02, hi=0.02, need=3)
    assert [t.update(y) for y in (0.0, 0.01, 0.05, 0.0, 0.0, 0.0)] == [
        False, False, False, False, False, True,
    ]  # fmt: skip


def test_baseline_window_then_guarded_updates() -> None:
    b = LogBaseline(window=4, guard=2, max_n=10)
    for y in (1.0, 2.0, 3.0, 4.0):
        assert not b.ready
        b.add(y)
    assert b.ready
    assert b.mean == pytest.approx(2.5)
    assert b.sd == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    b.add(100.0)
    b.add(100.0)
    assert b.mean == pytest.approx(2.5)  # still in the guard delay
    b.forget_recent()
    b.add(5.0)
    b.add(5.0)
    b.add(5.0)  # the first 5.0 has now aged past the guard
    assert b.mean == pytest.approx((1 + 2 + 3 + 4 + 5) / 5)


def test_baseline_with_target_keeps_target_mean() -> None:
    b = LogBaseline(window=3, guard=0, max_n=10, target=0.5)
    for y in (1.0, 1.1, 0.9, 2.0):
        b.add(y)
    assert b.mean == pytest.approx(math.log(0.5))
    assert b.sd == pytest.approx(0.1)


def test_splits_interpolate_and_project() -> None:
    s = SplitTracker(t0_s=0.0, split_m=100.0, goal_400m_s=50.0)
    out = [s.add(0.5 * (i + 1), 0.5, 4.0) for i in range(50)]
    done = [d for d in out if d is not None]
    assert [d["at_m"] for d in done] == [100.0, 200.0]
    # 4 m per 0.5 s = 8 m/s: 100 m in 12.5 s, 400 m projected at 50 s
    assert done[0]["split_s"] == pytest.approx(12.5)
    assert done[0]["projected_400m_s"] == pytest.approx(50.0)
    assert done[0]["vs_goal_s"] == pytest.approx(0.0)
    assert s.fatigue_index() == pytest.approx(0.0)


def test_rep_detector_hysteresis() -> None:
    r = RepDetector(min_speed_mps=3.2, min_cadence_spm=140.0, confirm=3)
    fast = r.is_fast(0.48, 3.6)
    slow = r.is_fast(0.80, 1.6)
    assert fast and not slow
    assert not r.is_fast(0.9, 3.6)  # 133 steps/min: too low a cadence
    seq = [fast, fast, slow, fast, fast, fast, slow, slow, slow]
    assert [r.update(f) for f in seq] == [0, 0, 0, 0, 0, 1, 0, 0, -1]


def test_threshold_matches_siegmund_and_simulation() -> None:
    from stridecue.analysis.detectors import threshold

    k = 0.5
    h = threshold(k, 2000.0)
    b = h + 1.166
    assert (math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k) == pytest.approx(2000.0, rel=0.01)
    # mean run length of a CUSUM on simulated independent residuals is close to the design
    rng = np.random.default_rng(3)
    c = Cusum(k=k, h=h, clip=50.0)
    runs, n = [], 0
    for z in rng.standard_normal(400_000):
        n += 1
        if c.update(float(z)):
            runs.append(n)
            n = 0
            c.reset()
    assert 1500.0 < np.mean(runs) < 2700.0
    assert threshold(0.8, 1e5) > threshold(0.8, 1e4) > threshold(1.2, 1e4)


def test_spread_learns_sd_and_phi() -> None:
    from stridecue.analysis.noise import Spread

    y = ar1(np.random.default_rng(4), 20_000, 0.03, 0.5)
    s = Spread(floor_sd=0.02, phi=0.3, prior_n=8, phi_prior_n=40, max_n=2000)
    for a, b in itertools.pairwise(y):
        s.add(float(b), float(a))
    s.refresh()
    assert s.sd == pytest.approx(0.03, rel=0.1)
    assert s.phi == pytest.approx(0.5, abs=0.08)
    quiet = Spread(floor_sd=0.02, phi=0.3, prior_n=8, phi_prior_n=40, max_n=2000)
    for _ in range(100):
        quiet.add(0.001, 0.001)
    quiet.refresh()
    assert quiet.sd == 0.02  # never below the floor
