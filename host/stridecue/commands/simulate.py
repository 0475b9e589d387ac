"""``stridecue simulate``: write a virtual athlete's IMU recording and its exact truth."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from stridecue.errors import ConfigError
from stridecue.sim import scenarios
from stridecue.sim.files import write_recording
from stridecue.sim.imu import ImuConfig, simulate


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a simulated athlete's IMU CSV and its per-stride truth (no hardware)",
        description=(
            "Run a named scenario through the foot and IMU simulator and write the IMU CSV "
            "(t,ax,ay,az,gx,gy,gz: s, m/s^2, rad/s; what `stridecue steps` reads) and, next "
            "to it, NAME.truth.csv with the exact truth of every stride. Scenarios: "
            + ", ".join(scenarios.NAMES)
            + ". See docs/simulator.md."
        ),
    )
    p.add_argument("scenario", help="scenario name, e.g. fatigue-400")
    p.add_argument("out", type=Path, help="IMU CSV to write")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="scenario parameter, e.g. --param speed_mps=7 (repeatable)",
    )
    p.add_argument("--rate", type=float, default=416.0, help="sample rate, Hz (416)")
    p.add_argument("--acc-range-g", type=float, default=32.0, help="accelerometer range (32)")
    p.add_argument("--gyro-range-dps", type=float, default=2000.0, help="gyro range (2000)")
    p.add_argument("--ideal", action="store_true", help="no noise, bias, scale error or rounding")
    p.add_argument("--seed", type=int, default=0, help="seed of the sensor noise (0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sc = scenarios.build(args.scenario, **scenarios.parse_params(args.param, "--param speed_mps=7"))
    ranges = {"rate_hz": args.rate, "acc_range_g": args.acc_range_g}
    ranges["gyro_range_dps"] = args.gyro_range_dps
    base = ImuConfig.ideal() if args.ideal else ImuConfig()
    cfg = dataclasses.replace(base, **ranges)
    rec = simulate(sc.bouts, cfg, seed=args.seed)
    if args.out.parent and not args.out.parent.is_dir():
        raise ConfigError(f"{args.out.parent}: no such folder; create it or pick another path")
    truth = write_recording(args.out, rec)
    sat = sum(s.acc_saturated or s.gyro_saturated for s in rec.strides)
    print(
        f"{sc.name}: {sc.description}\n"
        f"{len(rec.t)} samples ({rec.t[-1]:.1f} s at {cfg.rate_hz:g} Hz) -> {args.out}\n"
        f"{len(rec.strides)} strides of truth ({sat} with a clipped sensor) -> {truth}\n"
        "change points: "
        + (", ".join(f"{c.kind} at stride {c.index}" for c in sc.change_points) or "none")
    )
    return 0
