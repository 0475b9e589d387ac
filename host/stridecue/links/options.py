"""Each link scheme's settings: one frozen, checked dataclass per scheme.

``open_link("serial:/dev/ttyACM0", SerialOptions(reconnect=True))``. A value out
of range is refused where the options are made, with a LinkError that names the
class, the field and what to use instead. This module imports nothing heavy, so
options can be built (and checked) without a Bluetooth stack or pyserial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from stridecue.errors import LinkError


def _require(ok: bool, options: object, name: str, fix: str) -> None:
    if not ok:
        value = getattr(options, name)
        raise LinkError(f"{type(options).__name__}: {name}={value:g} is out of range; {fix}")


def _check_time_sync(options: object, rounds: int) -> None:
    _require(
        0 <= rounds <= 50,
        options,
        "time_sync_rounds",
        "use 0 (no time sync) to 50 exchanges (5 is plenty)",
    )


def _check_keepalive(options: object, keepalive_s: float) -> None:
    _require(
        0 < keepalive_s < 30,
        options,
        "keepalive_s",
        "the pod forgets a silent host after 30 s, so use 0 < keepalive_s < 30",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BleOptions:
    """``ble:``. Connect attempts back off from ``backoff_s``, doubling up to ``max_backoff_s``."""

    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    attempts: int = 4  # for the first connect; a lost pod is retried until the link closes
    backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    reconnect: bool = True  # reconnect (and backfill) when the pod drops out
    time_sync_rounds: int = 5  # clock exchanges after each connect; 0: none

    def __post_init__(self) -> None:
        _require(self.scan_timeout_s > 0, self, "scan_timeout_s", "use a time > 0 s (e.g. 10)")
        _require(
            self.connect_timeout_s > 0, self, "connect_timeout_s", "use a time > 0 s (e.g. 10)"
        )
        _require(self.attempts >= 1, self, "attempts", "use 1 or more")
        _require(self.backoff_s > 0, self, "backoff_s", "use a delay > 0 s (e.g. 0.5)")
        _require(
            self.max_backoff_s >= self.backoff_s,
            self,
            "max_backoff_s",
            f"use at least backoff_s ({self.backoff_s:g} s)",
        )
        _check_time_sync(self, self.time_sync_rounds)


@dataclass(frozen=True, slots=True, kw_only=True)
class SerialOptions:
    """``serial:``. ``reconnect`` reopens the port when it comes back (a USB cable
    pulled and plugged in again); off by default: a pty whose far end has gone never
    comes back."""

    baudrate: int = 115200
    time_sync_rounds: int = 5  # clock exchanges (and a status) at connect; 0: none
    reconnect: bool = False
    keepalive_s: float = 10.0  # GET_STATUS this often, so the pod knows a host is there

    def __post_init__(self) -> None:
        _require(self.baudrate > 0, self, "baudrate", "use the pod's rate (115200)")
        _check_time_sync(self, self.time_sync_rounds)
        _check_keepalive(self, self.keepalive_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimOptions:
    """``sim:``. ``speed`` in the spec (``sim:steady,speed=10``) wins over ``speed`` here."""

    speed: float = 1.0  # playback speed, x real time; 0: as fast as the board can
    seed: int = 0  # of the IMU simulator's noise
    time_sync_rounds: int = 5
    keepalive_s: float = 10.0

    def __post_init__(self) -> None:
        _require(0 <= self.speed <= 1000, self, "speed", "use 0 (flat out) or a factor up to 1000")
        _require(self.seed >= 0, self, "seed", "use a whole number >= 0")
        _check_time_sync(self, self.time_sync_rounds)
        _check_keepalive(self, self.keepalive_s)

    def serial(self) -> SerialOptions:
        """The serial link's options (a finished simulation board does not come back)."""
        return SerialOptions(
            time_sync_rounds=self.time_sync_rounds, reconnect=False, keepalive_s=self.keepalive_s
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOptions:
    """``replay:``. Paced at ``speed`` x real time (0: as fast as possible);
    ``include_sent`` plays the recorded cues and control requests too."""

    speed: float = 1.0
    include_sent: bool = False

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise LinkError(
                f"ReplayOptions: speed={self.speed:g} is negative; "
                "use 0 (as fast as possible) or a factor > 0"
            )


LinkOptions: TypeAlias = BleOptions | SerialOptions | SimOptions | ReplayOptions
