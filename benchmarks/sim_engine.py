"""The pod's gait engine on simulated athletes from walking to sprinting (exact truth).

    python3 benchmarks/sim_engine.py            # 3 seeds x 3 mountings per speed
    python3 benchmarks/sim_engine.py --seeds 1  # quicker
    python3 benchmarks/sim_engine.py --rate 100 # a slower sensor (an imported recording)
    python3 benchmarks/sim_engine.py --rate 150 --bandwidth 70  # with its own low-pass
    python3 benchmarks/sim_engine.py --gyro-offset 2  # an uncalibrated gyro, 2 deg/s per axis

For each speed and each (seed, mounting), 40 strides of steady running from a
standing start to a stop (natural variability from stridecue.sim.strides, default
cadence and contact time for the speed) go through the IMU simulator (LSM6DSO32 at
±32 g / ±2000 dps, 416 Hz unless --rate, noise, bias, scale error; seed-drawn) and then the
firmware engine under CPython (the same file the pod runs). Printed as Markdown
tables for docs/accuracy.md and docs/simulator.md. SIMULATION, not a recording.

Matching: an engine stride is stamped at the contact that ends it, as is the
simulator's truth; they match within MATCH_S. Every truth stride counts, the one
from the standing start and the one ending at the stop included. The engine's
contact time belongs to the stance that starts the stride, so it is compared with
that stance's truth, and split into its two ends (the engine's contact and toe-off
against the simulator's). The simulator stamps a contact at the END of the landing
impact (``impact_s``, 11-16 ms after the shoe first meets the ground: docs/accuracy-record.md,
issue #19 fifth pass), so an engine that finds the first touch reads that much early.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

import numpy as np
from stridecue.engine import EngineConfig, run_cpython
from stridecue.imu_files import ImuData
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, Recording, simulate

MATCH_S = 0.03  # s; an engine contact this close to the true one is the same stride
WALKS = (0.8, 1.3)  # m/s; a slow walk lands twice (heel strike, then the slap)
SPEEDS = (3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0)
# sensor frame relative to the foot: (roll, pitch, yaw) in degrees
MOUNTS = {
    "instep": (0.0, -20.0, 0.0),
    "tilted": (30.0, -35.0, 70.0),
    "lateral": (90.0, 0.0, 180.0),
}


@dataclass
class Tally:
    n_true: int = 0
    n_found: int = 0
    n_match: int = 0
    rel_len: list[float] = field(default_factory=list)
    d_stride: list[float] = field(default_factory=list)
    d_contact: list[float] = field(default_factory=list)
    d_ic: list[float] = field(default_factory=list)  # engine - true contact of that stance, s
    d_to: list[float] = field(default_factory=list)  # engine - true toe-off of that stance, s
    latency: list[float] = field(default_factory=list)  # t_report_s - true contact, s
    rel_ratio: list[float] = field(default_factory=list)  # stride-to-stride length ratio
    true_ratio: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.n_true += other.n_true
        self.n_found += other.n_found
        self.n_match += other.n_match
        self.rel_len += other.rel_len
        self.d_stride += other.d_stride
        self.d_contact += other.d_contact
        self.d_ic += other.d_ic
        self.d_to += other.d_to
        self.latency += other.latency
        self.rel_ratio += other.rel_ratio
        self.true_ratio += other.true_ratio


def numbers(text: str) -> list[float]:
    """An argparse type: numbers separated by commas ("100,176,208")."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes numbers separated by commas, not {text!r}"
        ) from None


def recording(
    sc: scenarios.Scenario,
    mount: tuple[float, float, float],
    seed: int,
    rate: float = 416.0,
    bandwidth: float = 0.0,
    tail_s: float = 3.0,
) -> Recording:
    """The simulated sensor's record of ``sc`` under ``mount`` (roll, pitch, yaw in
    degrees), ``tail_s`` standing after it."""
    roll, pitch, yaw = mount
    cfg = ImuConfig(
        rate_hz=rate,
        bandwidth_hz=bandwidth,
        mount_roll_deg=roll,
        mount_pitch_deg=pitch,
        mount_yaw_deg=yaw,
    )
    return simulate(sc.bouts, cfg, seed=seed, tail_s=tail_s)


def one_run(
    sc: scenarios.Scenario,
    mount: tuple[float, float, float],
    seed: int,
    acc_g: int = 32,
    rate: float = 416.0,
    bandwidth: float = 0.0,
    gyro_offset_dps: float = 0.0,
) -> Tally:
    rec = recording(sc, mount, seed, rate, bandwidth)
    # an uncalibrated gyro's offset, on top of the simulator's own (drawn per seed)
    gyr = rec.gyr + np.radians(gyro_offset_dps) * np.array([1.0, -1.0, 1.0])
    # a smaller range than the simulated 32 g part clips in to_counts, as the sensor would
    out = run_cpython(ImuData(rec.t, rec.acc, gyr), EngineConfig(round(rate), acc_g, 2000))
    truth = rec.strides
    t_truth = np.array([s.t_contact_s for s in truth])
    tally = Tally(n_true=len(truth), n_found=len(out))
    used: set[int] = set()
    prev: tuple[int, float] | None = None
    for o in out:
        i = int(np.argmin(np.abs(t_truth - o["t_contact_s"])))
        if abs(t_truth[i] - o["t_contact_s"]) > MATCH_S or i in used:
            continue
        used.add(i)
        tally.n_match += 1
        s = truth[i]
        tally.rel_len.append(o["stride_length_m"] / s.stride_length_m - 1.0)
        tally.latency.append(o["t_report_s"] - s.t_contact_s)
        if prev is not None and prev[0] == i - 1 and not s.first:
            tally.rel_ratio.append(o["stride_length_m"] / prev[1])
            tally.true_ratio.append(s.stride_length_m / truth[i - 1].stride_length_m)
        prev = (i, o["stride_length_m"])
        if s.first or "first" in o["flags"]:
            continue  # from standing: stride and contact time are not gait figures
        tally.d_stride.append(o["stride_time_s"] - s.stride_time_s)
        if i > 0 and np.isfinite(truth[i - 1].contact_time_s):
            tally.d_contact.append(o["contact_time_s"] - truth[i - 1].contact_time_s)
            # the two ends of that contact: the stance that starts this stride
            ic = o["t_contact_s"] - o["stride_time_s"]
            tally.d_ic.append(ic - truth[i - 1].t_contact_s)
            tally.d_to.append(
                ic + o["contact_time_s"] - truth[i - 1].t_contact_s - truth[i - 1].contact_time_s
            )
    return tally


