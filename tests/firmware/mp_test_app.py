# app.py end to end on the unix port: register-level IMU model -> driver ->
# the real gait engine -> Pod -> serial frames and BLE notifications; idle
# between sessions, watchdog, pairing button, fallback cue, asyncio tasks;
# the pod on its own: motion starts its session, rest ends it.
import struct
import sys

sys.path.insert(0, "tests/firmware/fakes")

import bluetooth  # the fake
from fakes.hw import PWM, WDT, Clock, Pin
from fakes.lsm6dso32_model import I2C, LSM6DSO32
from fakes.motion import Gait, Shake, Still
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
    def __init__(self, rate=416, ble=False, freq_fine=0):
        self.fl = Flash(size=65536)
        self.clock = Clock(10000)
        self.chip = LSM6DSO32(freq_fine=freq_fine)
        self.bus = I2C([self.chip])
        self.imu = Driver(self.bus, 0x6A)
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
        self.motion = self.gait  # what the foot does (Still, Shake)
        self._acc = 0

    def send(self, rec):
        out = bytearray(len(rec) + 5)
        n = framing.encode(rec, len(rec), out)
        self.serial.feed(bytes(out[:n]))

    def run_ms(self, ms, poll_ms=20, poll=True):
        # the world moves on 1 ms steps; the chip samples at its rate (poll False: the
        # interpreter is busy elsewhere, nobody reads the FIFO)
        end = self.clock.t + ms
        while self.clock.t < end:
            self.clock.advance(1)
            self._acc += self.chip.acc_mhz()  # as fast as the part really samples
            while self._acc >= 1000000:
                self._acc -= 1000000
                self.chip.produce(*self.motion.at(self.clock.t))
            if poll and self.clock.t % poll_ms == 0:
                self.app.poll()
            self.pod.haptics.step(self.clock.t)

    def strides(self):
        return [r for r in self.wire.records if r[0] == proto.KIND_STRIDE]


def _config(rig, key, value):
    rig.send(bytes([4, 1, 4, 40 + key]) + struct.pack("<BI", key, value))
    assert rig.wire.records[-1][4] == 0, rig.wire.records[-1]


def _listed(rig, index=0):
    # LIST_SESSIONS -> (session_id, start_s, records, flags)
    rig.send(bytes([4, 1, 7, 60, index]))
    r = rig.wire.records[-1]
    assert r[2] == 7 and r[4] == 0, r
    return struct.unpack_from("<HIIB", r, 6)


def test_idle_and_still_only_the_motion_check_runs():
    rig = Rig()
    rig.motion = Still()
    reads, nbytes = rig.bus.reads, rig.bus.bytes_read
    rig.run_ms(5000)
    # the accelerometer alone, 26 Hz low power, wake-up latched; no gyro, no FIFO
    assert rig.chip.acc_hz() == 26 and rig.chip.gyro_hz() == 0 and rig.chip.fifo_mode() == 0
    assert rig.chip.regs[0x15] & 0x10 and rig.chip.regs[0x58] & 0x80
    assert rig.app.samples == 0 and rig.strides() == [] and not rig.pod.running()
    # its whole cost on the bus: one 1-byte read (WAKE_UP_SRC) per check, 5 a second
    assert rig.bus.reads - reads == 25 and rig.bus.bytes_read - nbytes == 25
    rig.fl.close()


def test_motion_starts_the_pods_own_session_and_rest_ends_it():
    rig = Rig()
    _config(rig, 10, 10)  # REST_STOP_S: 10 s without a stride ends it
    rig.motion = Still()
    rig.run_ms(2000)
    rig.motion = rig.gait
    rig.run_ms(1000)
    assert not rig.pod.running()  # not yet 1 s of motion seen
    rig.run_ms(1000)
    assert rig.pod.running() and rig.pod.state_bits() & 8  # its own session
    assert rig.chip.acc_hz() == 416 and rig.chip.regs[0x58] == 0  # full rate, watch off
    rig.run_ms(10000)
    st = rig.strides()
    assert len(st) >= 10 and st[0][16] & proto.F_FIRST  # from a standing start
    rig.motion = Still()
    rig.run_ms(9000)
    assert rig.pod.running()  # not yet 10 s since the last stride
    rig.run_ms(2000)
    assert not rig.pod.running() and rig.chip.acc_hz() == 26  # watching again
    _sid, start_s, records, flags = _listed(rig)
    assert records == len(st) and flags == proto.SF_AUTO and start_s == 0  # date unknown
    rig.run_ms(5000)
    assert len(rig.pod.store.sessions) == 1 and len(rig.strides()) == len(st)
    rig.fl.close()


