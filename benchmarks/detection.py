"""Detection benchmark: delay, misses and false alarms of the stride analyzer.

Scenarios come from the stride-level simulator (``stridecue.sim.strides``), whose change
points are known exactly; the real steady-running trials of ../shared/data/pyshoe_vicon
are run through the same analyzer when present. Every number in docs/detection.md comes
from this script:

    python3 benchmarks/detection.py --seeds 400 --hours 100

writes docs/detection_results.json and docs/figures/detection_tradeoff.png.
Delay is counted in strides: 1 means the cue came on the first changed stride.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stridecue.analysis import Analyzer, AnalyzerSettings
from stridecue.sim import strides as S

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "pyshoe_vicon"
ALERTS = ("rhythm_loss", "stride_shortening")


def run(strides: Sequence[S.StrideTruth], settings: AnalyzerSettings) -> list[tuple[int, str]]:
    """(stride index, kind) of every alert the analyzer raises over these strides."""
    a = Analyzer(settings)
    out: list[tuple[int, str]] = []
    feed = a.feed_values
    for s in strides:
        for e in feed(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s):
            if e.kind in ALERTS:
                out.append((e.stride_index, e.kind))
    return out


def delays(
    make: Callable[[np.random.Generator], S.Scenario],
    kind: str,
    settings: AnalyzerSettings,
    seeds: int,
    seed0: int = 0,
) -> dict[str, Any]:
    """Detection delay of ``kind`` after the scenario's change point, over many seeds."""
    d: list[int] = []
    misses = 0
    early = 0
    for seed in range(seed0, seed0 + seeds):
        sc = make(np.random.default_rng(seed))
        cp = next(c for c in sc.change_points if c.kind == kind)
        alerts = run(sc.strides, settings)
        if any(i < cp.index and k == kind for i, k in alerts):
            early += 1
        after = [i for i, k in alerts if k == kind and i >= cp.index]
        if after:
            d.append(after[0] - cp.index + 1)
        else:
            misses += 1
    return {
        "trials": seeds,
        "median_strides": statistics.median(d) if d else None,
        "p90_strides": float(np.percentile(d, 90)) if d else None,
        "misses": misses,
        "alarm_before_change": early,
    }


def false_alarms(
    profile: S.Profile,
    noise: S.Noise,
    settings: AnalyzerSettings,
    hours: float,
    seed0: int = 10_000,
    mode: str = "reps",
) -> dict[str, Any]:
    """Alerts per hour of steady running: sessions of even 400 m reps, or 15 min runs."""
    run_s = 0.0
    counts = dict.fromkeys(ALERTS, 0)
    seed = seed0
    while run_s < hours * 3600.0:
        rng = np.random.default_rng(seed)
        seed += 1
        if mode == "reps":
            # a session: 6 x 400 m at even pace, 90 s recovery jogs (jog time not counted)
            sc = S.session(rng, profile, 6, 400.0, 90.0, fatigue_from_m=None, noise=noise)
            run_s += sum(s.stride_time_s for s in sc.strides if s.speed_mps > 3.0)
        else:
            sc = S.steady(rng, profile, int(900.0 / profile.stride_time_s), noise)
            run_s += sc.strides[-1].t_s - sc.strides[0].t_s + sc.strides[0].stride_time_s
        for _, k in run(sc.strides, settings):
            counts[k] += 1
    h = run_s / 3600.0
    total = sum(counts.values())
    return {
        "hours": round(h, 1),
        "alarms": total,
        "per_hour": round(total / h, 3),
        "by_kind_per_hour": {k: round(v / h, 3) for k, v in counts.items()},
    }


def fatigue_400(
    profile: S.Profile, noise: S.Noise, settings: AnalyzerSettings, seeds: int
) -> dict[str, Any]:
    """A 400 m rep fading from 250 m (8 % shorter, 3 % slower at the line).

    Delay counts from the first stride 3 % below steady (0 or less: cued while the fade
    was still under 3 %); a miss is no shortening alert from 250 m to the line.
    """
    d: list[int] = []
    held: list[float] = []
    misses = before_onset = 0
    for seed in range(seeds):
        sc = S.rep(np.random.default_rng(50_000 + seed), profile, 400.0, 250.0, noise=noise)
        cp = next(c for c in sc.change_points if c.kind == "stride_shortening")
        cum = np.cumsum([s.stride_length_m for s in sc.strides])
        onset = int(np.searchsorted(cum, 250.0))
        hits = [i for i, k in run(sc.strides, settings) if k == "stride_shortening"]
        before_onset += any(i < onset for i in hits)
        after = [i for i in hits if i >= onset]
        if after:
            d.append(after[0] - cp.index + 1)
            held.append(float(cum[after[0]]))
        else:
            misses += 1
    return {
        "trials": seeds,
        "median_strides_after_3pct_down": statistics.median(d) if d else None,
        "cued_before_3pct": sum(x <= 0 for x in d),
        "median_cued_at_m": round(statistics.median(held), 1) if held else None,
        "misses": misses,
        "alarm_before_fade": before_onset,
    }