def cells(t: Tally) -> list[str]:
    p = t.n_match / t.n_found if t.n_found else 0.0
    r = t.n_match / t.n_true if t.n_true else 0.0
    out = [f"{t.n_match}/{t.n_true}", f"{t.n_found - t.n_match}", f"{p:.3f}", f"{r:.3f}"]
    if t.rel_len:
        rel = np.array(t.rel_len)
        out += [
            f"{np.median(np.abs(rel)):.1%}",
            f"{np.mean(rel):+.1%}",
            f"{np.percentile(np.abs(rel), 90):.1%}",
            f"{np.median(np.abs(t.d_stride)) * 1000:.0f} / "
            f"{np.percentile(np.abs(t.d_stride), 90) * 1000:.0f}"
            if t.d_stride
            else "-",
            f"{np.median(t.d_contact) * 1000:+.0f}" if t.d_contact else "-",
            f"{np.median(t.d_ic) * 1000:+.0f} / {np.median(t.d_to) * 1000:+.0f}" if t.d_ic else "-",
            f"{np.median(t.latency) * 1000:.0f}",
            f"{np.std(np.log(t.rel_ratio)) / np.sqrt(2):.1%} / "
            f"{np.std(np.log(t.true_ratio)) / np.sqrt(2):.1%}"
            if t.rel_ratio
            else "-",
        ]
    else:
        out += ["-"] * 8
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per speed and mounting")
    ap.add_argument("--strides", type=int, default=40, help="strides per run")
    ap.add_argument("--acc-g", type=int, default=32, help="accelerometer full scale (clips)")
    ap.add_argument("--min-speed", type=float, default=0.0, help="skip slower rows (and walk)")
    ap.add_argument("--rate", type=float, default=416.0, help="sample rate, Hz (the pod: 416)")
    ap.add_argument(
        "--bandwidth", type=float, default=0.0, help="the sensor's own low-pass, Hz (0: none)"
    )
    ap.add_argument(
        "--gyro-offset",
        type=float,
        default=0.0,
        help="deg/s added to the gyro's x, -y, z (an uncalibrated part's offset)",
    )
    args = ap.parse_args(argv)
    head = (
        "athlete",
        "cadence spm",
        "contact ms",
        "strides found",
        "extra",
        "P",
        "R",
        "length \\|err\\| median",
        "length bias",
        "length \\|err\\| p90",
        "stride time \\|err\\| ms median / p90",
        "contact time bias ms",
        "contact / toe-off error ms median",
        "report latency ms median",
        "stride-to-stride scatter engine / truth",
    )
    lpf = f", low-pass {args.bandwidth:g} Hz" if args.bandwidth else ""
    if args.gyro_offset:
        lpf += f", gyro offset {args.gyro_offset:g} deg/s (x, -y, z)"
    print(f"{args.rate:g} Hz{lpf}, accelerometer {args.acc_g} g, gyro 2000 deg/s; ", end="")
    print(f"{args.seeds} seed(s) x {len(MOUNTS)} mountings ({', '.join(MOUNTS)}) per row")
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    runs: list[tuple[str, float, list[scenarios.Scenario]]] = []
    for w in WALKS if args.min_speed <= 0 else ():
        walks = [
            scenarios.build("walk", walk_speed_mps=w, strides=args.strides, seed=k)
            for k in range(args.seeds)
        ]
        runs.append((f"walk {w:g} m/s", 0.0, walks))
    for v in (v for v in SPEEDS if v >= args.min_speed):
        scs = [
            scenarios.build("steady", speed_mps=v, strides=args.strides, seed=100 * k + int(v * 10))
            for k in range(args.seeds)
        ]
        runs.append((f"run {v:g} m/s", v, scs))
    total = Tally()
    for label, v, scs in runs:
        t = Tally()
        for k, sc in enumerate(scs):
            for mount in MOUNTS.values():
                t.add(
                    one_run(sc, mount, k, args.acc_g, args.rate, args.bandwidth, args.gyro_offset)
                )
        if v >= 3.0:
            total.add(t)
        spec = scs[0].specs[len(scs[0].specs) // 2]
        row = [label, f"{spec.cadence_spm:.0f}", f"{spec.contact_time_s * 1000:.0f}"]
        print("| " + " | ".join(row + cells(t)) + " |", flush=True)
    print("| **all runs 3 to 10 m/s** | | | " + " | ".join(cells(total)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
