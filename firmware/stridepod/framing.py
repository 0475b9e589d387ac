# Serial framing, pod side: COBS over (record || CRC-16/CCITT-FALSE, little
# endian), each frame ended by one 0x00 byte. docs/protocol.md, "Serial framing".
from array import array

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


MAX_RECORD = const(64)  # longest record the link carries, bytes
_MAX_FRAME = const(MAX_RECORD + 2 + 2)  # + CRC + COBS overhead for <= 254 bytes


def _make_table():
    t = array("H", bytes(512))  # 512 bytes (a list would hold 256 object slots)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
        t[i] = c
    return t


_TABLE = _make_table()


def crc16(data, n):
    # CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): "123456789" -> 0x29B1
    c = 0xFFFF
    t = _TABLE
    for i in range(n):
        c = ((c << 8) & 0xFFFF) ^ t[((c >> 8) ^ data[i]) & 0xFF]
    return c


def encode(rec, n, out):
    # COBS-encode rec[:n] + CRC into out; append the 0x00 delimiter.
    # Returns the frame length. out needs n + 5 bytes.
    c = crc16(rec, n)
    code_i = 0
    o = 1
    code = 1
    total = n + 2
    for i in range(total):
        if i < n:
            b = rec[i]
        elif i == n:
            b = c & 0xFF
        else:
            b = c >> 8
        if b == 0:
            out[code_i] = code
            code_i = o
            o += 1
            code = 1
        else:
            out[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                out[code_i] = code
                code_i = o
                o += 1
                code = 1
    out[code_i] = code
    out[o] = 0
    return o + 1


class Deframer:
    # Feeds bytes in, calls on_record(buf, n) for each frame whose CRC checks.
    # Bad frames are counted, never raised: the link must survive line noise.
    def __init__(self, on_record):
        self._raw = bytearray(_MAX_FRAME)
        self._rec = bytearray(_MAX_FRAME)
        self._n = 0
        self._overflow = False
        self.on_record = on_record
        self.bad_crc = 0
        self.bad_cobs = 0
        self.oversized = 0

    def feed(self, data):
        for b in data:
            if b == 0:
                self._end()
            elif self._n < _MAX_FRAME:
                self._raw[self._n] = b
                self._n += 1
            else:
                self._overflow = True

    def _end(self):
        n = self._n
        self._n = 0
        if self._overflow:
            self._overflow = False
            self.oversized += 1
            return
        if n == 0:
            return
        m = self._decode(n)
        if m < 2:
            self.bad_cobs += 1
            return
        m -= 2
        if crc16(self._rec, m) != self._rec[m] | (self._rec[m + 1] << 8):
            self.bad_crc += 1
            return
        self.on_record(self._rec, m)

    def _decode(self, n):
        raw = self._raw
        rec = self._rec
        i = 0
        o = 0
        while i < n:
            code = raw[i]
            if code == 0 or i + code > n:
                return -1
            i += 1
            for _ in range(code - 1):
                rec[o] = raw[i]
                o += 1
                i += 1
            if code < 0xFF and i < n:
                rec[o] = 0
                o += 1
        return o
