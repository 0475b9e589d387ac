# The whole pod app as main.py builds it (main.build: App, LSM6DSO32 driver,
# gait engine, Pod, Store, haptics, battery, fallback, BLE and serial links,
# every asyncio task), on the MicroPython unix port in real time, with its USB
# serial link on stdin/stdout (a pty in tests/host/test_pod_app.py). Fakes sit
# at the hardware edge only: a register-level LSM6DSO32 whose FIFO (and wake-up
# function) a task feeds at the configured rate from a crude running motion
# (fakes/motion.py: a 700 ms jog, or a 400 m rep's faster, longer strides) or a
# foot at rest, littlefs on a block device, pins, PWM, ADC, watchdog, radio.
#
#   micropython tests/firmware/podrig.py     (from the repository root)
#
# The test's side of the world, by environment variable (all optional):
#   PODRIG_MOTION  a file holding what the foot does now (read every 200 ms;
#                  without it the foot runs all the time):
#                    still   a foot at rest
#                    run     a jog: 1.6 m strides every 700 ms (2.3 m/s)
#                    rep     a 400 m rep: 3.6 m strides every 520 ms (6.9 m/s)
#                    fade    the rep tiring: the same rhythm, 3.25 m strides (-10 %)
#   PODRIG_FLASH   a file that is the pod's flash (kept across runs: a reboot)
#   PODRIG_LOG     a file the rig appends what a test cannot see on the wire to:
#                    ready                     the app runs, a watch is connected
#                    stride SEQ FLAGS MM MS    every live stride the pod made (its
#                                              length in mm, its time in ms)
#                    rsc HEX                   each RSC notification the watch got
#                    motor DUTY                every change of the motor's duty
#                    session on|off [auto]     the pod's session state changed
#                  and connects a watch: an unbonded central (RSC only).
#   PODRIG_BONDS   n: n centrals (addresses D8:3A:DD:12:34:50, ...51, ...) bond
#                  with the pod through its BLE link, in a pairing window,
#                  before the app starts.
import sys

sys.path.insert(0, "tests/firmware/fakes")
sys.path.insert(0, "tests/firmware")
sys.path.insert(0, "firmware")

import asyncio
import os

import bluetooth
import main
import micropython
from fakes.hw import ADC, PWM, WDT, Pin
from fakes.lsm6dso32_model import I2C, LSM6DSO32
from fakes.motion import ChipClock, Gait, Still
from fakes.ramfs import Flash
from stridepod import boards, rt

_BLOCK = 512
_BLOCKS = 128  # 64 KB, as the RAM flash


def env(name):
    return os.getenv(name) or None


class Log:
    def __init__(self, path):
        self.f = open(path, "a") if path else None  # noqa: SIM115 - open for the whole run

    def __call__(self, line):
        if self.f is not None:
            self.f.write(line + "\n")
            self.f.flush()


LOG = Log(env("PODRIG_LOG"))


class FileBlockDev:
    # the pod's flash in a file: what littlefs wrote survives the process (a reboot)
    def __init__(self, path):
        try:
            self.f = open(path, "r+b")  # noqa: SIM115
            self.fresh = False
        except OSError:
            self.f = open(path, "w+b")  # noqa: SIM115
            self.f.write(bytes(_BLOCK * _BLOCKS))
            self.fresh = True

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * _BLOCK + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        self.f.seek(block * _BLOCK + (offset or 0))
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:
            return _BLOCKS
        if op == 5:
            return _BLOCK
        if op == 6:
            return 0
        return None


def flash_root():
    path = env("PODRIG_FLASH")
    if path is None:
        return Flash(size=_BLOCK * _BLOCKS).root
    bd = FileBlockDev(path)
    if bd.fresh:
        os.VfsLfs2.mkfs(bd)
    os.mount(os.VfsLfs2(bd), "/pod")
    return "/pod/sessions"


class Motor(PWM):
    # the motor's PWM pin; the rig logs every change of duty
    def duty_u16(self, d=None):
        if d is not None and d != self._duty:
            LOG("motor %d" % d)
        return super().duty_u16(d)


