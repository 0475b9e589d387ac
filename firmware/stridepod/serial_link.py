# The wired link: the same records as BLE, framed with COBS + CRC-16 over a
# byte stream (the pod's USB serial port, or a pty for the simulation board on
# the unix port). docs/protocol.md, "Serial framing". The link is trusted:
# physical access is the key, so cue and control are always permitted.
#
# A USB port cannot tell whether a program is listening, so a host counts as
# connected while its frames keep coming: the host sends GET_STATUS every 10 s,
# and after HOST_TIMEOUT_MS of silence the host is gone (the on-pod fallback
# cues may take over again).
#
# Bytes in: feed(data) -> Deframer -> pod.control / pod.cue. Bytes out: every
# record becomes one frame written with `write(memoryview)` (a callable, so any
# stream fits: sys.stdout.buffer.write, os.write on a pty, a list in tests).
#
# Escape hatch: the pod's USB port is also its REPL, and the app turns Ctrl-C
# off (frames may contain 0x03). A frame that opens with "\r\x03" (what mpremote
# sends to interrupt) or with three 0x03 bytes cannot be a valid host-to-pod
# record (COBS code 13 would need a record kind 0x03 cue of 12+ bytes; 03 03 03
# decodes to a cue of version 3), so either means "stop the app and give the
# REPL back": on_break() is called (main.py raises KeyboardInterrupt).
from stridepod import proto, rt
from stridepod.framing import MAX_RECORD, Deframer, encode

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_CHUNK = const(64)
HOST_TIMEOUT_MS = const(30000)


class SerialLink:
    def __init__(self, pod, write):
        self.pod = pod
        self.write = write
        self.deframer = Deframer(self._on_record)
        self._out = bytearray(MAX_RECORD + 5)
        self._outmv = memoryview(self._out)
        self._log = bytearray(MAX_RECORD)
        self._one = bytearray(1)
        self.connected = False  # a valid frame came in within HOST_TIMEOUT_MS
        self._rx_ms = 0  # pod ms of the last valid frame
        self.unknown = 0  # frames with a record kind the pod does not take
        self.sent = 0
        self.on_break = None
        self._pos = 0  # bytes since the last 0x00
        self._first = 0
        self._second = 0

    # ---- in ----
    def feed(self, data):
        if self.on_break is not None:
            self._watch_break(data)
        self.deframer.feed(data)

    def _watch_break(self, data):
        # the opening bytes of a frame: "\r\x03" (what mpremote sends) or three
        # 0x03 can never start a valid host-to-pod frame (see the header)
        for b in data:
            p = self._pos
            if p == 0:
                self._first = b
            elif b == 3 and self._escape(p):
                self._break()
            elif p == 1:
                self._second = b
            self._pos = 0 if b == 0 else p + 1

    def _escape(self, p):
        if p == 1:
            return self._first == 13
        return p == 2 and self._first == 3 and self._second == 3

    def _break(self):
        self._pos = 0
        self.on_break()

    def _on_record(self, buf, n):
        self.connected = True
        self._rx_ms = self.pod.clock_ms()
        kind = buf[0]
        mv = memoryview(buf)[:n]
        if kind == proto.KIND_CONTROL:
            self.pod.control(mv, self, 0, True)
        elif kind == proto.KIND_CUE:
            self.pod.cue(mv, True)
        else:
            self.unknown += 1

    # ---- out ----
    def _send(self, buf, n):
        k = encode(buf, n, self._out)
        self.write(self._outmv[:k])
        self.sent += 1
        return True

    def stride(self, rec, n, rsc, rn):
        self._send(rec, n)

    def reply(self, conn, buf, n):
        self._send(buf, n)

    def record(self, conn, buf, n):
        return self._send(buf, n)

    def status(self, buf, n):
        pass  # over serial, status is sent only in reply to GET_STATUS

    def hosts(self):
        if self.connected and rt.ticks_diff(self.pod.clock_ms(), self._rx_ms) >= HOST_TIMEOUT_MS:
            self.connected = False  # silent for too long: the host has gone
        return 1 if self.connected else 0

    def log(self, text):
        n = proto.encode_log(self._log, text)
        self._send(self._log, n)

    # ---- asyncio: read a stream and feed it ----
    async def run(self, reader):
        # reader: asyncio.StreamReader over the port. On MicroPython read(n) and
        # readinto(buf) of a blocking stream (the pod's USB stdin, a pty) wait
        # for all n bytes, so a short request would sit there until 64 bytes
        # had come: take one byte per wake-up instead (requests are small).
        if not hasattr(reader, "readinto"):  # CPython: read(n) returns what is there
            while True:
                data = await reader.read(_CHUNK)
                if data:
                    self.feed(data)
        one = self._one
        while True:
            if await reader.readinto(one):
                self.feed(one)
            else:
                await rt.sleep_ms(100)  # end of stream (a pty closed): nothing to read