def scenario_table(
    profile: S.Profile, noise: S.Noise, settings: AnalyzerSettings, seeds: int
) -> dict[str, Any]:
    P, nz, st = profile, noise, settings
    out: dict[str, Any] = {}
    for drop in (0.03, 0.05, 0.10):
        out[f"shortening_{drop:.0%}"] = delays(
            lambda g, d=drop: S.shortening(g, P, d, noise=nz), "stride_shortening", st, seeds
        )
    for cv in (0.04, 0.06, 0.08):
        out[f"irregular_cv_{cv:.0%}"] = delays(
            lambda g, c=cv: S.rhythm_irregular(g, P, c, noise=nz), "rhythm_loss", st, seeds
        )
    for drift in (0.05, -0.05):
        out[f"drift_{drift:+.0%}"] = delays(
            lambda g, d=drift: S.rhythm_drift(g, P, d, noise=nz), "rhythm_loss", st, seeds
        )
    out["drift_+5%_over_20_strides"] = delays(
        lambda g: S.rhythm_drift(g, P, 0.05, ramp_strides=20, noise=nz), "rhythm_loss", st, seeds
    )
    return out


def imu_chain(seeds: int) -> dict[str, Any] | None:
    """Whole chain in simulation: IMU simulator -> firmware gait engine -> analyzer.

    Uses the project's IMU-level simulator (``stridecue.sim.scenarios`` / ``sim.imu``)
    and the pod's gait engine under CPython, so stride lengths carry the engine's own
    measurement error on top of the natural variability. Returns None when those
    modules are not importable.
    """
    try:
        from stridecue.engine import EngineConfig, run_cpython
        from stridecue.imu_files import ImuData
        from stridecue.sim import scenarios
        from stridecue.sim.imu import ImuConfig, simulate
    except ImportError:
        return None
    out: dict[str, Any] = {}
    for speed, max_m in ((6.0, 4.0), (7.5, 4.0), (7.5, 5.0)):
        settings = AnalyzerSettings(max_stride_length_m=max_m)
        for name in ("steady-400", "shortening-5", "shortening-10"):
            d: list[int] = []
            errs: list[float] = []
            misses = alarms = strides = rejected = 0
            for seed in range(seeds):
                sc = scenarios.build(name, speed_mps=speed, seed=seed)
                rec = simulate(sc.bouts, ImuConfig(), seed=seed, tail_s=3.0)
                got = run_cpython(ImuData(rec.t, rec.acc, rec.gyr), EngineConfig(416, 32, 2000))
                got = [g for g in got if "first" not in g["flags"]]
                truth_t = np.array([s.t_contact_s for s in rec.strides])
                a = Analyzer(settings)
                first_alert: int | None = None
                cp = next(
                    (c.index for c in sc.change_points if c.kind == "stride_shortening"), None
                )
                for g in got:
                    k = int(np.argmin(np.abs(truth_t - g["t_contact_s"])))
                    tl = rec.strides[k].stride_length_m
                    if abs(truth_t[k] - g["t_contact_s"]) < 0.05 and math.isfinite(tl):
                        errs.append(math.log(g["stride_length_m"] / tl))
                    for e in a.feed_values(
                        g["t_contact_s"], g["stride_time_s"], g["stride_length_m"],
                        g["contact_time_s"],
                    ):  # fmt: skip
                        if e.kind not in ALERTS:
                            continue
                        alarms += 1
                        # k: the truth stride this engine stride matched
                        shorter = e.kind == "stride_shortening" and cp is not None and k >= cp
                        if shorter and first_alert is None and cp is not None:
                            first_alert = k - cp + 1
                strides += a.n_accepted
                rejected += a.validator.n_rejected
                if cp is not None:
                    if first_alert is None:
                        misses += 1
                    else:
                        d.append(first_alert)
            row: dict[str, Any] = {
                "trials": seeds,
                "strides": strides,
                "rejected_strides": rejected,
                "engine_length_error_sd_pct": round(100 * float(np.std(errs)), 2),
                "engine_length_bias_pct": round(100 * float(np.mean(errs)), 2),
                "alerts": alarms,
            }
            if name != "steady-400":
                row["median_strides"] = statistics.median(d) if d else None
                row["misses"] = misses
            out[f"{name}@{speed:g}mps_max{max_m:g}m"] = row
            print("imu", name, speed, json.dumps(row), flush=True)
    return out


def _lag1(x: np.ndarray) -> float:
    d = x - x.mean()
    return round(float(np.dot(d[1:], d[:-1]) / np.dot(d, d)), 2)


