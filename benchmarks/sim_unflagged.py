"""Strides the gait engine gets wrong without a flag, across sample rates (SIMULATION).

    python3 benchmarks/sim_unflagged.py                    # 100, 176, 208, 416, 833 Hz
    python3 benchmarks/sim_unflagged.py --rates 190,220 --list
    python3 benchmarks/sim_unflagged.py --rates 100 --bandwidth 45

Issue #19's last condition: every stride the engine cannot trust is flagged, never
silently wrong. For each rate this runs the simulator's athletes through the firmware
engine (CPython, the same file the pod runs): slow to brisk walks, steady runs from
3 to 10 m/s (40 strides from a standing start to a stop), and track sessions (a 400 m
rep at 5, 7 and 9 m/s, a fading 400 m, a relay leg with its hand-off, two 400 m
cadence reps with a 30 s jog between), each under the three mountings of
``sim_engine.py``. A stride is wrong when its contact is more than ``--contact-ms``
from the truth's or its length more than ``--length`` off; it is silent when it
carries no flag but ``first`` (clipping, turn, low quality and gap flags all tell the
coach not to trust it). Engine strides that match no true contact count as wrong
(the contact is off); true strides the engine never reports are counted as missed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from sim_engine import MOUNTS, SPEEDS, numbers, recording
from stridecue.engine import EngineConfig, run_cpython
from stridecue.imu_files import ImuData
from stridecue.sim import scenarios

WALK_SPEEDS = (0.5, 0.8, 1.3, 2.0)  # m/s
TRACK: tuple[tuple[str, dict[str, float]], ...] = (
    ("rep", {"speed_mps": 5.0, "distance_m": 400.0}),
    ("rep", {"speed_mps": 7.0, "distance_m": 400.0}),
    ("rep", {"speed_mps": 9.0, "distance_m": 400.0}),
    ("fatigue-400", {}),
    ("relay-leg", {}),
    ("cadence-reps", {"reps": 2, "distance_m": 400.0, "recovery_s": 30.0}),
)
TRUST = frozenset({"low_quality", "turn", "gap", "acc_sat", "gyr_sat"})


@dataclass
class Count:
    strides: int = 0  # true strides
    missed: int = 0  # true strides no engine stride matched
    wrong: int = 0  # engine strides with the contact or the length off
    flagged: int = 0  # of those, flagged
    lines: tuple[str, ...] = ()

    def add(self, other: Count) -> None:
        self.strides += other.strides
        self.missed += other.missed
        self.wrong += other.wrong
        self.flagged += other.flagged
        self.lines += other.lines


def sessions(seeds: int, strides: int) -> list[tuple[str, scenarios.Scenario]]:
    out = []
    for k in range(seeds):
        for w in WALK_SPEEDS:
            sc = scenarios.build("walk", walk_speed_mps=w, strides=strides, seed=k)
            out.append((f"walk {w:g} m/s seed {k}", sc))
        for v in SPEEDS:
            sc = scenarios.build("steady", speed_mps=v, strides=strides, seed=100 * k + int(v * 10))
            out.append((f"run {v:g} m/s seed {k}", sc))
        for name, params in TRACK:
            sc = scenarios.build(name, seed=k, **params)
            label = " ".join([name, *(f"{p}={x:g}" for p, x in params.items()), f"seed {k}"])
            out.append((label, sc))
    return out


def one(
    label: str,
    sc: scenarios.Scenario,
    mount: str,
    seed: int,
    args: argparse.Namespace,
    rate: float,
) -> Count:
    rec = recording(sc, MOUNTS[mount], seed, rate, args.bandwidth)
    out: list[dict[str, Any]] = run_cpython(
        ImuData(rec.t, rec.acc, rec.gyr), EngineConfig(round(rate), args.acc_g, 2000)
    )
    truth = rec.strides
    t_true = np.array([s.t_contact_s for s in truth])
    c = Count(strides=len(truth))
    matched: set[int] = set()
    lines = []
    for o in out:
        i = int(np.argmin(np.abs(t_true - o["t_contact_s"])))
        d_ms = 1000.0 * (o["t_contact_s"] - t_true[i])
        rel = o["stride_length_m"] / truth[i].stride_length_m - 1.0
        if abs(d_ms) <= args.contact_ms:
            matched.add(i)
        if abs(d_ms) <= args.contact_ms and abs(rel) <= args.length:
            continue
        c.wrong += 1
        flags = set(o["flags"]) & TRUST
        c.flagged += bool(flags)
        if not flags:
            lines.append(
                f"{rate:g} Hz {label} {mount}: stride at {o['t_contact_s']:.3f} s, "
                f"contact {d_ms:+.0f} ms, length {100 * rel:+.1f} % "
                f"({o['stride_length_m']:.2f} m for {truth[i].stride_length_m:.2f} m)"
            )
    c.missed = len(truth) - len(matched)
    c.lines = tuple(lines)
    return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=numbers, default="100,176,208,416,833", help="sample rates, Hz")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per athlete and mounting")
    ap.add_argument("--strides", type=int, default=40, help="strides per walk and steady run")
    ap.add_argument("--acc-g", type=int, default=32, help="accelerometer full scale (clips)")
    ap.add_argument("--bandwidth", type=float, default=0.0, help="sensor low-pass, Hz (0: none)")
    ap.add_argument("--length", type=float, default=0.05, help="a length this far off is wrong")
    ap.add_argument("--contact-ms", type=float, default=30.0, help="a contact this far is wrong")
    ap.add_argument("--list", action="store_true", help="print every silent wrong stride")
    args = ap.parse_args(argv)
    rates: list[float] = args.rates
    runs = sessions(args.seeds, args.strides)
    lpf = f", low-pass {args.bandwidth:g} Hz" if args.bandwidth else ""
    print(
        f"SIMULATION: accelerometer {args.acc_g} g{lpf}; {len(runs)} sessions x "
        f"{len(MOUNTS)} mountings a rate; wrong: contact > {args.contact_ms:g} ms or "
        f"length > {100 * args.length:g} % off"
    )
    print()
    print("| rate Hz | true strides | missed | wrong | of which flagged | silent |")
    print("|---|---|---|---|---|---|")
    silent: list[str] = []
    for rate in rates:
        total = Count()
        for label, sc in runs:
            seed = int(label.rsplit(" ", 1)[1])
            for mount in MOUNTS:
                total.add(one(label, sc, mount, seed, args, rate))
        print(
            f"| {rate:g} | {total.strides} | {total.missed} | {total.wrong} | "
            f"{total.flagged} | {total.wrong - total.flagged} |",
            flush=True,
        )
        silent += total.lines
    if args.list and silent:
        print()
        for line in silent:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