def test_motion_without_strides_leaves_no_session():
    rig = Rig()
    _config(rig, 10, 10)
    rig.motion = Shake()  # a pod jiggling in a bag
    rig.run_ms(1500)
    assert rig.pod.running()
    rig.motion = Still()
    rig.run_ms(10500)
    assert not rig.pod.running() and rig.strides() == []
    assert rig.pod.store.sessions == []
    rig.fl.close()


def test_a_host_start_keeps_the_pods_session_and_owns_it():
    rig = Rig()
    _config(rig, 10, 10)
    rig.run_ms(4000)
    assert rig.pod.auto_running()
    n = len(rig.pod.store.sessions)
    rig.send(bytes([4, 1, 1, 50]) + struct.pack("<I", 1700000000))
    assert rig.wire.records[-1][4] == proto.R_BUSY  # as any START while a session runs
    assert rig.pod.running() and not rig.pod.auto_running() and not rig.pod.state_bits() & 8
    rig.motion = Still()
    rig.run_ms(15000)
    assert rig.pod.running()  # the host's now: rest does not end it
    rig.send(bytes([4, 1, 2, 51]))
    assert rig.wire.records[-1][4] == 0 and not rig.pod.running()
    assert len(rig.pod.store.sessions) == n and _listed(rig)[3] == proto.SF_AUTO  # still to sync
    rig.fl.close()


def test_auto_start_off_powers_the_imu_down():
    rig = Rig()
    _config(rig, 9, 0)  # AUTO_START off
    assert rig.chip.acc_hz() == 0
    rig.run_ms(3000)
    assert not rig.pod.running() and rig.app.samples == 0
    _config(rig, 9, 1)
    assert rig.chip.acc_hz() == 26
    rig.run_ms(1500)
    assert rig.pod.running()
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
    assert rig.chip.acc_hz() == 26 and rig.chip.gyro_hz() == 0  # back to the motion check
    assert rig.pod.store.sessions[0].records == len(st)
    rig.fl.close()


def test_a_part_whose_clock_runs_off_its_nominal_rate_measures_true_strides():
    # a part trimmed 3 % fast or slow (INTERNAL_FREQ_FINE +-20): read as its nominal
    # 416 Hz, its 700 ms strides came out 680 / 720 ms, 6 % long or short, and the
    # sample clock's resyncs flagged half of them GAP
    for trim in (-20, 20):
        rig = Rig(freq_fine=trim)
        rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
        rig.run_ms(12000)
        assert rig.app.engine.rate_hz == (404 if trim < 0 else 429)
        st = rig.strides()
        assert len(st) >= 15
        for r in st[1:]:
            _t, stride, _contact = struct.unpack_from("<IHH", r, 6)
            mm, flags = r[14] | r[15] << 8, r[16] | r[17] << 8
            assert 695 <= stride <= 705 and abs(mm - 1597) <= 8 and flags == 0, (
                trim, stride, mm, flags)  # fmt: skip
        rig.fl.close()


def test_sample_rate_config_reaches_the_imu_and_engine():
    rig = Rig()
    rig.send(bytes([4, 1, 4, 1, 2]) + struct.pack("<I", 833))
    rig.send(bytes([4, 1, 1, 2]) + struct.pack("<I", 1))
    assert rig.chip.acc_hz() == 833 and rig.app.engine.rate_hz == 833  # 833.4 Hz
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


def _stride_lengths_and_flags(rig):
    return [(r[14] | r[15] << 8, r[16] | r[17] << 8) for r in rig.strides()]


