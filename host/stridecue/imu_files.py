"""Foot-IMU recordings on disk: the StrideCue CSV and the public validation formats.

The StrideCue IMU CSV has the header ``t,ax,ay,az,gx,gy,gz``: time in seconds,
specific force in m/s², rotation rate in rad/s, sensor frame as recorded (any
mounting). ``read_pyshoe_mat`` and ``read_gaitmap_csv`` read the recordings in
``../shared/data`` (PyShoe Vicon ``.mat``; gaitmap example ``imu_sample.csv``; UCI VectorNav course
``expN_VN.mat``) into the
same shape, so ``stridecue import-imu`` can convert them.
"""

from __future__ import annotations

import array
import csv
import io
import os
import reprlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stridecue.errors import StrideCueError

HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")
GAITMAP_RATE_HZ = 204.8
GAITMAP_AXES = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
MAT_TIMEOUT_S = 300.0
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
    if path.is_dir():
        raise ImuFileError(f"{path} is a folder; give the recording file inside it")
    if not path.exists():
        raise ImuFileError(f"{path}: no such file")
    if not path.is_file():
        raise ImuFileError(f"{path} is not a regular file; give the recording file itself")


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each line of a UTF-8 CSV; ImuFileError when it is none."""
    _exists(path)
    try:
        f = path.open(newline="", encoding="utf-8-sig")  # -sig: a spreadsheet's BOM is fine
    except OSError as e:
        raise ImuFileError(f"{path}: cannot open it ({e.strerror}); give a readable file") from None
    with f:
        reader = csv.reader(f)
        try:
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise ImuFileError(
                f"{path}: not UTF-8 text, so not a CSV; give the recording as CSV text "
                "(or its .mat)"
            ) from None
        except csv.Error as e:
            raise ImuFileError(
                f"{path}:{reader.line_num}: {e}; each line must hold one sample"
            ) from None


def _check_samples(path: Path, t: Array, values: Array, where: Callable[[int], str]) -> None:
    """Refuse fewer than 2 samples, NaN or infinite values, or time not increasing.

    ``where(i)`` names sample ``i`` in the messages (a line, or a sample number).
    """
    n = len(t)
    bad = ~(np.isfinite(t) & np.isfinite(values).all(axis=1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ImuFileError(
            f"{where(i)}: NaN or infinite value ({int(bad.sum())} of {n} samples have one); "
            "every value must be a finite number: drop or fill those samples"
        )
    if n < 2:
        raise ImuFileError(
            f"{path}: {'only 1 sample' if n else 'no samples'} in it; a recording needs at least 2"
        )
    back = np.diff(t) <= 0
    if back.any():
        i = int(np.argmax(back)) + 1
        raise ImuFileError(
            f"{where(i)}: t={t[i]:g} s is not after the sample before it (t={t[i - 1]:g} s); "
            "samples must be in time order, in seconds"
        )


def read_csv(path: Path) -> ImuData:
    """Read a StrideCue IMU CSV (header ``t,ax,ay,az,gx,gy,gz``)."""
    rows = _csv_rows(path)
    _, header = next(rows, (1, []))
    if tuple(h.strip() for h in header) != HEADER:
        got = f"got {reprlib.repr(','.join(header))}" if header else "the file is empty"
        raise ImuFileError(
            f"{path}: first line must be the header {','.join(HEADER)} "
            f"(seconds, m/s^2, rad/s); {got}"
        )
    values = array.array("d")  # 8 bytes a value: a long recording fits in memory
    lines: list[int] = []
    for lineno, row in rows:
        if not "".join(row).strip():
            continue
        if len(row) != len(HEADER):
            raise ImuFileError(f"{path}:{lineno}: expected 7 columns, got {len(row)}")
        try:
            values.extend(float(v) for v in row)
        except ValueError:
            raise ImuFileError(
                f"{path}:{lineno}: non-numeric value in {reprlib.repr(','.join(row))}; "
                "every field must be a number"
            ) from None
        lines.append(lineno)
    if not lines:
        raise ImuFileError(f"{path}: no samples after the header")
    a = np.frombuffer(values, dtype=np.float64).reshape(-1, len(HEADER))
    _check_samples(path, a[:, 0], a[:, 1:], lambda i: f"{path}:{lines[i]}")
    return ImuData(a[:, 0].copy(), a[:, 1:4].copy(), a[:, 4:7].copy())


def write_csv(path: Path, data: ImuData) -> None:
    """Write ``data`` as a StrideCue IMU CSV; a failure leaves no half-written file.

    The CSV goes to a temporary file beside ``path`` that then replaces it, unless
    ``path`` is a device or pipe (``/dev/stdout``), which is written straight through.
    """
    if path.is_dir():
        raise ImuFileError(f"{path} is a folder; give a file name, e.g. {path / 'imu.csv'}")
    direct = path.exists() and not path.is_file()
    real = path.resolve() if path.is_symlink() else path  # replace the file, keep the link
    if not direct and not real.parent.is_dir():
        why = "is not a folder" if real.parent.exists() else "does not exist"
        raise ImuFileError(f"cannot write {path}: {real.parent} {why}; give a path in a folder")
    table = np.column_stack([data.t_s, data.acc_mps2, data.gyr_rps])
    out = path if direct else real.with_name(f".{real.name}.{os.getpid()}.tmp")
    try:
        with out.open("w" if direct else "x", newline="") as f:
            f.write(",".join(HEADER) + "\n")
            np.savetxt(f, table, delimiter=",", fmt=["%.6f"] + ["%.6g"] * 6)
        if not direct:
            out.replace(real)
    except OSError as e:
        if not direct:
            out.unlink(missing_ok=True)
        raise ImuFileError(
            f"cannot write {path}: {e.strerror}; give a path in a folder you can write to"
        ) from None


_MAT_KINDS = {"U": "text", "S": "text", "O": "a cell array", "V": "a struct", "c": "complex"}
_MAT_VARS = ("imu", "ts", "u")
VECTORNAV_G_MPS2 = 9.817269  # the UCI exporter's g: its accelerations are m/s^2 / this
VECTORNAV_RATE_HZ = 800.0


def _dump_mat(path: str) -> None:
    """Child process: ``imu`` and ``ts`` of a .mat as .npz on stdout (see read_pyshoe_mat)."""
    import scipy.io

    m = scipy.io.loadmat(path, variable_names=_MAT_VARS)
    out: dict[str, npt.NDArray[np.generic]] = {}
    for name in _MAT_VARS:
        if name not in m:
            continue
        v = m[name]
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
            out[name] = v.astype(np.float64)
        else:  # sent as a description only: nothing that needs pickle crosses over
            kind = v.dtype.kind if isinstance(v, np.ndarray) else "sparse"
            out[f"{name}.kind"] = np.array(_MAT_KINDS.get(kind, f"type {kind}"))
    np.savez(sys.stdout.buffer, allow_pickle=False, **out)


def _load_mat(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """``imu``/``ts`` of a .mat, read in a child process.

    scipy's .mat reader is not hardened against corrupt files (a bad data type code in
    an element can crash the interpreter), so it runs apart from this one.
    """
    host = str(Path(__file__).resolve().parents[1])
    paths = [host, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    child = "import sys; from stridecue.imu_files import _dump_mat; _dump_mat(sys.argv[1])"
    cmd = [sys.executable, "-c", child, str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=env, timeout=MAT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ImuFileError(
            f"{path}: reading it took over {MAT_TIMEOUT_S:g} s; is it a PyShoe .mat?"
        ) from None
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        code = proc.returncode
        why = lines[-1] if lines else f"the reader crashed on it, code {code}"
        if "v7.3" in why:
            raise ImuFileError(
                f"{path}: a MATLAB v7.3 (HDF5) file; save it again in MATLAB with "
                "save(name, 'imu', 'ts', '-v7')"
            )
        raise ImuFileError(f"{path}: not a readable MATLAB file ({why[:120]}); give a PyShoe .mat")
    with np.load(io.BytesIO(proc.stdout), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def read_pyshoe_mat(path: Path) -> ImuData:
    """PyShoe Vicon ``.mat``: ``imu`` (N, 6) m/s² then rad/s, ``ts`` seconds."""
    _exists(path)
    m = _load_mat(path)
    need = "a PyShoe .mat has 'imu' (N x 6: m/s^2, then rad/s) and 'ts' (N, seconds)"
    for name in _MAT_VARS:
        if f"{name}.kind" in m:
            raise ImuFileError(f"{path}: '{name}' holds {m[f'{name}.kind']}, not numbers; {need}")
    if "imu" not in m or "ts" not in m:
        raise ImuFileError(f"{path}: a PyShoe .mat needs the variables 'imu' and 'ts'; {need}")
    imu = np.asarray(m["imu"], dtype=np.float64)
    ts = np.asarray(m["ts"], dtype=np.float64)
    if imu.size == 0:
        raise ImuFileError(f"{path}: 'imu' is empty, there are no samples to import; {need}")
    if imu.ndim != 2 or imu.shape[1] != 6 or ts.size != max(ts.shape, default=0):
        raise ImuFileError(
            f"{path}: 'imu' is {' x '.join(map(str, imu.shape))} and 'ts' "
            f"{' x '.join(map(str, ts.shape))}; {need}"
        )
    ts = ts.ravel()
    if len(ts) != len(imu):
        raise ImuFileError(f"{path}: 'imu' has {len(imu)} samples, 'ts' {len(ts)}; {need}")
    _check_samples(path, ts, imu, lambda i: f"{path}: sample {i + 1}")
    return ImuData(ts - ts[0], imu[:, :3].copy(), imu[:, 3:].copy())


def read_vectornav_mat(path: Path) -> ImuData:
    """UCI VectorNav course ``.mat``: ``u`` 15 x N, rows 0-2 g, 3-5 deg/s, 800 Hz.

    Row 7 holds the authors' time (index / 800); the time base is rebuilt from the
    index the same way so rounding in the file cannot make steps uneven.
    """
    _exists(path)
    m = _load_mat(path)
    need = "a UCI VectorNav .mat has 'u' (15 x N: acc in g, gyro in deg/s, ..., time in s)"
    if "u.kind" in m:
        raise ImuFileError(f"{path}: 'u' holds {m['u.kind']}, not numbers; {need}")
    if "u" not in m:
        raise ImuFileError(f"{path}: no variable 'u'; {need}")
    u = np.asarray(m["u"], dtype=np.float64)
    if u.ndim != 2 or u.shape[0] != 15 or u.shape[1] < 2:
        raise ImuFileError(f"{path}: 'u' is {' x '.join(map(str, u.shape))}; {need}")
    t = np.arange(u.shape[1]) / VECTORNAV_RATE_HZ
    table = np.column_stack([u[0:3].T * VECTORNAV_G_MPS2, np.deg2rad(u[3:6].T)])
    _check_samples(path, t, table, lambda i: f"{path}: sample {i + 1}")
    return ImuData(t, table[:, :3].copy(), table[:, 3:].copy())


def read_gaitmap_csv(path: Path, foot: str = "right") -> ImuData:
    """gaitmap example ``imu_sample.csv``: 2 header rows, m/s² and deg/s, 204.8 Hz."""
    if foot not in ("left", "right"):
        raise ImuFileError("foot must be 'left' or 'right'")
    rows = _csv_rows(path)
    _, sensors = next(rows, (1, []))
    _, axes = next(rows, (2, []))
    if sensors[:1] != ["sensor"] or axes[:1] != ["axis"]:
        raise ImuFileError(f"{path}: not a gaitmap IMU CSV (rows 'sensor,...' and 'axis,...')")
    cols = {
        a: i for i, (s, a) in enumerate(zip(sensors, axes, strict=False)) if s == f"{foot}_sensor"
    }
    if any(n not in cols for n in GAITMAP_AXES):
        raise ImuFileError(f"{path}: columns {GAITMAP_AXES} missing for the {foot} sensor")
    values = array.array("d")
    lines: list[int] = []
    for lineno, r in rows:
        if not "".join(r).strip():
            continue
        try:
            values.extend(float(r[cols[n]]) for n in GAITMAP_AXES)
        except (ValueError, IndexError):
            raise ImuFileError(
                f"{path}:{lineno}: non-numeric or short row in the gaitmap CSV"
            ) from None
        lines.append(lineno)
    table = np.frombuffer(values, dtype=np.float64).reshape(-1, 6)
    t = np.arange(len(table)) / GAITMAP_RATE_HZ
    _check_samples(path, t, table, lambda i: f"{path}:{lines[i]}")
    return ImuData(t, table[:, :3].copy(), np.deg2rad(table[:, 3:]))


def read_any(path: Path, foot: str = "right") -> ImuData:
    """Read a StrideCue CSV, a PyShoe ``.mat`` or a gaitmap CSV, by content."""
    _exists(path)
    try:
        with path.open("rb") as f:
            magic = f.read(16)
    except OSError as e:
        raise ImuFileError(f"{path}: cannot open it ({e.strerror}); give a readable file") from None
    if path.suffix.lower() == ".mat" or magic.startswith(b"MATLAB"):
        if "u" in _load_mat(path):
            return read_vectornav_mat(path)
        return read_pyshoe_mat(path)
    if magic.lstrip(b"\xef\xbb\xbf").startswith(b"sensor,"):
        return read_gaitmap_csv(path, foot)
    return read_csv(path)
