"""benchmarks/relay.py's figures hold: exact on exact strides, within the error the
stride lengths imply otherwise; the go buzz's timing; two simulated legs, two pods."""

from __future__ import annotations

import math

import pytest
from benchload import load
from stridecue.links.sim import SimLink

BENCH = load("relay", "relay_bench")


def test_exact_strides_give_the_exact_exchange() -> None:
    for seed in range(5):
        t = BENCH.trial(seed, 0.0, 0.0)
        if t is None:
            continue
        for err in (t.err_x_m, t.err_t_s, t.err_v_in, t.err_v_out, t.err_advice_m):
            assert err == pytest.approx(0.0, abs=1e-6)
        assert abs(t.buzz_err_s) < 0.06  # latency jitter only


@pytest.mark.parametrize(("bias", "noise"), [(0.0, 0.02), (-0.02, 0.02)])
def test_errors_stay_within_what_stride_lengths_imply(bias: float, noise: float) -> None:
    trials = [t for t in (BENCH.trial(s, bias, noise) for s in range(40)) if t is not None]
    assert len(trials) >= 30
    # a 2-sigma bound: ~95 % expected (96-99 % over 100 in the benchmark); 40 vary
    assert sum(t.within for t in trials) >= 0.85 * len(trials)
    # the mark advice is off by about the gap error, never much more
    assert sum(abs(t.err_advice_m) <= t.implied_gap_m + 0.3 for t in trials) >= 0.9 * len(trials)
    speeds = [abs(t.err_v_in) for t in trials]
    assert sorted(speeds)[int(0.9 * len(speeds))] < 1.0  # m/s, one stride's speed


def test_go_buzz_timing() -> None:
    clean = [BENCH.trial(s, 0.0, 0.02) for s in range(30)]
    biased = [BENCH.trial(s, -0.02, 0.02) for s in range(30)]
    c = [t.buzz_err_s for t in clean if t is not None and math.isfinite(t.buzz_err_s)]
    b = [t.buzz_err_s for t in biased if t is not None and math.isfinite(t.buzz_err_s)]
    assert abs(sum(c) / len(c)) < 0.03 and max(abs(x) for x in c) < 0.15
    # 2 % short strides: the runner seems further back, so the buzz comes late
    assert 0.1 < sum(b) / len(b) < 0.25


def test_two_sim_pods_of_one_scenario_are_two_athletes() -> None:
    a = SimLink("sim:relay-leg,seed=1", "relay-leg,seed=1")
    b = SimLink("sim:relay-leg,seed=2", "relay-leg,seed=2")
    assert a.info.pod != b.info.pod
    assert SimLink("sim:steady,speed=20", "steady,speed=20").info.pod == "sim-steady"
