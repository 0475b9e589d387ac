"""A small pod for link tests: numbered strides in, control requests answered.

It speaks the pod's link interface (see firmware/stridepod/service.py: a link has
``stride(rec, n, rsc, rn)``, ``reply(conn, buf, n)``, ``record(conn, buf, n)``,
``status(buf, n)``) so the serial pty peer and the stand-in BlueZ can carry it.
It keeps every stride it made (the pod's ring and flash), answers TIME_SYNC,
BACKFILL (records re-sent with the BACKFILLED flag) and GET_STATUS, refuses
what the pod refuses, and plays cues only on a permitted (bonded) link.
"""

from __future__ import annotations

import struct
import time
from typing import Any, Protocol

from stridecue.protocol import ControlRequest, Cue, RscMeasurement, Status, StrideEvent
from stridecue.protocol.records import ControlReply, Opcode, Result, StrideFlag

FIRMWARE = (0, 1, 0)


class PodLink(Protocol):
    def stride(self, rec: bytes, n: int, rsc: bytes, rn: int) -> None: ...
    def reply(self, conn: int, buf: bytes, n: int) -> None: ...
    def record(self, conn: int, buf: bytes, n: int) -> bool: ...
    def status(self, buf: bytes, n: int) -> None: ...


class LinkPod:
    def __init__(self, first_seq: int = 1, keep: int = 10_000) -> None:
        self.t0 = time.monotonic()
        self.next_seq = first_seq
        self.keep = keep  # how many old strides the pod still has
        self.strides: dict[int, bytes] = {}
        self.links: list[PodLink] = []
        self.cues: list[Cue] = []
        self.cues_refused = 0
        self.requests: list[ControlRequest] = []
        self.battery = 87

    def clock_ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000) & 0xFFFFFFFF

    def stride(self, stride_ms: int = 700, length_mm: int = 2400) -> int:
        """Make one stride and send it on every link; returns its seq."""
        seq = self.next_seq
        self.next_seq += 1
        rec = bytes(StrideEvent(seq, self.clock_ms(), stride_ms, 200 + seq % 20, length_mm))
        self.strides[seq] = rec
        self.strides.pop(seq - self.keep, None)
        rsc = bytes(
            RscMeasurement(length_mm / stride_ms, min(255, 120_000 // stride_ms), length_mm / 1000)
        )
        for link in self.links:
            link.stride(rec, len(rec), rsc, len(rsc))
        return seq

    def status_record(self) -> bytes:
        last = self.next_seq - 1
        return bytes(Status(self.battery, 0, 3, 5, 0, last, FIRMWARE, self.clock_ms() // 60000))

    def cue(self, data: bytes, permitted: bool = True) -> bool:
        try:
            cue = Cue.from_bytes(bytes(data))
        except ValueError:
            self.cues_refused += 1
            return False
        if not permitted:
            self.cues_refused += 1
            return False
        self.cues.append(cue)
        return True

    def control(self, data: bytes, link: PodLink, conn: int = 0, permitted: bool = True) -> Any:
        req = ControlRequest.from_bytes(bytes(data))
        self.requests.append(req)
        follow: list[bytes] = []
        result, payload = Result.OK, b""
        if not permitted:
            result = Result.NOT_PERMITTED
        elif req.opcode == Opcode.TIME_SYNC:
            payload = struct.pack("<I", self.clock_ms())
        elif req.opcode == Opcode.GET_STATUS:
            follow = [self.status_record()]
        elif req.opcode == Opcode.BACKFILL:
            first, count = struct.unpack("<IH", req.params)
            have = [s for s in range(first, first + count) if s in self.strides]
            if not have:
                result = Result.NOT_FOUND
            else:
                payload = struct.pack("<IH", have[0], len(have))
                for s in have:
                    rec = bytearray(self.strides[s])
                    flags = int.from_bytes(rec[16:18], "little") | StrideFlag.BACKFILLED
                    rec[16:18] = flags.to_bytes(2, "little")
                    follow.append(bytes(rec))
        else:
            result = Result.UNKNOWN_OPCODE
        reply = bytes(ControlReply(req.opcode, req.token, result, payload))
        link.reply(conn, reply, len(reply))
        for rec in follow:
            link.record(conn, rec, len(rec))
        return result