def test_a_stall_without_loss_changes_no_stride():
    # the interpreter busy for 200 or 400 ms (a flash erase, a garbage collection):
    # the FIFO keeps every sample and the app reads them back in several chunks;
    # each chunk keeps its own time, so every stride reads as if nothing happened
    for stall in (200, 400):
        for phase in (0, 150, 300, 450, 600):  # where in the stride it falls
            rig = Rig()
            rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
            rig.run_ms(4000 + phase)
            rig.run_ms(stall, poll=False)
            rig.run_ms(4000)
            assert rig.imu.dropped == 0
            got = _stride_lengths_and_flags(rig)
            assert len(got) >= 10
            for mm, f in got[1:]:  # (the first is from standing)
                assert f == 0 and abs(mm - 1597) <= 5, (stall, phase, got)
            rig.fl.close()


def test_samples_the_fifo_lost_flag_the_stride_never_shorten_it():
    # a read ~20 ms later than the FIFO can wait (it holds ~526 ms at 416 Hz): a
    # dozen samples lost, fewer than the app's 40 ms clock resync would notice; the
    # engine must see their time pass (a GAP stride), not a stride short of them
    for stall in (545, 700, 850):  # where the hole falls: swing, stance, next swing
        rig = Rig()
        rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))
        rig.run_ms(4000 + stall - 545)
        rig.run_ms(535, poll=False)
        rig.run_ms(4000)
        assert rig.imu.overruns == 1 and 1 <= rig.imu.dropped <= 16, rig.imu.dropped
        got = _stride_lengths_and_flags(rig)
        assert any(f & proto.F_GAP for _, f in got), (stall, got)
        doubt = proto.F_GAP | proto.F_FIRST | proto.F_LOW_QUALITY
        for mm, f in got:
            if not f & doubt:
                assert abs(mm - 1597) <= 15, (stall, got)
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


def test_fallback_cues_stride_shortening_with_the_patterns_set():
    rig = Rig()
    fb = Fallback(rig.pod)
    rig.pod.fallback = fb
    _config(rig, 6, 1)  # FALLBACK_SHORTENING on
    _config(rig, 8, 3)  # its pattern: IDENTIFY (two pulses of 150 ms)
    rig.clock.advance(30000)  # the serial host that set them has gone
    t = 50000

    def strides(lengths, flags=0, stride_ms=700):
        nonlocal t
        for i, length in enumerate(lengths):
            t += stride_ms
            f = flags if i == 0 else flags & ~proto.F_FIRST
            rig.pod.on_stride(t, stride_ms, 200, length, f)

    strides([1400, 2000, 2000] + [2400] * 8, proto.F_FIRST)  # the run's reference: 2.4 m
    strides([2300] * 6)  # 4 % shorter: not yet
    strides([2200] * 2, proto.F_LOW_QUALITY)  # not judged
    strides([1500] * 2, proto.F_TURN)  # the chord of a turn: not judged either
    strides([1500] * 2, proto.F_GAP)  # samples missing: nor this
    strides([2200] * 2)
    assert fb.cues == 0
    strides([2200])  # the last 6 average 2.25 m: 6 % under the reference
    assert fb.cues == fb.short_cues == 1 and rig.pod.haptics._on == 150
    strides([2200] * 10)
    assert fb.cues == 1  # at most one cue in 10 s
    strides([1400] + [2200] * 16, proto.F_FIRST)  # a new run: a new reference
    assert fb.cues == 1
    _config(rig, 3, 1)  # FALLBACK_CUES on (band 160..200 steps/min)
    _config(rig, 7, 2)  # its pattern: STRIDE (one 400 ms pulse)
    rig.clock.advance(30000)
    t += 20000
    strides([2200] * 4, stride_ms=800)  # 150 steps/min
    assert fb.cues == 2 and fb.short_cues == 1 and rig.pod.haptics._on == 400
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


def test_the_rest_check_allocates_nothing():
    # in the pod's own session every poll asks whether the athlete has stopped
    if sys.implementation.name != "micropython":
        return
    import micropython

    rig = Rig()
    rig.run_ms(2500)
    assert rig.pod.auto_running()
    micropython.heap_lock()
    try:
        rig.app._rest(rig.clock.t)
        running = rig.pod.auto_running()
    finally:
        micropython.heap_unlock()
    assert running


