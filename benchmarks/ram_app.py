# RAM of the whole pod app on the MicroPython unix port (run by ram_budget.py,
# with the firmware compiled to .mpy as on a pod). Prints one JSON line.
#
# Everything real except the hardware edge: LSM6DSO32 driver on a lean I2C
# stand-in that synthesises FIFO words from the time (no storage of its own),
# the gait engine, Pod, Store on littlefs (a RAM block device allocated
# before the baseline), haptics on a PWM stand-in, the serial link, the BLE
# link on the bluetooth fake with one bonded central, and the asyncio tasks.
# Measured with gc.mem_alloc(), relative to a baseline taken after the fakes
# exist and before the first firmware import:
#   code_bytes   what importing the firmware modules (.mpy) leaves on the heap
#   app_*        everything the app allocates after that: objects, buffers,
#                the gait engine, asyncio tasks, session files, backfill jobs:
#                live = after gc.collect() at every 20 ms poll (max), burst =
#                before the collect (live + garbage made in 20 ms; max)
import gc
import json
import math
import os
import struct
import sys

gc.collect()
sys.path.insert(0, "tests/firmware/fakes")
sys.path.insert(0, "tests/firmware")

RUN_MS = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
ROMFS = sys.argv[2] if len(sys.argv) > 2 else None  # a ROMFS image of the .mpy files


