# app.py end to end on the unix port: register-level IMU model -> driver ->
# the real gait engine -> Pod -> serial frames and BLE notifications; idle
# between sessions, watchdog, pairing button, fallback cue, asyncio tasks.
import struct
import sys

sys.path.insert(0, "tests/firmware/fakes")

import bluetooth  # the fake
from fakes.hw import PWM, WDT, Clock, Pin
from fakes.lsm6dso32_model import I2C, LSM6DSO32
from fakes.motion import Gait
from fakes.ramfs import Flash
from stridepod import framing, proto
from stridepod.app import PAIRING_MS, App
from stridepod.ble import BleLink
from stridepod.fallback import Fallback
from stridepod.gait import GaitEngine
from stridepod.haptics import Haptics
from stridepod.lsm6dso32 import LSM6DSO32 as Driver
from stridepod.serial_link import SerialLink
from stridepod.service import Pod
from stridepod.store import Store


class Wire:
    def __init__(self):
        self.records = []
        self.d = framing.Deframer(lambda b, n: self.records.append(bytes(b[:n])))

    def write(self, mv):
        self.d.feed(bytes(mv))


class Rig:
    def __init__(self, rate=416, ble=False):
        self.fl = Flash(size=65536)
        self.clock = Clock(10000)
        self.chip = LSM6DSO32()
        self.imu = Driver(I2C([self.chip]), 0x6A)
        self.pwm = PWM(Pin(7), freq=20000)
        self.pod = Pod(
            self.clock,
            Store(self.fl.root, self.fl.fs).open(),
            Haptics(self.pwm, self.clock),
            imu=self.imu,
        )
        self.wire = Wire()
        self.serial = SerialLink(self.pod, self.wire.write)
        self.pod.links.append(self.serial)
        self.wdt = WDT(timeout=8000)
        self.button = Pin(2, Pin.IN, Pin.PULL_UP)
        self.app = App(
            self.pod,
            self.imu,
            lambda hz: GaitEngine(hz, 32, 2000),
            self.clock,
            self.wdt,
            self.button,
        )
        if ble:
            self.radio = bluetooth.BLE()
            self.ble = BleLink(self.radio, self.pod, "test", "0.1.0")
            self.pod.links.append(self.ble)
            self.app.ble = self.ble
        self.gait = Gait()
        self._acc = 0

    def send(self, rec):
        out = bytearray(len(rec) + 5)
        n = framing.encode(rec, len(rec), out)
        self.serial.feed(bytes(out[:n]))

    def run_ms(self, ms, poll_ms=20):
        # the world moves on 1 ms steps; the chip samples at its rate
        end = self.clock.t + ms
        while self.clock.t < end:
            self.clock.advance(1)
            self._acc += self.chip.acc_hz()
            while self._acc >= 1000:
                self._acc -= 1000
                self.chip.produce(*self.gait.at(self.clock.t))
            if self.clock.t % poll_ms == 0:
                self.app.poll()
            self.pod.haptics.step(self.clock.t)

    def strides(self):
        return [r for r in self.wire.records if r[0] == proto.KIND_STRIDE]


def test_idle_until_a_session_starts():
    rig = Rig()
    rig.run_ms(2000)
    assert rig.chip.acc_hz() == 0 and rig.app.samples == 0 and rig.strides() == []
    rig.fl.close()


def test_session_streams_strides_end_to_end():
    rig = Rig()
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1700000000))
    assert rig.chip.acc_hz() == 416 and rig.chip.acc_fs_mg() == 32000
    rig.run_ms(10000)
    st = rig.strides()
    seqs = [struct.unpack_from("<I", r, 2)[0] for r in st]
    assert 11 <= len(st) <= 15 and seqs == list(range(len(st)))
    for r in st[2:]:
        _t, stride, _contact = struct.unpack_from("<IHH", r, 6)
        assert 690 <= stride <= 710, stride
    assert rig.imu.dropped == 0 and abs(rig.app.samples - 4160) < 20
    rig.send(bytes([4, 1, 2, 2]))
    assert rig.chip.acc_hz() == 0  # powered down again
    assert rig.pod.store.sessions[0].records == len(st)
    rig.fl.close()