def real_pyshoe(settings: AnalyzerSettings) -> dict[str, Any] | None:
    """Strides of the 10 PyShoe jogging trials (times from the annotations, lengths Vicon)."""
    folder = DATA / "stride_annotations_mtahakoroglu"
    if not folder.is_dir():
        return None
    trials = []
    strides = 0
    seconds = 0.0
    alerts: list[dict[str, Any]] = []
    for f in sorted(folder.glob("2017-11-27-*_strideIndex_timestamp_gcpX_gcpY.csv")):
        a = np.loadtxt(f, delimiter=",", skiprows=1)
        t = a[:, 1]
        st = np.diff(t)
        sl = np.linalg.norm(np.diff(a[:, 2:4], axis=0), axis=1)
        ok = st <= 5.0
        an = Analyzer(settings)
        n_alerts = 0
        for k in range(st.size):
            for e in an.feed_values(float(t[k + 1]), float(st[k]), float(sl[k])):
                if e.kind in ALERTS:
                    n_alerts += 1
                    alerts.append({"trial": f.name[:19], **e.as_json()})
        an.finish()
        trials.append(
            {
                "trial": f.name[:19],
                "strides": int(st.size),
                "accepted": an.n_accepted,
                # over strides the analyzer could accept (the rest are pauses of > 5 s)
                "stride_time_cv": round(float(np.std(st[ok]) / np.mean(st[ok])), 3),
                "stride_length_cv": round(float(np.std(sl[ok]) / np.mean(sl[ok])), 3),
                "stride_time_lag1": _lag1(np.log(st[ok])),
                "stride_length_lag1": _lag1(np.log(sl[ok])),
                "alerts": n_alerts,
            }
        )
        strides += an.n_accepted
        seconds += float(np.sum(st))
    return {
        "trials": trials,
        "strides": strides,
        "minutes": round(seconds / 60.0, 2),
        "alerts": alerts,
    }


def tradeoff(
    noise: S.Noise, seeds: int, hours: float, spacings: Sequence[float]
) -> dict[str, list[dict[str, Any]]]:
    """Stride-shortening threshold sweep: false alarms/hour against median delay."""
    out: dict[str, list[dict[str, Any]]] = {}
    for P in (S.SPRINT, S.DISTANCE):
        rows = []
        for spacing in spacings:
            st = AnalyzerSettings.for_event(P.name, shortening_false_alarm_strides=spacing)
            fa = false_alarms(P, noise, st, hours, mode="reps")
            row: dict[str, Any] = {
                "false_alarm_strides": spacing,
                "shortening_fa_per_hour": fa["by_kind_per_hour"]["stride_shortening"],
            }
            for drop in (0.03, 0.05, 0.10):
                r = delays(
                    lambda g, d=drop, P=P: S.shortening(g, P, d, noise=noise),
                    "stride_shortening",
                    st,
                    seeds,
                )
                row[f"median_{drop:.0%}"] = r["median_strides"]
            rows.append(row)
        out[P.name] = rows
    return out


