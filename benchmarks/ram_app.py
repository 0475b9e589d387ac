# The whole pod app on the MicroPython unix port, for its RAM figures (run by
# ram_budget.py with the firmware compiled as `stridecue device install`
# compiles it). Prints one JSON line.
#
#   micropython ram_app.py RUN_MS [ROMFS_IMAGE|-] [meter|free]
#
# The app is main.py's own build(): the real board table, LSM6DSO32 driver,
# gait engine, Pod, Store on littlefs, haptics, battery, fallback, the serial
# link and the BLE link (one bonded central), every asyncio task. Fakes only
# at the hardware edge, made before the baseline and allocating nothing while
# the app runs: an I2C bus that serves FIFO words from a table precomputed for
# a 700 ms stride, a RAM block device, PWM/ADC/pins, the bluetooth fake.
#
# Heap figures are gc.mem_alloc() relative to the baseline taken after the
# fakes exist and before the first firmware import:
#   code_bytes   what importing main and the firmware modules leaves on the heap
#   app_*        what the app allocates after that (objects, buffers, engine,
#                tasks, session files, backfill jobs): live = after gc.collect()
#                at every 20 ms step (max); burst = just before it (live + the
#                garbage of 20 ms; max)
# Mode "probe" stops at the baseline. Mode "free" never collects by hand: run
# in a heap sized by ram_budget.py, it shows the app needs no more than that
# heap (the GC runs when it must).
import gc
import json
import os
import sys

gc.collect()
sys.path.insert(0, "tests/firmware/fakes")

RUN_MS = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
ROMFS = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
MODE = sys.argv[3] if len(sys.argv) > 3 else "meter"
# the ROM image's buffer, made first (one block; read() would grow it by copies)
_image = bytearray(os.stat(ROMFS)[6]) if ROMFS else None

_STRIDE_MS = 700
_RATE = 416