def test_sample_rate_config_reaches_the_imu_and_engine():
    rig = Rig()
    rig.send(bytes([4, 1, 4, 1, 2]) + struct.pack("<I", 833))
    rig.send(bytes([4, 1, 1, 2]) + struct.pack("<I", 1))
    assert rig.chip.acc_hz() == 833 and rig.app.engine.rate_hz == 833
    rig.run_ms(4000, poll_ms=10)
    assert len(rig.strides()) >= 4 and rig.imu.dropped == 0
    rig.fl.close()


def test_slow_polling_overruns_and_counts_drops():
    rig = Rig()
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
    rig.run_ms(3000, poll_ms=1500)  # reads at +0.5 s and +2 s; the FIFO holds ~0.5 s
    # 1.5 s at 416 Hz = 624 samples, the FIFO kept 219 (438 words): 405 lost
    assert rig.imu.overruns == 1 and abs(rig.imu.dropped - 405) <= 3
    rig.send(bytes([4, 1, 0x0B, 3]))
    st = rig.wire.records[-1]
    assert st[0] == proto.KIND_STATUS and st[3] == 3  # imu_state: overrun seen
    assert struct.unpack_from("<I", st, 6)[0] == rig.imu.dropped
    rig.fl.close()


def test_watchdog_fed_only_while_sampling_runs():
    rig = Rig()
    rig.app.poll()
    assert rig.app.feed_watchdog() and rig.wdt.feeds == 1
    rig.clock.advance(6000)  # the sampling loop stalled
    assert not rig.app.feed_watchdog() and rig.wdt.feeds == 1
    rig.app.poll()
    assert rig.app.feed_watchdog() and rig.wdt.feeds == 2
    rig.fl.close()


def test_long_press_opens_pairing_for_60_s():
    rig = Rig(ble=True)
    rig.button.drive(0)
    for _ in range(30):  # 1.5 s: a short press does nothing
        rig.clock.advance(50)
        rig.app.check_button()
    assert not rig.pod.pairing
    for _ in range(15):
        rig.clock.advance(50)
        rig.app.check_button()
    assert rig.pod.pairing and rig.radio.config("bond") is True
    assert rig.pod.state_bits() & 2
    rig.button.drive(1)
    rig.clock.advance(PAIRING_MS)
    rig.app.check_button()
    assert not rig.pod.pairing and rig.radio.config("bond") is False
    rig.fl.close()


def test_a_press_held_8_s_forgets_every_bond():
    rig = Rig(ble=True)
    rig.app.set_pairing(True, rig.clock.t)
    c = rig.radio.connect()
    c.pair()
    rig.ble.process()
    assert rig.ble.hosts() == 1 and len(rig.ble.bonds.peers()) == 1
    rig.button.drive(0)
    for _ in range(150):  # 7.5 s: pairing opens at 2 s, nothing forgotten yet
        rig.clock.advance(50)
        rig.app.check_button()
        rig.pod.haptics.step(rig.clock.t)
    assert rig.pod.pairing and len(rig.ble.bonds.peers()) == 1
    on = []
    for _ in range(60):  # on to 10.5 s: three long pulses say every bond is gone
        rig.clock.advance(50)
        rig.app.check_button()
        rig.pod.haptics.step(rig.clock.t)
        on.append(rig.pwm.duty_u16() > 0)
    assert rig.ble.bonds.peers() == [] and rig.ble.hosts() == 0
    pulses = sum(1 for i in range(1, len(on)) if on[i] and not on[i - 1]) + (1 if on[0] else 0)
    assert pulses == 3 and on.count(True) >= 20  # 3 x 400 ms, not the two short of pairing
    rig.button.drive(1)
    rig.app.check_button()
    rig.fl.close()


def test_fallback_cues_only_when_enabled_and_alone():
    rig = Rig()
    fb = Fallback(rig.pod)
    rig.pod.fallback = fb
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))  # the serial host is there
    t = 20000

    def strides(n, stride_ms=700, flags=0):
        nonlocal t
        for _ in range(n):
            t += stride_ms
            rig.pod.on_stride(t, stride_ms, 200, 2400, flags)

    strides(8, 800)  # 150 spm, below the default band 160..200: but off by default
    assert fb.cues == 0
    rig.send(bytes([4, 1, 4, 2, 3]) + struct.pack("<I", 1))  # FALLBACK_CUES on
    strides(8, 800)
    assert fb.cues == 0  # a host is connected: it cues, not the pod
    rig.clock.advance(29000)
    assert rig.pod.hosts() == 1  # a host silent for 29 s still counts
    rig.clock.advance(1000)  # 30 s without a frame (no GET_STATUS keepalive): gone
    assert rig.pod.hosts() == 0
    strides(3, 800)
    assert fb.cues == 0  # not yet: needs 4 in a row
    strides(1, 800)
    assert fb.cues == 1 and rig.pwm.duty_u16() > 0
    strides(8, 800)
    assert fb.cues == 1  # refractory 10 s
    strides(12, 800, flags=proto.F_LOW_QUALITY)
    strides(8, 700)  # 171 spm: inside the band
    assert fb.cues == 1
    strides(4, 560)  # 214 spm: too fast
    assert fb.cues == 2
    rig.fl.close()


