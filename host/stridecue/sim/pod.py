"""A simulated pod on a pty: the firmware's simulation board, reachable as ``serial:``.

``SimPod`` opens a pseudo-terminal pair, runs ``firmware/simboard.py`` on the
MicroPython unix port (or, when that is not installed, on this CPython: the same
firmware files) with its stdin/stdout on the pty's controlling side, and hands
out the terminal device (``/dev/pts/N``). The host opens that device with real
``pyserial`` exactly as it opens a pod on USB::

    with SimPod(imu_csv, speed=10) as pod:
        link = open_link(f"serial:{pod.device}")

What the simulated motor did is in :meth:`SimPod.motor_events`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path
from types import TracebackType

import numpy as np

from stridecue import firmware
from stridecue.errors import ConfigError, LinkError
from stridecue.sim.foot import GRAVITY
from stridecue.sim.imu import Recording

SIMBOARD = "simboard.py"


def write_counts(
    path: Path, rec: Recording, acc_range_g: int = 32, gyro_range_dps: int = 2000
) -> Path:
    """Write ``rec`` in the gait engine's integer text (ms, mg, 0.1 deg/s).

    The layout of ``stridepod.gait_replay`` (first line ``rate_hz acc_range_g
    gyro_range_dps``), which the simulation board parses about four times faster
    than the float CSV.
    """
    t = np.round((rec.t - rec.t[0]) * 1000.0)
    acc = np.clip(np.round(rec.acc / GRAVITY * 1000.0), -acc_range_g * 1000, acc_range_g * 1000)
    gyr = np.clip(np.round(np.rad2deg(rec.gyr) * 10.0), -gyro_range_dps * 10, gyro_range_dps * 10)
    table = np.column_stack([t, acc, gyr]).astype(np.int64)
    with path.open("w") as f:
        f.write(f"{round(rec.config.rate_hz)} {acc_range_g} {gyro_range_dps}\n")
        np.savetxt(f, table, fmt="%d")
    return path


class SimPod:
    """The simulation board running on a pty; a context manager that always stops it."""

    def __init__(
        self,
        imu_file: Path,
        *,
        speed: float = 1.0,
        motor_log: Path | None = None,
        store_dir: Path | None = None,
        acc_range_g: int = 32,
        gyro_range_dps: int = 2000,
        max_wall_s: float = 600.0,
        interpreter: str | None = None,
    ) -> None:
        if not 0.0 <= speed <= 1000.0:
            raise ConfigError(f"speed={speed} is out of range: allowed 0..1000 (0 = flat out)")
        if not Path(imu_file).is_file():
            raise ConfigError(f"imu_file={imu_file}: no such file; write one with sim.files")
        self.imu_file = Path(imu_file)
        self.speed = speed
        self._tmp = tempfile.TemporaryDirectory(prefix="stridecue-simpod-")
        tmp = Path(self._tmp.name)
        self.motor_log = motor_log or tmp / "motor.log"
        self.store_dir = store_dir or tmp / "store"
        self.stderr_path = tmp / "stderr.txt"
        self.acc_range_g = acc_range_g
        self.gyro_range_dps = gyro_range_dps
        self.max_wall_s = max_wall_s
        self.interpreter = interpreter or firmware.micropython_exe() or sys.executable
        self.device = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._slave: int | None = None

    @property
    def on_micropython(self) -> bool:
        return "micropython" in Path(self.interpreter).name

    def start(self) -> str:
        """Start the board; returns the pty device to open with pyserial."""
        if self._proc is not None:
            return self.device
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass unchanged
        self.device = os.ttyname(slave)
        board = firmware.firmware_dir() / SIMBOARD
        cmd = [self.interpreter, str(board), str(self.imu_file)]
        cmd += ["--speed", repr(float(self.speed)), "--store", str(self.store_dir)]
        cmd += ["--motor-log", str(self.motor_log), "--max-wall-s", repr(float(self.max_wall_s))]
        cmd += ["--acc-range-g", str(self.acc_range_g)]
        cmd += ["--gyro-range-dps", str(self.gyro_range_dps)]
        env = dict(os.environ)
        if self.on_micropython:
            env.update(firmware.micropython_env())
        else:
            env["PYTHONPATH"] = str(firmware.firmware_dir())
        try:
            with self.stderr_path.open("wb") as err:
                # its own session: Ctrl-C at the terminal stops the practice, which then
                # stops the board, rather than killing the board under a running practice
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=master,
                    stdout=master,
                    stderr=err,
                    env=env,
                    close_fds=True,
                    start_new_session=True,
                )
        except OSError as e:
            os.close(slave)
            raise LinkError(f"cannot start the simulation board ({cmd[0]}): {e}") from None
        finally:
            os.close(master)
        self._slave = slave  # held open so the board never sees a hang-up before the host
        return self.device

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stderr(self) -> str:
        """What the board printed on stderr (tracebacks land here)."""
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout_s: float = 2.0) -> int | None:
        """Stop the board (terminate, then kill); returns its exit code."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout_s)
            code = proc.returncode
        if self._slave is not None:
            with contextlib.suppress(OSError):
                os.close(self._slave)
            self._slave = None
        return code

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def motor_events(self) -> list[tuple[int, int]]:
        """(device_ms, duty_u16) for every change of the simulated motor's PWM duty."""
        try:
            lines = self.motor_log.read_text().split("\n")
        except OSError:
            return []
        out = []
        for line in lines:
            parts = line.split()
            if len(parts) == 2:
                out.append((int(parts[0]), int(parts[1])))
        return out

    def wait_motor(self, timeout_s: float = 5.0, changes: int = 1) -> list[tuple[int, int]]:
        """Wait until the motor changed duty ``changes`` times (or the timeout)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = self.motor_events()
            if len(events) >= changes:
                return events
            time.sleep(0.02)
        return self.motor_events()

    def __enter__(self) -> SimPod:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
