"""Training benchmark: 400 m splits against exact truth, and the pod's coach cues.

Simulated 400 m reps at ~90 % of top speed (``stridecue.sim.strides.training_rep``:
even pace, positive split, fade from 250 m; the true strides sum to exactly 400 m),
each followed by a recovery jog. The pod measures each stride length with a -2 %
bias and 2 % noise: the pessimistic end of what docs/accuracy.md measures (real
running: bias -0.4 / -1.0 % tuned / held-out, one course trial -2.8 %; median
per-stride error 1.2-1.7 %). Every figure in docs/training.md comes from

    python3 benchmarks/training.py --seeds 200

Host: split error (s) of the rep summary's splits against the true ones, how many
reps yield all four 100 m splits, and the 400 m time error; without correction, with
a calibration from one or three earlier reps, with the told rep distance, and both.
Pod (firmware/stridepod/coach.py, run in CPython): pacer strides to quiet, pacer
returns in a held rep, and the last-200 m guard's delay and false alarms at two
thresholds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stridecue.analysis import Analyzer, AnalyzerSettings
from stridecue.sim import strides as S

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "firmware"))
from stridepod.coach import CUE_SHORT, Coach, ShortGuard  # noqa: E402

#: ~8.2 m/s (a 49-50 s 400 m), about 90 % of a 9.1 m/s top speed
PROFILE = S.Profile("400-90pct", stride_time_s=0.465, stride_length_m=3.8, contact_time_s=0.105)
BIAS, CV = -0.02, 0.02


def athlete_rep(seed: int, kind: str) -> tuple[list[S.StrideTruth], list[S.StrideTruth]]:
    """(true rep strides, what the pod measured over the rep and the jog after it)."""
    rng = np.random.default_rng(seed)
    truth = S.training_rep(rng, kind, PROFILE).strides
    jog = S.steady(rng, S.JOG, 30, t0_s=truth[-1].t_s).strides
    return truth, S.pod_measured(rng, [*truth, *jog], BIAS, CV)


def analyse(strides: Sequence[S.StrideTruth], settings: AnalyzerSettings) -> dict[str, Any]:
    """The first rep's summary, with the count of split events up to 400 m."""
    a = Analyzer(settings)
    n_split = 0
    summary: dict[str, Any] = {}
    for s in strides:
        for e in a.feed_values(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s):
            if e.kind == "split" and not summary:
                n_split += 1
            elif e.kind == "rep_summary" and not summary:
                summary = dict(e.detail)
    for e in a.finish():
        if e.kind == "rep_summary" and not summary:
            summary = dict(e.detail)
    summary["split_events"] = n_split
    return summary


def calibration(seed: int, reps: int) -> float:
    """The scale `stridecue calibrate` stores from ``reps`` even 400 m reps."""
    measured = [analyse(athlete_rep(seed + 100_000 + k, "even")[1], AnalyzerSettings())
                for k in range(reps)]  # fmt: skip
    return 400.0 * reps / sum(float(m["measured_distance_m"]) for m in measured)


