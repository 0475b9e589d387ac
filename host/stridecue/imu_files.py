"""Foot-IMU recordings on disk: the StrideCue CSV and the public validation formats.

The StrideCue IMU CSV has the header ``t,ax,ay,az,gx,gy,gz``: time in seconds,
specific force in m/s², rotation rate in rad/s, sensor frame as recorded (any
mounting). ``read_pyshoe_mat`` and ``read_gaitmap_csv`` read the recordings in
``../shared/data`` (PyShoe Vicon ``.mat``; gaitmap example ``imu_sample.csv``) into the
same shape, so ``stridecue import-imu`` can convert them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stridecue.errors import StrideCueError

HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")
GAITMAP_RATE_HZ = 204.8
Array = npt.NDArray[np.float64]


class ImuFileError(StrideCueError):
    """An IMU file that is missing, of an unknown kind, or malformed."""


@dataclass(frozen=True)
class ImuData:
    """A recording: ``t_s`` (N,), ``acc_mps2`` (N, 3) and ``gyr_rps`` (N, 3)."""

    t_s: Array
    acc_mps2: Array
    gyr_rps: Array

    def __post_init__(self) -> None:
        n = len(self.t_s)
        if self.acc_mps2.shape != (n, 3) or self.gyr_rps.shape != (n, 3):
            raise ImuFileError("IMU arrays must be t (N,), acc (N, 3) and gyro (N, 3)")

    def __len__(self) -> int:
        return len(self.t_s)

    def rate_hz(self) -> float:
        """Nominal sample rate from the median timestamp step."""
        if len(self.t_s) < 2:
            raise ImuFileError("an IMU recording needs at least 2 samples to know its rate")
        step = float(np.median(np.diff(self.t_s)))
        if not step > 0:
            raise ImuFileError("timestamps in column t must increase (seconds)")
        return 1.0 / step


def _exists(path: Path) -> None:
    if not path.is_file():
        raise ImuFileError(f"{path}: no such file")


def read_csv(path: Path) -> ImuData:
    """Read a StrideCue IMU CSV (header ``t,ax,ay,az,gx,gy,gz``)."""
    _exists(path)
    rows: list[list[float]] = []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise ImuFileError(
                f"{path}: first line must be the header {','.join(HEADER)} "
                f"(seconds, m/s^2, rad/s); got {','.join(header or [])!r}"
            )
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(HEADER):
                raise ImuFileError(f"{path}:{lineno}: expected 7 columns, got {len(row)}")
            try:
                vals = [float(v) for v in row]
            except ValueError:
                raise ImuFileError(
                    f"{path}:{lineno}: non-numeric value in {row!r}; every field must be a number"
                ) from None
            if not all(math.isfinite(v) for v in vals):
                raise ImuFileError(f"{path}:{lineno}: NaN or infinite value in {row!r}")
            rows.append(vals)
    if not rows:
        raise ImuFileError(f"{path}: no samples after the header")
    a = np.asarray(rows, dtype=np.float64)
    return ImuData(a[:, 0].copy(), a[:, 1:4].copy(), a[:, 4:7].copy())


def write_csv(path: Path, data: ImuData) -> None:
    """Write ``data`` as a StrideCue IMU CSV."""
    table = np.column_stack([data.t_s, data.acc_mps2, data.gyr_rps])
    with path.open("w", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        np.savetxt(f, table, delimiter=",", fmt=["%.6f"] + ["%.6g"] * 6)


def read_pyshoe_mat(path: Path) -> ImuData:
    """PyShoe Vicon ``.mat``: ``imu`` (N, 6) m/s² then rad/s, ``ts`` seconds."""
    _exists(path)
    import scipy.io

    try:
        m = scipy.io.loadmat(str(path))
    except (ValueError, OSError, scipy.io.matlab.MatReadError) as e:
        raise ImuFileError(f"{path}: not a readable MATLAB file ({e})") from None
    if "imu" not in m or "ts" not in m:
        raise ImuFileError(f"{path}: a PyShoe .mat needs the variables 'imu' and 'ts'")
    imu = np.asarray(m["imu"], dtype=np.float64)
    ts = np.asarray(m["ts"], dtype=np.float64).ravel()
    if imu.ndim != 2 or imu.shape[1] != 6 or len(ts) != len(imu):
        raise ImuFileError(f"{path}: 'imu' must be N x 6 and 'ts' N long")
    return ImuData(ts - ts[0], imu[:, :3].copy(), imu[:, 3:].copy())


def read_gaitmap_csv(path: Path, foot: str = "right") -> ImuData:
    """gaitmap example ``imu_sample.csv``: 2 header rows, m/s² and deg/s, 204.8 Hz."""
    _exists(path)
    if foot not in ("left", "right"):
        raise ImuFileError("foot must be 'left' or 'right'")
    with path.open(newline="") as f:
        reader = csv.reader(f)
        sensors = next(reader, [])
        axes = next(reader, [])
        if not sensors or sensors[0] != "sensor" or not axes or axes[0] != "axis":
            raise ImuFileError(f"{path}: not a gaitmap IMU CSV (rows 'sensor,...' and 'axis,...')")
        cols = {}
        for i, (s, a) in enumerate(zip(sensors, axes, strict=False)):
            if s == f"{foot}_sensor":
                cols[a] = i
        names = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
        if any(n not in cols for n in names):
            raise ImuFileError(f"{path}: columns {names} missing for the {foot} sensor")
        try:
            table = np.asarray([[float(r[cols[n]]) for n in names] for r in reader if r])
        except (ValueError, IndexError):
            raise ImuFileError(f"{path}: non-numeric or short row in the gaitmap CSV") from None
    t = np.arange(len(table)) / GAITMAP_RATE_HZ
    return ImuData(t, table[:, :3].copy(), np.deg2rad(table[:, 3:]))


def read_any(path: Path, foot: str = "right") -> ImuData:
    """Read a StrideCue CSV, a PyShoe ``.mat`` or a gaitmap CSV, by content."""
    _exists(path)
    if path.suffix.lower() == ".mat":
        return read_pyshoe_mat(path)
    with path.open() as f:
        first = f.readline()
    if first.startswith("sensor,"):
        return read_gaitmap_csv(path, foot)
    return read_csv(path)