class RamBlockDev:
    def __init__(self, block_size, blocks):
        self.block_size = block_size
        self.data = bytearray(block_size * blocks)

    def readblocks(self, block, buf, offset=0):
        a = block * self.block_size + offset
        mv = memoryview(self.data)
        buf[:] = mv[a : a + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        a = block * self.block_size + (offset or 0)
        mv = memoryview(self.data)
        mv[a : a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.block_size
        if op == 5:
            return self.block_size
        if op == 6:
            return 0
        return None


class LeanI2C:
    # LSM6DSO32 as seen from the bus: WHO_AM_I, FIFO status, FIFO words made
    # on the fly from the clock (a 700 ms stride), nothing stored
    def __init__(self, clock):
        self.clock = clock
        self.rate = 0
        self.t0 = 0
        self.made = 0  # samples put into the (virtual) FIFO and read
        self.half = 0  # 0: next word gyro, 1: accel

    def writeto_mem(self, addr, reg, buf):
        if reg == 0x10:
            code = buf[0] >> 4
            self.rate = (0, 12, 26, 52, 104, 208, 416, 833)[code] if code < 8 else 0
            self.t0 = self.clock()
            self.made = 0

    def _due(self):
        return (self.clock() - self.t0) * self.rate // 1000

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == 0x0F:
            buf[0] = 0x6C
        elif reg == 0x3A:
            words = min(438, 2 * (self._due() - self.made))
            buf[0] = words & 0xFF
            buf[1] = (words >> 8) & 3
        elif reg == 0x78:
            for w in range(len(buf) // 7):
                self._word(buf, 7 * w)
        else:
            for i in range(len(buf)):
                buf[i] = 0

    def _word(self, buf, o):
        t = self.made * 1000 // self.rate if self.rate else 0
        v = _motion(t)
        slot = (self.made & 3) << 1
        if self.half == 0:
            buf[o] = (0x01 << 3) | slot
            struct.pack_into("<hhh", buf, o + 1, 0, v[4] * 100 // 7000, 0)
            self.half = 1
        else:
            buf[o] = (0x02 << 3) | slot
            struct.pack_into("<hhh", buf, o + 1, v[0] * 1000 // 976, 0, v[2] * 1000 // 976)
            self.half = 0
            self.made += 1


def _motion(t):
    p = t % 700
    if p < 230:
        return (0, 0, 1000 + (6000 if p < 8 else 0), 0, 0, 0)
    f = (p - 230) / 470
    s = math.sin(math.pi * f)
    return (
        int(4000 * math.sin(2 * math.pi * f)),
        0,
        int(1000 + 1500 * s),
        0,
        int(-600000 * s * math.cos(math.pi * f)),
        0,
    )


class NullPWM:
    def duty_u16(self, d=None):
        return 0


class Button:
    def value(self):
        return 1


class Wdt:
    def feed(self):
        pass


bd = RamBlockDev(512, 128)  # 64 KB of "flash", outside the app's budget
os.VfsLfs2.mkfs(bd)
os.mount(os.VfsLfs2(bd), "/flash")
import bluetooth  # noqa: E402  (the fake; its objects count as the stack's)

radio = bluetooth.BLE()
if ROMFS:
    # bytecode runs in place from a ROM image (on a pod: a flash partition,
    # memory-mapped; here a buffer allocated before the baseline)
    import vfs

    with open(ROMFS, "rb") as f:
        _image = f.read()
    vfs.mount(vfs.VfsRom(_image), "/rom")
    sys.path.insert(0, "/rom")
gc.collect()
BASE = gc.mem_alloc()

import asyncio  # noqa: E402

from stridepod import framing, rt  # noqa: E402
from stridepod.app import App  # noqa: E402
from stridepod.ble import BleLink  # noqa: E402
from stridepod.fallback import Fallback  # noqa: E402
from stridepod.gait import GaitEngine  # noqa: E402
from stridepod.haptics import Haptics  # noqa: E402
from stridepod.lsm6dso32 import LSM6DSO32  # noqa: E402
from stridepod.serial_link import SerialLink  # noqa: E402
from stridepod.service import Pod  # noqa: E402
from stridepod.store import Store  # noqa: E402

gc.collect()
CODE = gc.mem_alloc()
out_bytes = [0]


def _write(mv):
    out_bytes[0] += len(mv)


clock = rt.ticks_ms
pod = Pod(clock, Store("/flash/sessions").open(), Haptics(NullPWM(), clock), battery=lambda: 90)
imu = LSM6DSO32(LeanI2C(clock), 0x6A)
pod.imu = imu
pod.fallback = Fallback(pod)
serial = SerialLink(pod, _write)
ble = BleLink(radio, pod, "bench", "0.1.0")
pod.links.append(ble)
pod.links.append(serial)
app = App(pod, imu, lambda hz: GaitEngine(hz, 32, 2000), clock, Wdt(), Button())
app.ble = ble
gc.collect()
BUILT = gc.mem_alloc() - CODE
peak = [0, 0]


def _frame(rec):
    buf = bytearray(len(rec) + 5)
    n = framing.encode(rec, len(rec), buf)
    return bytes(buf[:n])


async def meter():
    central = None
    t_end = rt.ticks_add(clock(), RUN_MS)
    step = 0
    while rt.ticks_diff(t_end, clock()) > 0:
        burst = gc.mem_alloc() - CODE
        gc.collect()
        live = gc.mem_alloc() - CODE
        peak[0] = max(peak[0], live)
        peak[1] = max(peak[1], burst)
        step += 1
        if step == 2:
            ble.set_pairing(True)
            central = radio.connect()
            await rt.sleep_ms(30)
            central.pair()
            ble.set_pairing(False)
            serial.feed(_frame(bytes([4, 1, 1, 1]) + struct.pack("<I", 1700000000)))
        if step == 150:  # a backfill and a status after some strides
            serial.feed(_frame(bytes([4, 1, 6, 2]) + struct.pack("<IH", 0, 20)))
            serial.feed(_frame(bytes([4, 1, 0x0B, 3])))
        if central is not None:
            central.pump()
            central.notified = []
            central.indicated = []
        await rt.sleep_ms(20)


async def main():
    tasks = app.start([ble.run()])
    await meter()
    for t in tasks:
        t.cancel()


asyncio.run(main())
gc.collect()
print(
    json.dumps(
        {
            "code_bytes": CODE - BASE,
            "app_built_bytes": BUILT,
            "app_live_peak_bytes": peak[0],
            "app_burst_peak_bytes": peak[1],
            "app_end_live_bytes": gc.mem_alloc() - CODE,
            "strides": app.strides,
            "samples": app.samples,
            "dropped": imu.dropped,
            "serial_bytes": out_bytes[0],
            "run_ms": RUN_MS,
        }
    )
)