def _pulses(pwm, since=0):
    # -> the motor's pulses (start index in the duty log) from log index `since`
    log = pwm.log
    return sum(1 for i in range(max(since, 1), len(log)) if log[i] and not log[i - 1])


def test_coach_paces_the_pods_own_session_until_matched():
    rig = Rig()
    _config(rig, 11, 171)  # PACER_SPM: the gait's 700 ms strides are 171 steps/min
    _config(rig, 12, 2)  # a tick every 2 steps (one stride)
    rig.motion = Still()
    rig.clock.advance(31000)  # the serial host has gone quiet: the pod is alone
    assert rig.pod.hosts() == 0
    rig.run_ms(1000)
    assert rig.app.coach is None  # no session yet: nothing made, nothing imported
    rig.motion = rig.gait
    rig.run_ms(2500)
    assert rig.pod.auto_running() and rig.app.coach is not None
    assert rig.app.coach.pacer.pacing and not rig.app.coach.splits
    n0 = len(rig.pwm.log)
    rig.run_ms(4000)
    ticks = _pulses(rig.pwm, n0)
    assert ticks >= 4 and rig.app.coach_cues >= 4  # ticks reach the motor, one a stride
    rig.run_ms(12000)  # 8 strides on the target: the pacer goes quiet
    assert not rig.app.coach.pacer.pacing
    cues, n1 = rig.app.coach_cues, len(rig.pwm.log)
    rig.run_ms(4000)
    assert rig.app.coach_cues == cues and _pulses(rig.pwm, n1) == 0
    rig.pod.auto_stop()
    assert not rig.pod.running() and rig.app.coach is None
    rig.fl.close()


class _Stride:
    # what app._stride reads of the engine
    def __init__(self, t, stride_ms, length_mm):
        self.t_contact_ms = t
        self.stride_ms = stride_ms
        self.contact_ms = 200
        self.length_mm = length_mm
        self.flags = 0


class _StatusTap:
    # a link that only keeps the status records the pod publishes
    def __init__(self):
        self.sent = []

    def stride(self, rec, n, rsc, rn):
        pass

    def reply(self, conn, buf, n):
        pass

    def record(self, conn, buf, n):
        return True

    def status(self, buf, n):
        self.sent.append(bytes(buf[:n]))

    def hosts(self):
        return 0


def _coach_byte(rig):
    # GET_STATUS over the serial link -> byte 17 of the status record
    rig.send(bytes([4, 1, 11, 77]))
    st = rig.wire.records[-1]
    assert st[0] == proto.KIND_STATUS, st
    return st[17]


def test_coach_counts_with_a_host_and_plays_splits_not_the_guard():
    # 4 m/s strides (2.4 m in 600 ms) against 100 m in 30 s, 200 m in 45 s: the first
    # split on plan, the second behind. The host is connected for the first 200 m and
    # drops mid-rep: the pod's split buzz and distance go on, its guard cues once alone
    rig = Rig()
    tap = _StatusTap()
    rig.pod.links.append(tap)
    _config(rig, 13, 1)  # SPLIT_BUZZ on
    _config(rig, 15, 400)  # GUARD_REP_M: a 400 m rep
    _config(rig, 16, 30000)  # the plan: 100 m at 30 s
    _config(rig, 17, 45000)  # 200 m at 45 s
    _config(rig, 18, 40000)  # 300 m at 40 s: not increasing, the plan stops before it
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))  # a host session, host there
    c = rig.app.coach
    assert c is not None and c.split.plan_ms == (30000, 45000) and c.guarding
    assert _coach_byte(rig) == proto.CS_ACTIVE | proto.CS_PLAN
    t = 20000
    h = rig.pod.haptics

    def run(n, length=2400):
        nonlocal t
        for _ in range(n):
            t += 600
            rig.app._stride(_Stride(t, 600, length))
            rig.app.poll()  # publishes a changed coach byte

    run(41)  # 98.4 m
    assert rig.app.coach_cues == 0 and c.running
    assert tap.sent[-1][17] == proto.CS_ACTIVE | proto.CS_PLAN | proto.CS_REP
    run(1)  # past 100 m: on plan, one pulse, with the host there
    assert rig.pod.hosts() == 1 and rig.app.coach_cues == 1
    assert h._on == 250 and h._pulses == 1
    run(42)  # past 200 m (84 strides: 201.6 m): behind plan, two pulses
    assert rig.app.coach_cues == 2 and h._pulses == 2  # IDENTIFY
    behind = proto.CS_ACTIVE | proto.CS_PLAN | proto.CS_REP | proto.CS_BEHIND
    assert tap.sent[-1][17] == behind and _coach_byte(rig) == behind
    sent = len(tap.sent)
    run(3, 2100)  # 12 % shorter from 200 m: the guard sees it, the host cues it
    assert c.guard.cues == 1 and rig.app.coach_cues == 2
    assert len(tap.sent) == sent  # nothing changed: no status sent
    rig.clock.advance(31000)  # the host has gone, mid-rep
    assert rig.pod.hosts() == 0
    run(12, 2100)  # the guard's refractory strides, then a cue: played now
    assert c.guard.cues == 2 and rig.app.coach_cues == 3
    assert h._on == 400 and h._pulses == 1  # SHORTENING_PATTERN: STRIDE, one 400 ms pulse
    # the distance went on counting with the host: 84 x 2.4 + 15 x 2.1 = 233.1 m
    assert c.split.mm == 84 * 2400 + 15 * 2100 and c.split.k == 2
    rig.send(bytes([4, 1, 2, 2]))  # STOP
    assert rig.app.coach is None and tap.sent[-1][17] == 0
    rig.fl.close()


