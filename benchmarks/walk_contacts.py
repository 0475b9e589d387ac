"""Where a walking stride's contact lands: the simulator's slow walks and real walking.

    python3 benchmarks/walk_contacts.py              # simulator + real (tuned, held-out)
    python3 benchmarks/walk_contacts.py --no-real    # simulator only (SIMULATION)

A slow walk lands twice: the heel strikes, the foot rolls flat for 100-170 ms, and
the forefoot slaps down, often harder than the heel. Issue #19's thirteenth pass
(docs/accuracy.md) makes the contact the heel strike; before it the engine took the
slap's look-back and put the contact in the roll, 50-150 ms late.

* Simulator (SIMULATION): walks at 0.5-2.0 m/s, 3 seeds x the three mountings of
  ``sim_engine.MOUNTS``, at 100 Hz (a low-rate sensor), 204.8 Hz (the gaitmap
  example's rate) and 416 Hz (the pod's). For every stride not from standing: the
  engine's contact minus the simulator's first touch (its contact stamp minus
  ``impact_s``): median, and how many are more than 30 ms late or early; and the
  stride lengths against the truth
  (p95 of |error|, and how many are more than 10 % off: a hang before the heel strike
  taken as the landing ended the stride while the foot still moved, ~20 % short); and
  the first stride's, from standing (median of the signed error: it read ~2.5 cm
  short, the origin following the heel's slow rise, before the fifteenth pass).
* Real walking has no contact truth here except the gaitmap example (scored by
  ``gait_accuracy.py``), so this prints what a contact that jumps between the heel
  strike and the roll does to the stride times: the stride-to-stride change
  |T(i+1) - T(i)| of consecutive walking strides (both stances longer than 0.45 s),
  median and mean in ms, per trial, with the tuned / held-out split of
  ``gait_accuracy.HOLDOUT``. On the course, only the forward walking (up to its first
  running stance; the backward and sideways walking after it is left out). A steady
  walk changes its stride time by a few percent (20-40 ms); a contact that jumps
  adds to that.

No constant is chosen from the held-out rows.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any

import numpy as np
from gait_accuracy import (
    COURSE,
    COURSE_DIR,
    DATA,
    HOLDOUT,
    PYSHOE_ACC_G,
    PYSHOE_GYRO_DPS,
    PYSHOE_GYRO_LAG_US,
    RUNNING,
)
from sim_engine import MOUNTS, numbers, recording
from stridecue.engine import EngineConfig, run, run_cpython
from stridecue.imu_files import ImuData, read_pyshoe_mat, read_vectornav_mat
from stridecue.sim import scenarios
from stridecue.sim.foot import FootShape

WALKS = (0.5, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0)  # m/s
RATES = (100.0, 204.8, 416.0)
WALK_STANCE_S = 0.45  # s; a stance longer than this is walking
OFF_S = 0.03  # s; a contact further than this from the first touch is counted
LONG_OFF = 0.10  # a stride length further than this from the truth is counted


def sim_row(speed: float, rate: float, seeds: int) -> str:
    errs: list[float] = []
    rel: list[float] = []  # stride length / truth - 1
    first: list[float] = []  # the same, for the first stride from standing
    for seed in range(seeds):
        sc = scenarios.build("walk", walk_speed_mps=speed, strides=20, seed=seed)
        for mount in MOUNTS.values():
            rec = recording(sc, mount, seed, rate)
            out = run_cpython(ImuData(rec.t, rec.acc, rec.gyr), EngineConfig(round(rate), 32, 2000))
            impact_s = FootShape.for_speed(speed, running=False).impact_s
            touch = np.array([s.t_contact_s for s in rec.strides]) - impact_s
            for o in out:
                if "first" in o["flags"]:
                    first.append(o["stride_length_m"] / rec.strides[0].stride_length_m - 1.0)
                    continue
                ic = o["t_contact_s"] - o["stride_time_s"]  # the stance this stride starts from
                errs.append(float(ic - touch[int(np.argmin(np.abs(touch - ic)))]))
                i = int(np.argmin(np.abs(touch - (o["t_contact_s"] - impact_s))))
                rel.append(o["stride_length_m"] / rec.strides[i].stride_length_m - 1.0)
    e = np.array(errs)
    r = np.abs(np.array(rel))
    return (
        f"| {speed:g} | {rate:g} | {len(e)} | {1000 * np.median(e):+.0f} | "
        f"{int(np.sum(e > OFF_S))} | {int(np.sum(e < -OFF_S))} | "
        f"{100 * np.percentile(r, 95):.1f}% | {int(np.sum(r > LONG_OFF))} | "
        f"{100 * np.median(first):+.1f}% |"
    )


def changes(strides: list[dict[str, Any]], end: int | None = None) -> tuple[int, float, float]:
    """(n, median, mean) of |stride-time change| between consecutive walking strides, ms."""
    stop = len(strides) if end is None else end
    keep = [
        i
        for i in range(2, stop)
        if strides[i]["contact_time_s"] > WALK_STANCE_S
        and strides[i - 1]["contact_time_s"] > WALK_STANCE_S
        and "first" not in strides[i]["flags"]
    ]
    d = [
        abs(strides[b]["stride_time_s"] - strides[a]["stride_time_s"])
        for a, b in itertools.pairwise(keep)
        if b == a + 1
    ]
    if not d:
        return 0, float("nan"), float("nan")
    return len(d), 1000 * float(np.median(d)), 1000 * float(np.mean(d))


def real_rows() -> list[str]:
    rows = []
    for mat in sorted((DATA / "pyshoe_vicon" / "mat").glob("*.mat")):
        if mat.stem in RUNNING:
            continue
        data = read_pyshoe_mat(mat)
        strides = run(data, "cpython", 200, PYSHOE_ACC_G, PYSHOE_GYRO_DPS, PYSHOE_GYRO_LAG_US)
        rows.append(("PyShoe " + mat.stem, mat.stem in HOLDOUT, changes(strides)))
    for name in COURSE:
        path = DATA / COURSE_DIR / f"{name}_VN.mat"
        if not path.exists():
            continue
        strides = run(read_vectornav_mat(path), "cpython", 800, 16, 2000)
        first_run = next(
            (i for i in range(1, len(strides)) if strides[i]["contact_time_s"] < WALK_STANCE_S),
            len(strides),
        )
        rows.append((f"course {name} (forward walk)", name in HOLDOUT, changes(strides, first_run)))
    out = []
    for name, held, (n, med, mean) in rows:
        tag = "held-out" if held else "tuned"
        out.append(f"| {name} | {tag} | {n} | {med:.0f} | {mean:.0f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="simulator seeds per row")
    ap.add_argument("--no-real", action="store_true", help="skip the real recordings")
    ap.add_argument(
        "--rates",
        type=numbers,
        default=",".join(f"{r:g}" for r in RATES),
        help="simulated rates, Hz",
    )
    args = ap.parse_args(argv)
    print("SIMULATION: engine contact minus the simulator's first touch")
    print()
    print(
        "| walk m/s | rate Hz | contacts | median ms | > 30 ms late | > 30 ms early "
        "| length \\|err\\| p95 | lengths > 10 % off | first stride length error median |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rates: list[float] = args.rates
    for rate in rates:
        for speed in WALKS:
            print(sim_row(speed, rate, args.seeds), flush=True)
    if args.no_real:
        return 0
    if not DATA.is_dir():
        print(f"no data at {DATA}; set STRIDECUE_DATA", file=sys.stderr)
        return 2
    print()
    print("Real walking: |stride time change| between consecutive walking strides")
    print()
    print("| trial | split | changes | median ms | mean ms |")
    print("|---|---|---|---|---|")
    for row in real_rows():
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
