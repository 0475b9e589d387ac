"""Serial framing: COBS over (record || CRC-16/CCITT-FALSE LE), frames end with 0x00."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from stridecue.errors import BadCrc, BadFraming, OversizedRecord, ProtocolError, TruncatedRecord

log = logging.getLogger(__name__)

MAX_RECORD = 64  # longest record carried over the serial link, bytes
MAX_FRAME = MAX_RECORD + 2 + 2  # CRC and COBS overhead, without the delimiter


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
        table.append(c)
    return table


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection ("123456789" → 0x29B1)."""
    c = 0xFFFF
    for b in data:
        c = ((c << 8) & 0xFFFF) ^ _TABLE[(c >> 8) ^ b]
    return c


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00."""
    out = bytearray([0])
    code_i = 0
    code = 1
    for b in data:
        if b == 0:
            out[code_i] = code
            code_i = len(out)
            out.append(0)
            code = 1
            continue
        out.append(b)
        code += 1
        if code == 0xFF:
            out[code_i] = code
            code_i = len(out)
            out.append(0)
            code = 1
    out[code_i] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert cobs_encode; raises BadFraming on a zero byte or a code past the end."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            raise BadFraming(f"COBS code {code} at offset {i} runs past the {n}-byte frame")
        out += data[i + 1 : i + code]
        i += code
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(record: bytes) -> bytes:
    """One wire frame for one record, delimiter included."""
    if len(record) > MAX_RECORD:
        raise OversizedRecord(
            f"record of {len(record)} bytes; the serial link carries {MAX_RECORD}"
        )
    c = crc16(record)
    return cobs_encode(record + bytes((c & 0xFF, c >> 8))) + b"\x00"


def decode_frame(frame: bytes) -> bytes:
    """The record inside one frame (without its 0x00 delimiter), checked."""
    if len(frame) > MAX_FRAME:
        raise OversizedRecord(f"frame of {len(frame)} bytes; at most {MAX_FRAME}")
    raw = cobs_decode(frame)
    if len(raw) < 3:
        raise TruncatedRecord(f"frame holds {len(raw)} bytes; a record and its CRC need 3")
    rec, got = raw[:-2], raw[-2] | (raw[-1] << 8)
    want = crc16(rec)
    if got != want:
        raise BadCrc(f"CRC {got:#06x} does not match {want:#06x} over {len(rec)} bytes")
    return rec


class FrameDecoder:
    """Streaming deframer: feed bytes as they arrive, get whole checked records out.

    Bad frames are dropped, counted in ``drops`` by reason and logged; they never
    raise, so line noise or a pod reset mid-frame cannot take the link down.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.drops: Counter[str] = Counter()
        self.records = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        for b in data:
            if b != 0:
                if len(self._buf) < MAX_FRAME:
                    self._buf.append(b)
                else:
                    self._overflow = True
                continue
            frame, overflow = bytes(self._buf), self._overflow
            self._buf.clear()
            self._overflow = False
            if overflow:
                self._drop("oversized", f"frame longer than {MAX_FRAME} bytes")
                continue
            if not frame:
                continue
            try:
                rec = decode_frame(frame)
            except ProtocolError as e:
                self._drop(type(e).__name__, str(e))
                continue
            self.records += 1
            yield rec

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held back (a truncated tail, if the stream ended)."""
        return len(self._buf)

    def _drop(self, reason: str, detail: str) -> None:
        self.drops[reason] += 1
        log.warning("serial frame dropped (%s): %s", reason, detail)
