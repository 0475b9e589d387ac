"""stridecue import-imu SRC OUT.csv: convert a recording to the StrideCue IMU CSV.

Reads a PyShoe Vicon .mat (imu in m/s² and rad/s, ts in s) or the gaitmap example
imu_sample.csv (m/s², deg/s, 204.8 Hz, both feet: pick one with --foot) and writes
t,ax,ay,az,gx,gy,gz in seconds, m/s² and rad/s, which stridecue steps reads. A
StrideCue CSV as input is checked and copied. A recording with fewer than 2 samples,
a NaN or infinite value, or time not increasing is refused, and nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stridecue.commands._pipe import write_lines
from stridecue.imu_files import ImuFileError, read_any, write_csv


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import-imu",
        help="convert a PyShoe .mat or gaitmap CSV recording to the IMU CSV",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("src", type=Path, metavar="SRC", help=".mat (PyShoe) or .csv (gaitmap)")
    p.add_argument("out", type=Path, metavar="OUT.csv", help="IMU CSV to write")
    p.add_argument(
        "--foot", choices=("left", "right"), default="right", help="gaitmap sensor (default right)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = read_any(args.src, args.foot)
    if args.out.exists() and args.out.samefile(args.src):
        raise ImuFileError(f"{args.out} is the recording being read; give a new name for the CSV")
    write_csv(args.out, data)
    return write_lines([f"{args.out}: {len(data)} samples at {data.rate_hz():.1f} Hz\n"])
