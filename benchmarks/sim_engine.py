"""The pod's gait engine on simulated athletes from walking to sprinting (exact truth).

    python3 benchmarks/sim_engine.py

For each speed, 60 strides of steady running (natural variability from
stridecue.sim.strides, default cadence and contact time for the speed) go through
the IMU simulator (LSM6DSO32 at ±32 g / ±2000 dps, 416 Hz, noise, bias, scale error)
and then the firmware engine under CPython (the same file the pod runs). Printed as
a Markdown table for docs/simulator.md. Simulation, not a recording: see the doc.
"""

from __future__ import annotations

import sys

import numpy as np
from stridecue.engine import EngineConfig, run_cpython
from stridecue.imu_files import ImuData
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, simulate


def row(label: str, sc: scenarios.Scenario, seed: int) -> str:
    rec = simulate(sc.bouts, ImuConfig(), seed=seed, tail_s=3.0)
    out = run_cpython(ImuData(rec.t, rec.acc, rec.gyr), EngineConfig(416, 32, 2000))
    truth = [s for s in rec.strides if np.isfinite(s.contact_time_s)]
    t_truth = np.array([s.t_contact_s for s in truth])
    live = [o for o in out if "first" not in o["flags"]]
    matched, dl, dt, dc = 0, [], [], []
    for o in live:
        if not t_truth.size:
            break
        i = int(np.argmin(np.abs(t_truth - o["t_contact_s"])))
        if abs(t_truth[i] - o["t_contact_s"]) > 0.05:
            continue
        matched += 1
        s = truth[i]
        dl.append(o["stride_length_m"] / s.stride_length_m - 1.0)
        dt.append(o["stride_time_s"] - s.stride_time_s)
        dc.append(o["contact_time_s"] - s.contact_time_s)
    spec = sc.specs[len(sc.specs) // 2]
    cells = [
        label,
        f"{spec.cadence_spm:.0f}",
        f"{spec.contact_time_s * 1000:.0f}",
        f"{matched}/{len(truth)}",
        f"{len(live) - matched}",
    ]
    if matched:
        cells += [
            f"{np.median(np.abs(dl)):.1%}",
            f"{np.median(dl):+.1%}",
            f"{np.median(np.abs(dt)) * 1000:.0f}",
            f"{np.median(dc) * 1000:+.0f}",
        ]
    else:
        cells += ["-"] * 4
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    head = (
        "athlete",
        "cadence spm",
        "contact ms",
        "strides found",
        "extra",
        "length \\|err\\| median",
        "length bias",
        "stride time \\|err\\| ms",
        "contact time bias ms",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    print(row("walk 1.3 m/s", scenarios.build("walk", strides=60), 0))
    for k, v in enumerate((2.5, 3.5, 5.0, 6.0, 7.0, 7.5, 8.0, 9.0, 10.0)):
        print(row(f"run {v:g} m/s", scenarios.build("steady", speed_mps=v, strides=60, seed=k), k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
