"""stridecue steps FILE.csv: run the pod's gait engine over a recorded IMU file.

Input: a CSV with the header t,ax,ay,az,gx,gy,gz (seconds, m/s², rad/s, sensor
frame as recorded, any mounting), one sample per line in time order; stridecue
import-imu makes one from the public recordings. Output: one stride per line, from
one foot contact to the next contact of the same foot (cadence in steps/min =
2 * 60 / stride_time_s for a one-foot pod). With --json each line is
{"t_contact_s": …, "stride_time_s": …, "contact_time_s": …, "stride_length_m": …, "flags": […],
"t_report_s": …} (t_report_s: the time of the sample on which the engine reported it).
The engine is the firmware file itself, run on the MicroPython unix port (default when
installed) or imported under CPython.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stridecue import engine
from stridecue.commands._pipe import write_lines
from stridecue.imu_files import ImuFileError, read_csv


def register(sub: Any) -> None:
    p = sub.add_parser(
        "steps",
        help="strides (contact, stride and contact time, length) from an IMU CSV",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("csv", type=Path, metavar="FILE.csv", help="IMU CSV t,ax,ay,az,gx,gy,gz")
    p.add_argument("--json", action="store_true", help="one JSON object per line per stride")
    p.add_argument(
        "--engine",
        choices=("micropython", "cpython"),
        default=None,
        help="where the firmware engine runs (default: micropython when installed)",
    )
    p.add_argument(
        "--rate-hz", type=int, default=None, help="sample rate (default: from the timestamps)"
    )
    p.add_argument(
        "--acc-range-g", type=int, default=16, help="accelerometer full scale, g (default 16)"
    )
    p.add_argument(
        "--gyro-range-dps", type=int, default=2000, help="gyro full scale, deg/s (default 2000)"
    )
    p.add_argument(
        "--gyro-lag-us",
        type=int,
        default=0,
        help="how late the sensor's gyro reports an instant against its accelerometer, us "
        "(default 0; 7500 for the PyShoe MicroStrain: docs/accuracy.md)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = read_csv(args.csv)
    try:
        strides = engine.run(
            data,
            args.engine,
            args.rate_hz,
            args.acc_range_g,
            args.gyro_range_dps,
            args.gyro_lag_us,
        )
    except engine.EngineInputError as e:
        raise ImuFileError(f"{args.csv}: {e}") from None
    return write_lines(_lines(strides, args.json))


def _lines(strides: list[dict[str, Any]], as_json: bool) -> Iterator[str]:
    for s in strides:
        if as_json:
            yield json.dumps(s) + "\n"
        else:
            cadence = 120.0 / s["stride_time_s"] if s["stride_time_s"] > 0 else 0.0
            yield (
                f"{s['t_contact_s']:9.3f} s  stride {s['stride_time_s']:.3f} s "
                f"({cadence:5.1f} spm)  contact {s['contact_time_s']:.3f} s  "
                f"length {s['stride_length_m']:.3f} m  {','.join(s['flags'])}\n"
            )
    if not as_json:
        yield f"{len(strides)} strides\n"
