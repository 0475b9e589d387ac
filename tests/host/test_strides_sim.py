"""The stride-level scenario generator: statistics, change points, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stridecue.sim import strides as S


def _lag1(x: np.ndarray) -> float:
    d = x - x.mean()
    return float(np.dot(d[1:], d[:-1]) / np.dot(d, d))


def test_steady_has_requested_cv_and_autocorrelation() -> None:
    rng = np.random.default_rng(1)
    sc = S.steady(rng, S.SPRINT, 20000, S.Noise(time_cv=0.02, length_cv=0.025, phi=0.5))
    c = sc.columns()
    lt = np.log(c["stride_time_s"])
    ll = np.log(c["stride_length_m"])
    assert lt.std() == pytest.approx(0.02, rel=0.08)
    assert ll.std() == pytest.approx(0.025, rel=0.08)
    assert _lag1(lt) == pytest.approx(0.5, abs=0.05)
    assert np.exp(lt.mean()) == pytest.approx(0.48, rel=0.01)
    assert sc.change_points == []


def test_times_are_cumulative_and_speed_consistent() -> None:
    sc = S.steady(np.random.default_rng(2), S.DISTANCE, 200, t0_s=10.0)
    c = sc.columns()
    np.testing.assert_allclose(np.diff(c["t_s"]), c["stride_time_s"][1:], rtol=1e-12)
    assert c["t_s"][0] == pytest.approx(10.0 + c["stride_time_s"][0])
    np.testing.assert_allclose(c["speed_mps"], c["stride_length_m"] / c["stride_time_s"])
    assert np.all(c["contact_time_s"] < c["stride_time_s"])


def test_same_seed_same_strides_other_seed_differs() -> None:
    a = S.shortening(np.random.default_rng(5), drop=0.05)
    b = S.shortening(np.random.default_rng(5), drop=0.05)
    c = S.shortening(np.random.default_rng(6), drop=0.05)
    assert a.strides == b.strides
    assert a.strides != c.strides


def test_shortening_drops_length_not_time_at_change_point() -> None:
    lengths_before, lengths_after, times_after = [], [], []
    for seed in range(40):
        sc = S.shortening(np.random.default_rng(seed), S.SPRINT, drop=0.10, before=50, after=50)
        (cp,) = sc.change_points
        assert (cp.index, cp.kind, cp.magnitude) == (50, "stride_shortening", 0.10)
        c = sc.columns()
        lengths_before.append(c["stride_length_m"][:50].mean())
        lengths_after.append(c["stride_length_m"][50:].mean())
        times_after.append(c["stride_time_s"][50:].mean())
    assert np.mean(lengths_after) / np.mean(lengths_before) == pytest.approx(0.90, abs=0.01)
    assert np.mean(times_after) == pytest.approx(0.48, rel=0.01)


def test_irregular_rhythm_raises_cv() -> None:
    sc = S.rhythm_irregular(np.random.default_rng(3), cv_after=0.08, before=400, after=4000)
    lt = np.log(sc.columns()["stride_time_s"])
    assert lt[:400].std() < 0.03
    assert lt[400:].std() == pytest.approx(0.08, rel=0.1)
    assert sc.change_points[0].kind == "rhythm_loss"


def test_drift_moves_stride_time() -> None:
    sc = S.rhythm_drift(np.random.default_rng(4), S.DISTANCE, drift=0.05, before=300, after=300)
    st = sc.columns()["stride_time_s"]
    assert st[300:].mean() / st[:300].mean() == pytest.approx(1.05, abs=0.01)


def test_rep_covers_distance_with_start_and_fatigue() -> None:
    sc = S.rep(np.random.default_rng(7), S.SPRINT, 400.0, fatigue_from_m=250.0)
    c = sc.columns()
    total = c["stride_length_m"].sum()
    assert 395.0 < total < 420.0
    kinds = [cp.kind for cp in sc.change_points]
    assert kinds == ["rep_start", "stride_shortening"]
    # the first strides accelerate: shorter than the steady middle
    assert c["stride_length_m"][:2].mean() < 0.8 * c["stride_length_m"][20:40].mean()
    cp = sc.change_points[1]
    assert cp.index > 60
    assert c["stride_length_m"][-10:].mean() < 0.95 * c["stride_length_m"][20:60].mean()


def test_session_alternates_reps_and_jogs() -> None:
    sc = S.session(np.random.default_rng(8), S.SPRINT, n_reps=3, jog_s=60.0)
    kinds = [cp.kind for cp in sc.change_points if cp.kind.startswith("rep_")]
    assert kinds == ["rep_start", "rep_end"] * 3
    t = sc.columns()["t_s"]
    assert np.all(np.diff(t) > 0)
    ends = [cp.index for cp in sc.change_points if cp.kind == "rep_end"][:-1]
    jog = sc.strides[ends[0] + 5]
    assert jog.speed_mps < 3.0


def test_csv_rows_round_trip() -> None:
    sc = S.steady(np.random.default_rng(9), n_strides=3)
    rows = S.to_csv_rows(sc.strides)
    assert rows[0] == "t_s,stride_time_s,stride_length_m,contact_time_s"
    vals = [float(v) for v in rows[1].split(",")]
    assert math.isclose(vals[1], sc.strides[0].stride_time_s, abs_tol=1e-5)
    assert S.to_csv_rows(sc.strides, contact=False)[0] == "t_s,stride_time_s,stride_length_m"


@pytest.mark.parametrize(
    ("call", "msg"),
    [
        (lambda r: S.shortening(r, drop=0.7), "drop"),
        (lambda r: S.steady(r, n_strides=0), "n_strides"),
        (lambda r: S.rhythm_irregular(r, cv_after=0.01), "cv_after"),
        (lambda r: S.rep(r, distance_m=5.0), "distance_m"),
        (lambda r: S.Noise(phi=1.0), "phi"),
    ],
)
def test_bad_parameters_name_the_field(call: object, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        call(np.random.default_rng(0))  # type: ignore[operator]