def plot_tradeoff(curves: dict[str, list[dict[str, Any]]], default: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (name, rows) in zip(axes, curves.items(), strict=True):
        fa = [max(r["shortening_fa_per_hour"], 0.01) for r in rows]
        for key, mark in (("median_3%", "o-"), ("median_5%", "s-"), ("median_10%", "^-")):
            ax.plot(fa, [r[key] for r in rows], mark, label=f"{key[7:]} shorter")
            for r, x in zip(rows, fa, strict=True):
                if r["false_alarm_strides"] == default and key == "median_3%":
                    ax.annotate(
                        f"default: {default:,.0f} strides",
                        (x, r[key]),
                        textcoords="offset points",
                        xytext=(8, 8),
                    )
        ax.axvline(1.0, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(f"{name} profile (simulated, 2 % CV, AR(1) phi 0.3)")
        ax.set_xlabel("stride-shortening false alarms per hour (6 x 400 m, even pace)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("median detection delay (strides)")
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def throughput(n: int = 200_000) -> int:
    """Strides per second through Analyzer.feed_values on one core (best of 3)."""
    sc = S.steady(np.random.default_rng(0), S.SPRINT, n, S.Noise(phi=0.3))
    rows = [(s.t_s, s.stride_time_s, s.stride_length_m, s.contact_time_s) for s in sc.strides]
    best = 0.0
    for _ in range(3):
        feed = Analyzer().feed_values
        t = time.perf_counter()
        for r in rows:
            feed(*r)
        best = max(best, n / (time.perf_counter() - t))
    return int(best)


def markdown(results: dict[str, Any]) -> str:
    """The result tables of docs/detection.md, from the JSON this script writes."""
    lines: list[str] = []
    for cname, per in results["conditions"].items():
        lines += [
            f"**{cname}** (simulated; trials per cell: {per['sprint']['shortening_5%']['trials']})",
            "",
            "| scenario | sprint median (p90) | misses | distance median (p90) | misses |",
            "|---|---|---|---|---|",
        ]
        for key, sp in per["sprint"].items():
            if key.startswith("false_alarms") or key == "fatigue_400m":
                continue
            ds = per["distance"][key]
            lines.append(
                f"| {key} | {sp['median_strides']} ({sp['p90_strides']:.0f}) | {sp['misses']} "
                f"| {ds['median_strides']} ({ds['p90_strides']:.0f}) | {ds['misses']} |"
            )
        for key in ("false_alarms_reps", "false_alarms_continuous"):
            sp, ds = per["sprint"][key], per["distance"][key]
            lines.append(
                f"| {key} per hour | {sp['per_hour']} ({sp['alarms']} in {sp['hours']} h) | "
                f"| {ds['per_hour']} ({ds['alarms']} in {ds['hours']} h) | |"
            )
        sp, ds = per["sprint"]["fatigue_400m"], per["distance"]["fatigue_400m"]
        lines.append(
            f"| fatigue 400 m: strides after 3 % down / cued at / cued before 3 % | "
            f"{sp['median_strides_after_3pct_down']} / {sp['median_cued_at_m']} m / "
            f"{sp['cued_before_3pct']} | {sp['misses']} | "
            f"{ds['median_strides_after_3pct_down']} / {ds['median_cued_at_m']} m / "
            f"{ds['cued_before_3pct']} | {ds['misses']} |"
        )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400, help="trials per change scenario")
    ap.add_argument("--hours", type=float, default=100.0, help="steady running per FA figure")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "detection_results.json")
    ap.add_argument(
        "--figure", type=Path, default=ROOT / "docs" / "figures" / "detection_tradeoff.png"
    )
    ap.add_argument(
        "--imu-seeds", type=int, default=20, help="trials per IMU-chain scenario (0: skip)"
    )
    args = ap.parse_args(argv)
    # every fresh analyzer would warn about its first rejected stride: count, don't log
    logging.getLogger("stridecue.analysis.validate").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    conditions = {
        "cv2_phi0.3": S.Noise(time_cv=0.02, length_cv=0.02, phi=0.3),
        "cv2_phi0.5": S.Noise(time_cv=0.02, length_cv=0.02, phi=0.5),
        "cv1.5_phi0.3": S.Noise(time_cv=0.015, length_cv=0.015, phi=0.3),
        "cv3_phi0.3": S.Noise(time_cv=0.03, length_cv=0.03, phi=0.3),
        "cv3_phi0.3_floor3": S.Noise(time_cv=0.03, length_cv=0.03, phi=0.3),
    }
    # the last condition: the coach has told the analyzer this athlete varies by 3 %
    floor3 = {"time_cv_pct": 3.0, "length_cv_pct": 3.0}
    results: dict[str, Any] = {"seeds": args.seeds, "hours": args.hours, "conditions": {}}
    for cname, nz in conditions.items():
        per: dict[str, Any] = {}
        headline = cname == "cv2_phi0.3"
        for P in (S.SPRINT, S.DISTANCE):
            st = AnalyzerSettings.for_event(P.name, **(floor3 if "floor3" in cname else {}))
            seeds = args.seeds if headline else max(args.seeds // 2, 20)
            hours = args.hours if headline else args.hours / 4
            row = scenario_table(P, nz, st, seeds)
            row["fatigue_400m"] = fatigue_400(P, nz, st, seeds)
            row["false_alarms_reps"] = false_alarms(P, nz, st, hours, mode="reps")
            row["false_alarms_continuous"] = false_alarms(P, nz, st, hours, mode="continuous")
            per[P.name] = row
            print(cname, P.name, json.dumps(row), flush=True)
        results["conditions"][cname] = per
    sweep = (500.0, 2_000.0, 10_000.0, 30_000.0, 70_000.0, 200_000.0, 1_000_000.0)
    curves = tradeoff(conditions["cv2_phi0.3"], max(args.seeds // 2, 20), args.hours / 4, sweep)
    results["tradeoff_shortening_h"] = curves
    plot_tradeoff(curves, AnalyzerSettings().shortening_false_alarm_strides, args.figure)
    results["throughput_strides_per_s"] = throughput()
    real_settings = AnalyzerSettings(
        run_min_speed_mps=0.5,
        run_min_cadence_spm=60.0,
        settle_strides=2,
        baseline_strides=8,
    )
    results["real_pyshoe"] = real_pyshoe(real_settings)
    if args.imu_seeds:
        results["imu_chain"] = imu_chain(args.imu_seeds)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results) + "\n")
    print(f"wrote {args.out} and {args.figure} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