def _fifo_table():
    # one 700 ms stride of (gyro word, accel word) pairs at 416 Hz, as the
    # chip's FIFO holds them: tag byte + 3 int16 (stance 230 ms, then swing)
    import math
    import struct

    n = _STRIDE_MS * _RATE // 1000
    t = bytearray(14 * n)
    for i in range(n):
        p = i * 1000 // _RATE
        gy = ax = 0
        az = 1000 + (6000 if p < 8 else 0)
        if p >= 230:
            f = (p - 230) / 470
            s = math.sin(math.pi * f)
            ax = int(4000 * math.sin(2 * math.pi * f))
            az = int(1000 + 1500 * s)
            gy = int(-600000 * s * math.cos(math.pi * f))
        slot = (i & 3) << 1
        t[14 * i] = (0x01 << 3) | slot
        struct.pack_into("<hhh", t, 14 * i + 1, 0, gy * 100 // 7000, 0)
        t[14 * i + 7] = (0x02 << 3) | slot
        struct.pack_into("<hhh", t, 14 * i + 8, ax * 1000 // 976, 0, az * 1000 // 976)
    return bytes(t), n


class LeanI2C:
    # the LSM6DSO32 as the driver sees it: WHO_AM_I, FIFO status, FIFO words
    # copied from the table as the clock says they were sampled
    def __init__(self, clock):
        self.clock = clock
        self.table, self.period = _fifo_table()
        self.rate = 0
        self.t0 = 0
        self.made = 0  # samples read out so far
        self.half = 0  # 0: next word gyro, 1: accel

    def writeto_mem(self, addr, reg, buf):
        if reg == 0x10:
            code = buf[0] >> 4
            self.rate = (0, 12, 26, 52, 104, 208, 416, 833)[code] if code < 8 else 0
            self.t0 = self.clock()
            self.made = 0
            self.half = 0

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == 0x0F:
            buf[0] = 0x6C
        elif reg == 0x3A:
            due = (self.clock() - self.t0) * self.rate // 1000 - self.made
            words = min(438, 2 * due - self.half) if due > 0 else 0
            buf[0] = words & 0xFF
            buf[1] = (words >> 8) & 3
        elif reg == 0x78:
            t = self.table
            for w in range(len(buf) // 7):
                src = 14 * (self.made % self.period) + 7 * self.half
                o = 7 * w
                for k in range(7):
                    buf[o + k] = t[src + k]
                if self.half:
                    self.made += 1
                self.half ^= 1
        else:
            for i in range(len(buf)):
                buf[i] = 0


class RamBlockDev:
    # "flash" for littlefs, outside the app's heap figures
    def __init__(self, block_size, blocks):
        self.block_size = block_size
        self.data = bytearray(block_size * blocks)
        self.mv = memoryview(self.data)

    def readblocks(self, block, buf, offset=0):
        a = block * self.block_size + offset
        for i in range(len(buf)):
            buf[i] = self.data[a + i]

    def writeblocks(self, block, buf, offset=None):
        a = block * self.block_size + (offset or 0)
        for i in range(len(buf)):
            self.data[a + i] = buf[i]

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.block_size
        if op == 5:
            return self.block_size
        if op == 6:
            return 0
        return None


class Pin:
    IN = 0
    PULL_UP = 1
    IRQ_RISING = 1

    def __init__(self, v=1):
        self.v = v
        self.handler = None

    def value(self, v=None):
        return self.v

    def irq(self, handler=None, trigger=1):
        self.handler = handler


class PWM:
    def duty_u16(self, d=None):
        return 0


class ADC:
    def read_uv(self):
        return 1900000  # a 3.8 V cell on a 1:2 divider


class Wdt:
    def feed(self):
        pass


class Quiet:
    # the USB serial stream: nothing comes in unless the meter feeds the link
    async def readinto(self, buf):
        import asyncio

        await asyncio.sleep_ms(3_600_000)
        return 0


class Out:
    def __init__(self):
        self.bytes = 0

    def __call__(self, mv):
        self.bytes += len(mv)


bd = RamBlockDev(512, 128)
os.VfsLfs2.mkfs(bd)
os.mount(os.VfsLfs2(bd), "/flash")
import time  # noqa: E402

import bluetooth  # noqa: E402  (the fake: its objects count as the stack's)

radio = bluetooth.BLE()
i2c = LeanI2C(time.ticks_ms)
button = Pin(1)
int1 = Pin(0)
pwm = PWM()
adc = ADC()
wdt = Wdt()
out = Out()
quiet = Quiet()
if ROMFS:
    # bytecode runs in place from a ROM image (on a pod: a memory-mapped
    # flash partition; here a buffer made before the baseline)
    import vfs

    with open(ROMFS, "rb") as f:
        f.readinto(_image)
    vfs.mount(vfs.VfsRom(_image), "/rom")
    sys.path.insert(0, "/rom")
gc.collect()
BASE = gc.mem_alloc()
FREE_AT_BASE = gc.mem_free()
if MODE == "probe":  # ram_budget.py sizing the heap: the baseline only
    print(json.dumps({"heap_base_bytes": BASE, "heap_free_at_base": FREE_AT_BASE}))
    sys.exit(0)

# main.py (installed compiled, as podmain.mpy), then what its build() imports
import podmain as main  # noqa: E402
from stridepod import VERSION, framing, rt  # noqa: E402, F401
from stridepod.app import App  # noqa: E402, F401
from stridepod.battery import Battery  # noqa: E402, F401
from stridepod.ble import BleLink  # noqa: E402, F401
from stridepod.fallback import Fallback  # noqa: E402, F401
from stridepod.gait import GaitEngine  # noqa: E402, F401
from stridepod.haptics import Haptics  # noqa: E402, F401
from stridepod.lsm6dso32 import LSM6DSO32  # noqa: E402, F401
from stridepod.serial_link import SerialLink  # noqa: E402, F401
from stridepod.service import Pod  # noqa: E402, F401
from stridepod.store import Store  # noqa: E402, F401

gc.collect()
CODE = gc.mem_alloc()
board = main.boards.get("esp32s3")
app, readers = main.build(
    board, button, i2c, pwm, adc, radio, wdt, out, quiet, "/flash/sessions", imu_int=int1
)
serial = app.pod.links[1]
gc.collect()
BUILT = gc.mem_alloc() - CODE
peak = [0, 0]

# control requests as the host frames them (COBS + CRC), made before the run
_REQS = {}


def _frame(rec):
    buf = bytearray(len(rec) + 5)
    n = framing.encode(rec, len(rec), buf)
    return bytes(buf[:n])


_REQS[2] = _frame(b"\x04\x01\x01\x01" + b"\x00\xf1\x53\x65")  # START
_REQS[150] = _frame(b"\x04\x01\x06\x02" + b"\x00\x00\x00\x00\x14\x00")  # BACKFILL 0, 20
_REQS[151] = _frame(b"\x04\x01\x0b\x03")  # GET_STATUS
gc.collect()
CODE = gc.mem_alloc() - BUILT  # the request frames are the host's, not the app's


async def meter():
    central = None
    t_end = time.ticks_add(time.ticks_ms(), RUN_MS)
    step = 0
    while time.ticks_diff(t_end, time.ticks_ms()) > 0:
        if MODE == "meter":
            burst = gc.mem_alloc() - CODE
            gc.collect()
            live = gc.mem_alloc() - CODE
            peak[0] = max(peak[0], live)
            peak[1] = max(peak[1], burst)
        step += 1
        if step == 2:
            app.set_pairing(True, time.ticks_ms())
            central = radio.connect()
            await rt.sleep_ms(30)
            central.pair()
            app.set_pairing(False)
        if step in _REQS:
            serial.feed(_REQS[step])
        if int1.handler is not None:
            int1.handler(int1)  # the FIFO watermark, every 20 ms
        if central is not None:
            central.pump()
            central.notified.clear()
            central.indicated.clear()
        await rt.sleep_ms(20)


died = [0]


async def run():
    tasks = app.start(readers)
    await meter()
    for t in tasks:
        if t.done():
            died[0] += 1  # a task ended: an exception (MemoryError, say) killed it
        t.cancel()


import asyncio  # noqa: E402

asyncio.run(run())
gc.collect()
print(
    json.dumps(
        {
            "mode": MODE,
            "heap_base_bytes": BASE,
            "heap_free_at_base": FREE_AT_BASE,
            "code_bytes": CODE - BASE,
            "app_built_bytes": BUILT,
            "app_live_peak_bytes": peak[0],
            "app_burst_peak_bytes": peak[1],
            "app_end_live_bytes": gc.mem_alloc() - CODE,
            "tasks_died": died[0],
            "strides": app.strides,
            "samples": app.samples,
            "dropped": app.imu.dropped,
            "serial_bytes": out.bytes,
            "run_ms": RUN_MS,
        }
    )
)
