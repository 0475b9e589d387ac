"""A simulated recording on disk: the IMU CSV every tool reads, and its truth beside it.

``NAME.csv`` is the StrideCue IMU CSV (``t,ax,ay,az,gx,gy,gz``: s, m/s², rad/s; see
:mod:`stridecue.imu_files`), so ``stridecue steps`` and the simulation board replay it
like a real recording. ``NAME.truth.csv`` has one row per stride in the
``stridecue analyze`` layout (``t_s,stride_time_s,stride_length_m,contact_time_s``)
plus the speed and whether the stride started from standing.
"""

from __future__ import annotations

import math
from pathlib import Path

from stridecue.imu_files import ImuData, write_csv
from stridecue.sim.imu import Recording, SimStride

TRUTH_HEADER = "t_s,stride_time_s,stride_length_m,contact_time_s,speed_mps,first"


def truth_path(imu_csv: Path) -> Path:
    return imu_csv.with_name(imu_csv.stem + ".truth.csv")


def write_recording(path: Path, rec: Recording) -> Path:
    """Write the IMU CSV at ``path`` and the truth CSV next to it; returns the truth path."""
    write_csv(path, ImuData(rec.t, rec.acc, rec.gyr))
    out = truth_path(path)
    out.write_text("\n".join([TRUTH_HEADER, *(_row(s) for s in rec.strides)]) + "\n")
    return out


def _row(s: SimStride) -> str:
    ct = "" if math.isnan(s.contact_time_s) else f"{s.contact_time_s:.5f}"
    return (
        f"{s.t_contact_s:.5f},{s.stride_time_s:.5f},{s.stride_length_m:.5f},{ct},"
        f"{s.speed_mps:.4f},{int(s.first)}"
    )
