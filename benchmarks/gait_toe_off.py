"""How the push-off rotation ends: real recordings beside the simulator (issue #19).

    python3 benchmarks/gait_toe_off.py      # ~30 s; reads ../shared/data (tuning trials)

The engine's toe-off is the push-off rotation peak (|gyro| maximum after a stance).
For every stance it prints how long after that peak |gyro| falls below 3/4 of it
(the engine's own confirmation), on the UCI course run + sprint (800 Hz, tuning
trials exp200, exp400), PyShoe tuned running (200 Hz), and the simulator at 4, 6
and 9 m/s, where it also prints the peak's offset from the simulator's toe-off.
A sharp collapse right after the peak marks the toe leaving the ground; a slow decay
leaves where the toe left open. Held-out trials are not read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from gait_accuracy import COURSE_DIR, HOLDOUT, PYSHOE_GYRO_LAG_US, RUNNING, course_parts
from stridecue import engine as eng_mod
from stridecue.engine import EngineConfig, run_cpython
from stridecue.imu_files import ImuData, read_pyshoe_mat, read_vectornav_mat
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, simulate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def after_peak(t: Any, gyr: Any, strides: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """(ms from each toe-off to |gyro| < 3/4 of its peak, peak deg/s), non-first strides."""
    rate = np.degrees(np.linalg.norm(gyr, axis=1))
    drop, peak = [], []
    for s in strides:
        if "first" in s["flags"]:
            continue
        to = s["t_contact_s"] - s["stride_time_s"] + s["contact_time_s"]
        i = int(np.argmin(np.abs(t - to)))
        pk = float(rate[max(0, i - 2) : i + 3].max())
        j = i
        while j < len(rate) - 1 and rate[j] >= 0.75 * pk:
            j += 1
        drop.append(1000 * float(t[j] - t[i]))
        peak.append(pk)
    return drop, peak


def line(label: str, drop: list[float], peak: list[float], extra: str = "") -> str:
    d = np.array(drop)
    return (
        f"{label:34s} n {len(d):3d}  peak -> 3/4: median {np.median(d):5.1f} ms "
        f"(p10 {np.percentile(d, 10):4.0f}, p90 {np.percentile(d, 90):4.0f})  "
        f"peak median {np.median(peak):5.0f} deg/s{extra}"
    )


def main() -> int:
    import os

    data_dir = Path(os.environ.get("STRIDECUE_DATA", DATA))
    for name in ("exp200", "exp400"):
        path = data_dir / COURSE_DIR / f"{name}_VN.mat"
        if not path.exists():
            print(f"no data at {path}; set STRIDECUE_DATA")
            return 1
        d = read_vectornav_mat(path)
        st = eng_mod.run(d, "cpython", 800, 16, 2000)
        _, r0, b = course_parts(st)
        # the stances that start the run + sprint strides' successors
        print(line(f"course {name} run + sprint", *after_peak(d.t_s, d.gyr_rps, st[r0 : b - 1])))
    drop: list[float] = []
    peak: list[float] = []
    for name in RUNNING:
        if name in HOLDOUT:
            continue
        d = read_pyshoe_mat(data_dir / "pyshoe_vicon" / "mat" / f"{name}.mat")
        st = eng_mod.run(d, "cpython", 200, 8, 2000, PYSHOE_GYRO_LAG_US)
        a, b2 = after_peak(d.t_s, d.gyr_rps, st)
        drop += a
        peak += b2
    print(line("PyShoe running (tuned trials)", drop, peak))
    for v in (4.0, 6.0, 9.0):
        sc = scenarios.build("steady", speed_mps=v, strides=40, seed=int(v * 10))
        rec = simulate(sc.bouts, ImuConfig(), seed=0, tail_s=3.0)
        st = run_cpython(ImuData(rec.t, rec.acc, rec.gyr), EngineConfig(416, 32, 2000))
        a, b2 = after_peak(rec.t, rec.gyr, st)
        # the simulator's toe-off against the |gyro| peak before it
        rate = np.degrees(np.linalg.norm(rec.gyr, axis=1))
        off, frac = [], []
        for s in rec.strides:
            to = s.t_contact_s + s.contact_time_s
            if not np.isfinite(to):
                continue
            m = np.flatnonzero((rec.t > to - 0.08) & (rec.t < to + 0.04))
            k = int(m[np.argmax(rate[m])])
            off.append(1000 * (rec.t[k] - to))
            frac.append(rate[int(np.argmin(np.abs(rec.t - to)))] / rate[k])
        extra = (
            f"; peak {np.median(off):+.0f} ms from its toe-off, "
            f"|gyro| there {np.median(frac):.2f} of the peak"
        )
        print(line(f"simulator {v:g} m/s (SIMULATION)", a, b2, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