def host(seeds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in S.TRAINING_KINDS:
        rows: dict[str, dict[str, list[float]]] = {}
        for seed in range(seeds):
            truth, measured = athlete_rep(seed, kind)
            true_splits = S.split_times(truth)
            configs = {
                "none": AnalyzerSettings(),
                "calibrated (1 rep)": AnalyzerSettings(distance_scale=calibration(seed, 1)),
                "calibrated (3 reps)": AnalyzerSettings(distance_scale=calibration(seed, 3)),
                "rep distance 400": AnalyzerSettings(rep_distance_m=400.0),
                "calibrated (3) + rep distance": AnalyzerSettings(
                    distance_scale=calibration(seed, 3), rep_distance_m=400.0
                ),
            }
            for name, settings in configs.items():
                r = rows.setdefault(name, {"err": [], "four": [], "t400": [], "events": []})
                summ = analyse(measured, settings)
                splits = summ["splits_s"]
                r["four"].append(1.0 if len(splits) >= 4 else 0.0)
                r["events"].append(1.0 if summ["split_events"] >= 4 else 0.0)
                r["err"] += [abs(a - b) for a, b in zip(splits, true_splits, strict=False)]
                if len(splits) >= 4:
                    r["t400"].append(abs(sum(splits[:4]) - sum(true_splits)))
        out[kind] = {
            name: {
                "split_abs_err_s_mean": round(statistics.fmean(r["err"]), 3),
                "split_abs_err_s_p95": round(float(np.percentile(r["err"], 95)), 3),
                "four_splits_pct": round(100.0 * statistics.fmean(r["four"]), 1),
                "four_split_events_pct": round(100.0 * statistics.fmean(r["events"]), 1),
                "t400_abs_err_s_mean": (
                    round(statistics.fmean(r["t400"]), 3) if r["t400"] else None
                ),
            }
            for name, r in rows.items()
        }
    return out


def _ints(s: S.StrideTruth) -> tuple[int, int, int]:
    return round(1000 * s.t_s), round(1000 * s.stride_time_s), round(1000 * s.stride_length_m)


def pod(seeds: int) -> dict[str, Any]:
    target = round(120.0 / PROFILE.stride_time_s)
    quiet: list[int] = []
    returns = 0
    for seed in range(seeds):
        _, measured = athlete_rep(seed, "even")
        c = Coach(target_spm=target)
        pacer = c.pacer
        assert pacer is not None
        was = True
        n_quiet = -1
        for i, s in enumerate(measured[:-30]):
            c.on_stride(*_ints(s))
            if was and not pacer.pacing and n_quiet < 0:
                n_quiet = i + 1
            if not was and pacer.pacing:
                returns += 1
            was = pacer.pacing
        quiet.append(n_quiet if n_quiet > 0 else len(measured))
    guard: dict[str, Any] = {}
    for h in (60, 80, 150):
        delays: list[float] = []
        misses = false = 0
        for seed in range(seeds):
            truth_fade, fade = athlete_rep(seed, "fade")
            change_m = _first_shortened_m(truth_fade)
            hit = _guard_first_m(fade[: len(truth_fade)], h)
            if hit is None:
                misses += 1
            else:
                delays.append(hit - change_m)
            _, even = athlete_rep(seed, "even")
            false += _guard_cues(even[:-30], h)
        guard[f"h={h} permille"] = {
            "fade_detected_pct": round(100.0 * (1 - misses / seeds), 1),
            "delay_m_median": round(statistics.median(delays), 1) if delays else None,
            "false_alarms_per_even_rep": round(false / seeds, 3),
        }
    return {
        "target_spm": target,
        "pacer_strides_to_quiet_median": statistics.median(quiet),
        "pacer_strides_to_quiet_p90": float(np.percentile(quiet, 90)),
        "pacer_returns_per_even_rep": round(returns / seeds, 3),
        "guard_from_200m": guard,
    }


def _first_shortened_m(truth: Sequence[S.StrideTruth]) -> float:
    """Where the fade reached 3 % (the first stride a coach could call shortened)."""
    base = statistics.fmean(s.stride_length_m for s in truth[20:50])
    covered = 0.0
    for s in truth:
        covered += s.stride_length_m
        if covered > 250.0 and s.stride_length_m < 0.97 * base:
            return covered
    return covered


def _guard_run(strides: Sequence[S.StrideTruth], h: int) -> list[float]:
    g = ShortGuard(guard_h_permille=h)
    mm = 0
    hits = []
    for s in strides:
        ln = round(1000 * s.stride_length_m)
        mm += ln
        if g.on_stride(mm, ln) == CUE_SHORT:
            hits.append(mm / 1000.0)
    return hits


def _guard_first_m(strides: Sequence[S.StrideTruth], h: int) -> float | None:
    hits = [m for m in _guard_run(strides, h) if m > 200.0]
    return hits[0] if hits else None


def _guard_cues(strides: Sequence[S.StrideTruth], h: int) -> int:
    return len(_guard_run(strides, h))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200, help="reps per scenario (default 200)")
    args = ap.parse_args(argv)
    result = {"host": host(args.seeds), "pod": pod(args.seeds)}
    for kind, rows in result["host"].items():
        print(f"\n{kind} 400 m reps ({args.seeds}): split |error| mean / p95 s, "
              "4 splits %, 4 live-or-rep-end split events %, 400 m |error| s")  # fmt: skip
        for name, r in rows.items():
            print(
                f"  {name:30s} {r['split_abs_err_s_mean']:6.3f} / {r['split_abs_err_s_p95']:6.3f}"
                f"  {r['four_splits_pct']:5.1f}  {r['four_split_events_pct']:5.1f}"
                f"  {r['t400_abs_err_s_mean']}"
            )
    p = result["pod"]
    print(f"\npod coach (target {p['target_spm']} spm):")
    print(
        f"  pacer quiet after {p['pacer_strides_to_quiet_median']} strides (median), "
        f"p90 {p['pacer_strides_to_quiet_p90']:g}; returns per even rep "
        f"{p['pacer_returns_per_even_rep']}"
    )
    for name, g in p["guard_from_200m"].items():
        print(
            f"  guard {name}: fade detected {g['fade_detected_pct']} %, median delay "
            f"{g['delay_m_median']} m after 3 % shorter, false alarms per even rep "
            f"{g['false_alarms_per_even_rep']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
