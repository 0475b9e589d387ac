"""A whole 400 m rep through the gait engine with an uncalibrated gyro. SIMULATION.

    python3 benchmarks/sim_long_rep.py [--scenario fatigue-400|steady] [--speeds 6 7 8 9]
                                       [--offset-dps 1.0]

The pod does not calibrate its gyro: the LSM6DSO32's zero-rate level is +-1 deg/s
typical. The engine levels its attitude on still samples in each stance. Until issue
#19's eleventh pass (docs/accuracy-record.md), a stance too short for a levelling block let
the attitude run free on the gyro: an offset tilted it further with every stride and,
over a whole rep, read the last 100 m short. Such a stance now levels on its landing.

This benchmark runs the simulator's ``fatigue-400`` (400 m from the given speed,
fading over the last 100 m: what a coach watches for) or
``steady`` (100 strides at one speed, about 400 m, no fade) at 416 Hz / 32 g, each of
``sim_engine.MOUNTS``, with no offset and with ``--offset-dps`` on every axis in three
sign patterns, and prints per run:

* distance: the engine's strides summed against the truth's, in %;
* last 100 m: the engine's mean stride length there against the truth's, in %;
* fade: the engine's last-100 m mean stride against its own 100-300 m mean, beside
  the truth's (what a coach is shown as "stride shortening");
* low quality: strides the engine flagged ``low_quality`` (the host does not judge them).

No constant is chosen from it; it shows whether a rep stays trustworthy to its end.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import numpy as np
from sim_engine import MATCH_S, MOUNTS
from stridecue.engine import EngineConfig, run_cpython
from stridecue.imu_files import ImuData
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, simulate

SIGNS = ((1.0, -1.0, 1.0), (-1.0, 1.0, 1.0), (1.0, 1.0, -1.0))


def one_rep(
    scenario: str, speed: float, mount: tuple[float, float, float], offset_rps: np.ndarray
) -> str:
    roll, pitch, yaw = mount
    if scenario == "steady":
        sc = scenarios.build("steady", speed_mps=speed, strides=100, seed=0)
    else:
        sc = scenarios.build(scenario, speed_mps=speed, seed=0)
    cfg = ImuConfig(mount_roll_deg=roll, mount_pitch_deg=pitch, mount_yaw_deg=yaw)
    rec = simulate(sc.bouts, replace(cfg, gyro_bias_rps=0.0), seed=0, tail_s=3.0)
    out = run_cpython(ImuData(rec.t, rec.acc, rec.gyr + offset_rps), EngineConfig(416, 32, 2000))
    truth = rec.strides
    t_true = np.array([s.t_contact_s for s in truth])
    true_m = np.array([s.stride_length_m for s in truth])
    at = np.cumsum(true_m)  # true distance at the end of each stride
    eng = np.full(len(truth), np.nan)
    for o in out:
        i = int(np.argmin(np.abs(t_true - o["t_contact_s"])))
        if abs(t_true[i] - o["t_contact_s"]) <= MATCH_S:
            eng[i] = o["stride_length_m"]
    found = np.isfinite(eng)
    last = found & (at > at[-1] - 100.0)
    mid = found & (at > at[-1] - 300.0) & (at <= at[-1] - 100.0)
    dist = np.nansum(eng) / true_m.sum() - 1.0
    last_err = eng[last].mean() / true_m[last].mean() - 1.0
    fade_eng = eng[last].mean() / eng[mid].mean() - 1.0
    fade_true = true_m[last].mean() / true_m[mid].mean() - 1.0
    lowq = sum(1 for o in out if "low_quality" in o["flags"])
    return (
        f"{100 * dist:+.1f}% | {100 * last_err:+.1f}% | {100 * fade_eng:+.1f}% "
        f"({100 * fade_true:+.1f}%) | {lowq}/{len(out)} | {int(found.sum())}/{len(truth)}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", choices=("fatigue-400", "steady"), default="fatigue-400")
    ap.add_argument("--speeds", type=float, nargs="+", default=[6.0, 7.0, 8.0, 9.0])
    ap.add_argument("--offset-dps", type=float, default=1.0, help="gyro offset per axis")
    args = ap.parse_args(argv)
    print(f"SIMULATION: {args.scenario} (about 400 m), 416 Hz, 32 g")
    print()
    print(
        "| start speed | mounting | gyro offset deg/s (x, y, z) | distance | last 100 m "
        "| fade engine (truth) | low quality | strides matched |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for speed in args.speeds:
        for name, mount in MOUNTS.items():
            offsets = [(0.0, 0.0, 0.0)] + [
                tuple(args.offset_dps * s for s in sign) for sign in SIGNS
            ]
            for off in offsets:
                row = one_rep(args.scenario, speed, mount, np.radians(np.array(off)))
                label = ", ".join(f"{v:+g}" for v in off)
                print(f"| {speed:g} m/s | {name} | {label} | {row} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
