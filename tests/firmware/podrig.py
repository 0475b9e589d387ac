# The whole pod app as main.py builds it (main.build: App, LSM6DSO32 driver,
# gait engine, Pod, Store, haptics, battery, fallback, BLE and serial links,
# every asyncio task), on the MicroPython unix port in real time, with its USB
# serial link on stdin/stdout (a pty in tests/host/test_pod_app.py). Fakes sit
# at the hardware edge only: a register-level LSM6DSO32 whose FIFO a task fills
# at the configured rate from a crude running motion (fakes/motion.py, a 700 ms
# stride), littlefs on a RAM block device, pins, PWM, ADC, watchdog, radio.
#
#   micropython tests/firmware/podrig.py     (from the repository root)
#
# PODRIG_BONDS=n in the environment: n centrals (addresses D8:3A:DD:12:34:50,
# ...51, ...) bond with the pod through its BLE link, in a pairing window,
# before the app starts.
import os
import sys

sys.path.insert(0, "tests/firmware/fakes")
sys.path.insert(0, "tests/firmware")
sys.path.insert(0, "firmware")

import asyncio

import bluetooth
import main
import micropython
from fakes.hw import ADC, PWM, WDT, Pin
from fakes.lsm6dso32_model import I2C, LSM6DSO32
from fakes.motion import Gait
from fakes.ramfs import Flash
from stridepod import boards, rt


async def feed_imu(chip, gait):
    # the chip samples while its ODR is set: push the samples due since start
    t0 = None
    made = 0
    while True:
        hz = chip.acc_hz()
        if not hz:
            t0 = None
        else:
            now = rt.ticks_ms()
            if t0 is None:
                t0 = now
                made = 0
            due = rt.ticks_diff(now, t0) * hz // 1000
            while made < due:
                chip.produce(*gait.at(made * 1000 // hz))
                made += 1
        await asyncio.sleep_ms(5)


async def run(app, readers, chip):
    app.start(readers)
    await feed_imu(chip, Gait())


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
    fl = Flash(size=65536)
    b = boards.get("esp32s3")
    chip = LSM6DSO32()
    adc = ADC(Pin(b["bat_adc"]), b["adc_full_scale_mv"])
    adc.mv = 1900
    reader = asyncio.StreamReader(sys.stdin.buffer)
    app, readers = main.build(
        b,
        Pin(b["button"], Pin.IN, Pin.PULL_UP),
        I2C([chip]),
        PWM(Pin(b["motor"]), freq=b["motor_pwm_freq"]),
        adc,
        bluetooth.BLE(),
        WDT(timeout=8000),
        sys.stdout.buffer.write,
        reader,
        fl.root,
    )
    bond(app, int(os.getenv("PODRIG_BONDS") or 0))
    micropython.kbd_intr(-1)  # frames may hold 0x03, as on the pod
    try:
        asyncio.run(run(app, readers, chip))
    finally:
        fl.close()


go()
