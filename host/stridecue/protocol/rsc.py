"""Bluetooth SIG Running Speed and Cadence Measurement (0x2A53)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from stridecue.errors import ConfigError, OversizedRecord, TruncatedRecord

_STRIDE_PRESENT = 0x01
_DISTANCE_PRESENT = 0x02
_RUNNING = 0x04  # bits 3..7 are reserved: ignored when decoding, the record is kept


def _check_units(name: str, value: float, scale: int, most: int) -> None:
    """ConfigError unless ``value`` fits its field as ``round(value * scale)``."""
    if not math.isfinite(value) or not 0 <= round(value * scale) <= most:
        raise ConfigError(f"{name}={value} is out of range: allowed 0..{most / scale:g}")


@dataclass(frozen=True, slots=True)
class RscMeasurement:
    """Speed (m/s), cadence (steps/min), stride length (m) and total distance (m).

    Stride length and distance are optional in the standard; None when absent.
    """

    speed_mps: float
    cadence_spm: int
    stride_length_m: float | None = None
    total_distance_m: float | None = None
    running: bool = False

    def __post_init__(self) -> None:
        # every u8/u16/u32 the decoder reads fits: only values built in host code can fail
        _check_units("speed_mps", self.speed_mps, 256, 0xFFFF)
        if self.cadence_spm < 0:  # above 255 saturates on the wire (the standard's rule)
            raise ConfigError(f"cadence_spm={self.cadence_spm} is out of range: allowed 0 or more")
        if self.stride_length_m is not None:
            _check_units("stride_length_m", self.stride_length_m, 100, 0xFFFF)
        if self.total_distance_m is not None:
            _check_units("total_distance_m", self.total_distance_m, 10, 0xFFFFFFFF)

    @classmethod
    def from_bytes(cls, data: bytes) -> RscMeasurement:
        if len(data) < 4:
            raise TruncatedRecord(f"RSC measurement: {len(data)} bytes, need at least 4")
        flags = data[0]
        speed, cadence = struct.unpack_from("<HB", data, 1)
        need = 4 + (2 if flags & _STRIDE_PRESENT else 0) + (4 if flags & _DISTANCE_PRESENT else 0)
        if len(data) < need:
            raise TruncatedRecord(
                f"RSC measurement: {len(data)} bytes, flags {flags:#04x} need {need}"
            )
        if len(data) > need:
            raise OversizedRecord(
                f"RSC measurement: {len(data)} bytes, flags {flags:#04x} give {need}"
            )
        off = 4
        stride = None
        dist = None
        if flags & _STRIDE_PRESENT:
            stride = struct.unpack_from("<H", data, off)[0] / 100.0
            off += 2
        if flags & _DISTANCE_PRESENT:
            dist = struct.unpack_from("<I", data, off)[0] / 10.0
        return cls(speed / 256.0, cadence, stride, dist, bool(flags & _RUNNING))

    def __bytes__(self) -> bytes:
        flags = _RUNNING if self.running else 0
        out = bytearray()
        out += struct.pack("<HB", round(self.speed_mps * 256), min(self.cadence_spm, 255))
        if self.stride_length_m is not None:
            flags |= _STRIDE_PRESENT
            out += struct.pack("<H", round(self.stride_length_m * 100))
        if self.total_distance_m is not None:
            flags |= _DISTANCE_PRESENT
            out += struct.pack("<I", round(self.total_distance_m * 10))
        return bytes((flags,)) + bytes(out)