def test_hot_path_allocates_nothing():
    if sys.implementation.name != "micropython":
        return
    import micropython

    rig = Rig()
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
    rig.run_ms(3000)
    for _ in range(16):
        rig.chip.produce(0, 0, 1000, 0, 0, 0)  # standing: no stride completes
    n = rig.imu.read(rig.clock.t)
    micropython.heap_lock()
    try:
        rig.app._feed(n, rig.clock.t)
    finally:
        micropython.heap_unlock()
    assert n == 16


def test_tasks_run_under_asyncio():
    import asyncio

    from stridepod import rt

    rig = Rig(ble=True)
    rig.app.clock_ms = rt.ticks_ms
    rig.pod.clock_ms = rt.ticks_ms

    async def world():
        while True:
            for _ in range(8):
                rig.chip.produce(0, 0, 1000, 0, 0, 0)
            await rt.sleep_ms(20)

    async def main():
        tasks = rig.app.start([rig.ble.run()])
        w = asyncio.create_task(world())
        rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
        c = rig.radio.connect()
        await rt.sleep_ms(300)
        assert len(rig.ble.conns) == 1 and rig.app.samples > 50
        rig.send(bytes([4, 1, 9, 2]))  # IDENTIFY, played by the haptics task
        await rt.sleep_ms(200)
        assert 0 in rig.pwm.log[-3:] and max(rig.pwm.log) > 0
        tasks.append(w)
        for t in tasks:
            t.cancel()
        return c

    asyncio.run(main())
    assert rig.wdt.feeds >= 1
    rig.fl.close()


def test_fifo_watermark_interrupt_wakes_sampling():
    import asyncio

    from stridepod import rt

    rig = Rig()
    rig.app.clock_ms = rt.ticks_ms
    rig.pod.clock_ms = rt.ticks_ms
    int1 = Pin(4, Pin.IN)
    rig.app.use_fifo_interrupt(int1, Pin.IRQ_RISING)
    assert int1.handler is not None

    async def main():
        rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
        task = asyncio.create_task(rig.app.sampling())
        await rt.sleep_ms(30)  # first pass done; now waiting for INT1 (up to 100 ms)
        for _ in range(16):
            rig.chip.produce(0, 0, 1000, 0, 0, 0)
        before = rig.app.samples
        int1.drive(1)  # the watermark edge: the IRQ handler only sets a flag
        await rt.sleep_ms(10)
        woke = rig.app.samples - before
        task.cancel()
        return woke

    assert asyncio.run(main()) == 16
    rig.fl.close()


def test_a_lost_watermark_edge_costs_at_most_one_button_tick():
    # no INT1 edge for 100 ms (device clock) while a session runs: the 50 ms
    # button/health tick sets the FIFO flag, so the samples are read anyway
    import asyncio

    from stridepod import rt

    rig = Rig()  # device time is rig.clock, moved by hand: real delays do not matter
    int1 = Pin(4, Pin.IN)
    rig.app.use_fifo_interrupt(int1, Pin.IRQ_RISING)

    async def main():
        rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
        tasks = [asyncio.create_task(rig.app.sampling()), asyncio.create_task(rig.app.buttons())]
        await rt.sleep_ms(30)  # first pass done; waiting for an edge that never comes
        for _ in range(16):
            rig.chip.produce(0, 0, 1000, 0, 0, 0)
        before = rig.app.samples
        await rt.sleep_ms(120)  # two ticks, but no device time has passed
        early = rig.app.samples - before
        rig.clock.advance(100)
        await rt.sleep_ms(120)
        late = rig.app.samples - before
        for t in tasks:
            t.cancel()
        return early, late

    assert asyncio.run(main()) == (0, 16)
    rig.fl.close()