def test_coach_paces_with_a_host_connected():
    rig = Rig()
    tap = _StatusTap()
    rig.pod.links.append(tap)
    _config(rig, 11, 171)  # PACER_SPM: the gait's 700 ms strides are 171 steps/min
    _config(rig, 12, 2)  # a tick every stride
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))  # the host's session
    pacing = proto.CS_ACTIVE | proto.CS_PACER | proto.CS_PACING
    assert _coach_byte(rig) == pacing
    n0 = len(rig.pwm.log)
    rig.run_ms(4000)
    assert rig.pod.hosts() == 1 and _pulses(rig.pwm, n0) >= 4  # the host is there
    assert not any(b[17] == proto.CS_ACTIVE | proto.CS_PACER for b in tap.sent)
    rig.run_ms(12000)  # matched for 8 strides: quiet, and the host is told
    assert not rig.app.coach.pacer.pacing
    assert tap.sent[-1][17] == proto.CS_ACTIVE | proto.CS_PACER
    assert _coach_byte(rig) == proto.CS_ACTIVE | proto.CS_PACER
    rig.send(bytes([4, 1, 2, 2]))  # STOP
    rig.fl.close()


class _Motor:
    # a PWM that keeps only its duty
    def __init__(self):
        self.d = 0

    def duty_u16(self, d=None):
        if d is None:
            return self.d
        self.d = d
        return None


def test_the_coach_with_a_host_allocates_nothing_per_stride():
    if sys.implementation.name != "micropython":
        return
    import micropython

    rig = Rig()
    _config(rig, 11, 171)
    _config(rig, 13, 1)
    _config(rig, 15, 400)
    _config(rig, 16, 30000)
    rig.send(bytes([4, 1, 1, 1]) + struct.pack("<I", 1))  # a host is connected
    strides = [_Stride(20000 + 600 * i, 600, 2400) for i in range(1, 80)]
    coach = rig.app._coach  # what the app does per stride after the pod has sent it
    for s in strides[:10]:
        coach(s)  # in the rep: the coach byte settles (its status goes out at a poll)
    rig.app.poll()  # (a pacer tick too)
    rest, cues = strides[10:], rig.app.coach_cues
    rig.pod.haptics.pwm = _Motor()  # the fake PWM's duty log grows (a list): not the pod's
    micropython.heap_lock()
    try:
        for s in rest:
            coach(s)  # a split at 100 m (a cue; no status: the byte is unchanged)
    finally:
        micropython.heap_unlock()
    assert rig.app.coach.split.k == 1 and rig.app.coach_cues == cues + 1
    rig.fl.close()


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