class Watch:
    # what a test cannot see on the serial wire: the pod's live strides, its
    # session state, and a watch (an unbonded central) that reads RSC
    def __init__(self, app, radio):
        self.pod = app.pod
        self.state = None
        self.central = radio.connect(b"\x0a\x0b\x0c\x0d\x0e\x0f")
        self.h_rsc = radio.handle_of(bluetooth.UUID(0x2A53))
        # it subscribes: a stack that keeps CCCDs sees the write to the one after
        # the value handle (MicroPython's gatts_notify itself sends regardless)
        try:
            self.central.write(self.h_rsc + 1, b"\x01\x00")
        except (OSError, ValueError):
            pass  # this fake has no CCCD attribute to write
        app.pod.links.append(self)

    # the link interface (service.py): only strides matter here
    def stride(self, rec, n, rsc, rn):
        seq = rec[2] | rec[3] << 8 | rec[4] << 16 | rec[5] << 24
        flags, ms, mm = rec[16] | rec[17] << 8, rec[10] | rec[11] << 8, rec[14] | rec[15] << 8
        LOG("stride %d %d %d %d" % (seq, flags, mm, ms))

    def reply(self, conn, buf, n):
        pass

    def record(self, conn, buf, n):
        return True

    def status(self, buf, n):
        pass

    def hosts(self):
        return 0

    async def run(self):
        LOG("ready")
        while True:
            c = self.central
            c.pump()
            for h, data in c.notified:
                if h == self.h_rsc:
                    LOG("rsc " + data.hex())
            c.notified.clear()
            state = (self.pod.running(), self.pod.auto_running())
            if state != self.state:
                self.state = state
                LOG("session " + ("on" if state[0] else "off") + (" auto" if state[1] else ""))
            await asyncio.sleep_ms(100)


# the feet a test can ask for; rep and fade share one rhythm, so a switch between
# them keeps the stride's phase (only the swing's length changes)
FEET = {
    "still": Still(),
    "run": Gait(),
    "rep": Gait(stride_ms=520, stance_ms=140, length_m=3.6),
    "fade": Gait(stride_ms=520, stance_ms=140, length_m=3.25),
}


def motion():
    # what the foot does now: the test writes one of FEET's names to PODRIG_MOTION
    path = env("PODRIG_MOTION")
    if path is None:
        return FEET["run"]
    try:
        with open(path) as f:
            return FEET.get(f.read().strip(), FEET["run"])
    except OSError:
        return FEET["still"]


async def feed_imu(chip):
    # the chip samples while its ODR is set: push the samples due since start
    clock = ChipClock()
    foot = motion()
    look = rt.ticks_ms()
    while True:
        now = rt.ticks_ms()
        if rt.ticks_diff(now, look) >= 200:
            look = now
            foot = motion()
        clock.produce_due(chip, now, foot.at)
        await asyncio.sleep_ms(5)


async def run(app, readers, chip, watch):
    tasks = app.start(readers)
    if watch is not None:
        tasks.append(asyncio.create_task(watch.run()))
    await feed_imu(chip)


def bond(app, n):
    # n centrals pair in a pairing window (the fake radio's centrals)
    app.ble.set_pairing(True)
    for i in range(n):
        c = app.ble.ble.connect(bytes((0xD8, 0x3A, 0xDD, 0x12, 0x34, 0x50 + i)))
        c.pair()
        app.ble.process()
        c.disconnect()
        app.ble.process()
    app.ble.set_pairing(False)


def go():
    root = flash_root()
    b = boards.get("esp32s3")
    chip = LSM6DSO32()
    adc = ADC(Pin(b["bat_adc"]), b["adc_full_scale_mv"])
    adc.mv = 1900
    reader = asyncio.StreamReader(sys.stdin.buffer)
    radio = bluetooth.BLE()
    app, readers = main.build(
        b,
        Pin(b["button"], Pin.IN, Pin.PULL_UP),
        I2C([chip]),
        Motor(Pin(b["motor"]), freq=b["motor_pwm_freq"]),
        adc,
        radio,
        WDT(timeout=8000),
        sys.stdout.buffer.write,
        reader,
        root,
    )
    bond(app, int(env("PODRIG_BONDS") or 0))
    watch = Watch(app, radio) if LOG.f is not None else None
    micropython.kbd_intr(-1)  # frames may hold 0x03, as on the pod
    asyncio.run(run(app, readers, chip, watch))


go()
