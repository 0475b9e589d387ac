"""Relay exchanges on simulated runners with exact truth: how far off the measured
hand-off, speeds and check-mark advice are, and when the go buzz arrives.

    python3 benchmarks/relay.py              # 300 exchanges per stride-length error
    python3 benchmarks/relay.py --n 100      # quicker

Each trial is one exchange from stridecue.sim.strides.relay: both runners from a
standing start (natural stride variability), incoming 9.5-10.5 m/s with 80 or 100 m
to the zone, outgoing 9.5-10.5 m/s, mark 9-13 m, the outgoing runner going up to 1 m
early or late. The truth is the same analysis on the true strides (positions are
exact there); the measurement is on the strides as a pod reports them: every length
off by ``bias`` plus ``noise`` x a standard normal, times exact.

The error the stride lengths imply for the gap between the runners at the hand-off is
``|bias| x leg + 2 x noise x sqrt(sum of squared stride lengths)`` (a common bias
in both pods cancels over the outgoing runner's metres, not over the incoming
runner's run-up); the gap closes at ``v_in - v_out``, so the hand-off moves by about
``gap error / (v_in - v_out)`` seconds and ``v_out`` times that in metres (the interval
is computed exactly: the true runs with the incoming runner moved that far either
way). The check-mark advice moves by about the gap error itself. SIMULATION, not a recording.

Go buzz: the incoming runner's strides reach the host ``report_s`` (137 ms, 10 ms
jitter) after each contact; the buzz takes ``link`` (20 ms, 5 ms jitter) to the pod;
error = buzz at the pod minus the true moment the incoming runner is on the mark.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

import numpy as np
from stridecue import relay
from stridecue.gobuzz import GoPredictor
from stridecue.sim import strides as st

ERRORS = ((0.0, 0.0), (0.0, 0.02), (-0.02, 0.02))  # (bias, noise) of stride length


@dataclass(frozen=True, slots=True)
class Trial:
    err_x_m: float  # measured - true hand-off point (outgoing position)
    err_t_s: float
    err_v_in: float
    err_v_out: float
    err_advice_m: float
    within: bool  # measured hand-off point inside the interval the error implies
    implied_x_m: tuple[float, float]  # that interval (true analysis, incoming moved +-gap)
    implied_gap_m: float
    buzz_err_s: float  # go buzz at the pod minus the true moment at the mark


def trial(seed: int, bias: float, noise: float) -> Trial | None:
    rng = np.random.default_rng(seed)
    v_in, v_out = rng.uniform(9.5, 10.5, 2)
    approach = float(rng.choice([80.0, 100.0]))
    mark = float(rng.uniform(9.0, 13.0))
    fault = st.RelayFault(start_m=float(rng.uniform(-1.0, 1.0)))
    run = st.relay(rng, (v_in, v_out), (mark,), (approach,), (30.0,), [fault])
    a, b = run.runners[0].strides, run.runners[1].strides
    true = relay.exchange(a, b, approach_m=approach, mark_m=mark)
    ma = st.with_length_error(rng, a, bias, noise)
    mb = st.with_length_error(rng, b, bias, noise)
    meas = relay.exchange(ma, mb, approach_m=approach, mark_m=mark)
    buzz = buzz_error(rng, a, ma, approach, mark)
    if (
        true.handoff_t_s is None
        or meas.handoff_t_s is None
        or true.mark_advice_m is None
        or meas.mark_advice_m is None
    ):
        return None
    assert true.handoff_zone_m is not None and meas.handoff_zone_m is not None
    vi, vo = true.incoming_speed_mps or 0.0, true.outgoing_speed_mps or 0.0
    t_h = true.handoff_t_s
    lens = [s.stride_length_m for s in a if s.t_s - s.stride_time_s < t_h]
    lens += [s.stride_length_m for s in b if s.t_s - s.stride_time_s < t_h]
    gap = abs(bias) * approach + 2.0 * noise * math.sqrt(sum(x * x for x in lens))
    ends = [
        relay.exchange(a, b, approach_m=approach + d, mark_m=mark).handoff_zone_m
        for d in (-gap, gap)
    ]
    lo = min((x for x in ends if x is not None), default=math.inf)
    hi = math.inf if None in ends else max(x for x in ends if x is not None)
    within = lo - 0.01 <= meas.handoff_zone_m <= hi + 0.01
    return Trial(
        meas.handoff_zone_m - true.handoff_zone_m,
        meas.handoff_t_s - t_h,
        (meas.incoming_speed_mps or 0.0) - vi,
        (meas.outgoing_speed_mps or 0.0) - vo,
        meas.mark_advice_m - true.mark_advice_m,
        within,
        (lo, hi),
        gap,
        buzz,
    )


def buzz_error(
    rng: np.random.Generator,
    truth: list[st.StrideTruth],
    measured: list[st.StrideTruth],
    approach: float,
    mark: float,
    report_s: float = 0.137,
    link_s: float = 0.020,
) -> float:
    """When the go buzz reaches the outgoing runner's pod minus when the incoming runner
    is truly on the mark (seconds; +: late)."""
    p = GoPredictor(approach, mark, link_s=link_s)
    for s in measured:
        arrive = s.t_s + report_s + 0.010 * float(rng.standard_normal())
        send = p.on_stride(s.t_s, s.stride_time_s, s.stride_length_m, arrive)
        if send is not None:
            at_pod = send + max(0.005, link_s + 0.005 * float(rng.standard_normal()))
            return at_pod - st._time_at(truth, approach, -mark)
    return math.nan


def _stats(xs: list[float]) -> tuple[float, float, float]:
    """(mean, median |x|, 95th percentile |x|)."""
    a = np.asarray([x for x in xs if math.isfinite(x)])
    return float(a.mean()), float(np.median(np.abs(a))), float(np.percentile(np.abs(a), 95))


def run(n: int, bias: float, noise: float) -> dict[str, object]:
    trials = [trial(seed, bias, noise) for seed in range(n)]
    ok = [t for t in trials if t is not None]
    within = sum(t.within for t in ok) / max(1, len(ok))
    rows = {
        "handoff point (m)": [t.err_x_m for t in ok],
        "handoff time (s)": [t.err_t_s for t in ok],
        "incoming speed (m/s)": [t.err_v_in for t in ok],
        "outgoing speed (m/s)": [t.err_v_out for t in ok],
        "mark advice (m)": [t.err_advice_m for t in ok],
        "implied gap error (m)": [t.implied_gap_m for t in ok],
        "go buzz (s)": [t.buzz_err_s for t in ok],
    }
    return {
        "n": n,
        "analysed": len(ok),
        "within_implied": within,
        "stats": {k: _stats(v) for k, v in rows.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args(argv)
    print("SIMULATION: measured minus true, per exchange (mean / median |err| / p95 |err|)\n")
    for bias, noise in ERRORS:
        r = run(args.n, bias, noise)
        print(f"### stride length bias {bias:+.0%}, noise {noise:.0%}")
        print(
            f"{r['analysed']} of {r['n']} exchanges with a hand-off both measured and true; "
            f"hand-off point within the implied error: {r['within_implied']:.0%}\n"
        )
        print("| quantity | mean | median abs | p95 abs |")
        print("|---|---:|---:|---:|")
        stats = r["stats"]
        assert isinstance(stats, dict)
        for k, (mean, med, p95) in stats.items():
            print(f"| {k} | {mean:+.3f} | {med:.3f} | {p95:.3f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
