# serial_link.py: control and cue frames in, reply/stride/backfill frames out,
# line noise survived, the REPL escape recognised.
import struct

from fakes.hw import PWM, Clock, Pin
from fakes.ramfs import Flash
from stridepod import framing, proto
from stridepod.haptics import Haptics
from stridepod.serial_link import HOST_TIMEOUT_MS, SerialLink
from stridepod.service import Pod
from stridepod.store import Store


class Wire:
    # the host end: collects the pod's bytes and decodes frames
    def __init__(self):
        self.bytes = bytearray()
        self.records = []
        self.d = framing.Deframer(lambda b, n: self.records.append(bytes(b[:n])))

    def write(self, mv):
        self.bytes += mv
        self.d.feed(bytes(mv))


def _frame(rec):
    out = bytearray(len(rec) + 5)
    n = framing.encode(rec, len(rec), out)
    return bytes(out[:n])


def _setup():
    fl = Flash()
    clock = Clock(500)
    pwm = PWM(Pin(7), freq=20000)
    pod = Pod(clock, Store(fl.root, fl.fs).open(), Haptics(pwm, clock))
    wire = Wire()
    link = SerialLink(pod, wire.write)
    pod.links.append(link)
    return pod, link, wire, pwm, fl


def test_control_roundtrip_over_frames():
    pod, link, wire, _, fl = _setup()
    assert pod.hosts() == 0
    link.feed(_frame(bytes([4, 1, 3, 42])))  # TIME_SYNC
    assert wire.records == [bytes([5, 1, 3, 42, 0]) + struct.pack("<I", 500)]
    assert pod.hosts() == 1
    fl.close()


def test_strides_and_backfill_arrive_as_frames():
    pod, link, wire, _, fl = _setup()
    link.feed(_frame(bytes([4, 1, 1, 1]) + struct.pack("<I", 99)))
    for i in range(5):
        pod.on_stride(1000 + 700 * i, 700, 200, 2400, 0)
    link.feed(_frame(bytes([4, 1, 6, 2]) + struct.pack("<IH", 1, 3)))
    while pod.pump():
        pass
    kinds = [r[0] for r in wire.records]
    assert kinds == [5, 1, 1, 1, 1, 1, 5, 1, 1, 1]
    back = wire.records[-3:]
    assert [struct.unpack_from("<I", r, 2)[0] for r in back] == [1, 2, 3]
    assert all(struct.unpack_from("<H", r, 16)[0] & proto.F_BACKFILLED for r in back)
    fl.close()


def test_a_silent_host_is_gone_after_the_timeout():
    # USB cannot say whether a program listens: frames keep the host "connected"
    pod, link, _, _, fl = _setup()
    clock = pod.clock_ms
    link.feed(_frame(bytes([4, 1, 0x0B, 1])))  # GET_STATUS, as the host's keepalive
    assert pod.hosts() == 1 and pod.state_bits() & 4
    clock.advance(HOST_TIMEOUT_MS - 1)
    assert pod.hosts() == 1
    link.feed(_frame(bytes([4, 1, 0x0B, 2])))  # the next keepalive restarts the wait
    clock.advance(HOST_TIMEOUT_MS - 1)
    assert pod.hosts() == 1
    clock.advance(1)
    assert pod.hosts() == 0 and not pod.state_bits() & 4
    link.feed(b"\x00\x05junk\x00")  # noise is not a host
    assert pod.hosts() == 0
    link.feed(_frame(bytes([4, 1, 0x0B, 3])))
    assert pod.hosts() == 1
    fl.close()


def test_noise_is_dropped_and_link_resyncs():
    pod, link, _wire, pwm, fl = _setup()
    good = _frame(bytes([3, 1, 2, 100, 1, 0, 0]))
    broken = bytearray(good)
    broken[3] ^= 0x40
    link.feed(bytes(broken) + b"\x07\x07\x07" + b"\x00" + good[:4])
    link.feed(good[4:])
    assert link.deframer.bad_crc + link.deframer.bad_cobs >= 1
    assert pod.cues_played == 1 and pwm.duty_u16() > 0
    link.feed(_frame(bytes([2, 1]) + bytes(18)))  # a status record: not for the pod
    assert link.unknown == 1
    fl.close()


def test_repl_escape_sequences():
    _pod, link, wire, _, fl = _setup()
    hits = []
    link.on_break = lambda: hits.append(1)
    link.feed(_frame(bytes([4, 1, 3, 3])) + _frame(bytes([3, 1, 1, 3, 3, 3, 0])))
    assert hits == [] and len(wire.records) == 1
    link.feed(b"\r\x03")  # what mpremote sends to interrupt
    assert hits == [1]
    link.feed(b"\x00\x03\x03\x03")
    assert hits == [1, 1]
    fl.close()


def test_log_frames():
    _pod, link, wire, _, fl = _setup()
    link.log("imu missing")
    assert wire.records == [b"\x7fimu missing"]
    fl.close()
