# StrideCue pod: board glue. The only file that touches `machine` and
# `bluetooth`; everything else takes hardware as arguments (stridepod/app.py).
# Pins come from stridepod/boards.py; the board is named in board.txt (written
# by `stridecue device install --board NAME`) or guessed from the chip.
#
# Safe mode: hold the button while the pod boots and main.py returns to the
# REPL without starting anything. Over USB, "\r\x03" (what mpremote sends) or
# three 0x03 bytes at a frame start also stop the app (serial_link.py).
import sys

import machine
import micropython
from stridepod import boards

_BONDS = "bonds.bin"  # BLE bond keys (written only for centrals bonded in pairing mode)


def board_name():
    try:
        with open("board.txt") as f:
            return f.read().strip()
    except OSError:
        return "pico2w" if "RP2350" in sys.implementation._machine else "esp32s3"


def make_pins(b):
    button = machine.Pin(b["button"], machine.Pin.IN, machine.Pin.PULL_UP)
    i2c = machine.I2C(
        b["i2c_id"], scl=machine.Pin(b["scl"]), sda=machine.Pin(b["sda"]), freq=b["i2c_freq"]
    )
    pwm = machine.PWM(machine.Pin(b["motor"]), freq=b["motor_pwm_freq"], duty_u16=0)
    adc = machine.ADC(machine.Pin(b["bat_adc"]))
    if b["adc_atten_db"] == 11:
        adc.atten(machine.ADC.ATTN_11DB)
    return button, i2c, pwm, adc


def build(b, button, i2c, pwm, adc, radio, wdt, out, reader, root="/sessions", imu_int=None):
    # every part of the pod from its hardware; -> (app, link reader coroutines).
    # Hardware comes in here too, so a test runs this on the unix port.
    from stridepod import VERSION, rt
    from stridepod.app import App
    from stridepod.battery import Battery
    from stridepod.ble import BleLink
    from stridepod.fallback import Fallback
    from stridepod.gait import GaitEngine
    from stridepod.haptics import Haptics
    from stridepod.lsm6dso32 import ACC_RANGE_G, GYRO_RANGE_DPS, LSM6DSO32, ImuError
    from stridepod.serial_link import SerialLink
    from stridepod.service import Pod
    from stridepod.store import Store

    store = Store(root).open()
    haptics = Haptics(pwm, rt.ticks_ms)
    try:
        imu = LSM6DSO32(i2c, b["imu_addr"])
    except ImuError as e:
        imu = None
        err = str(e)
    pod = Pod(
        rt.ticks_ms,
        store,
        haptics,
        battery=Battery(adc, b["bat_divider"], b["adc_full_scale_mv"]),
        imu=imu,
    )
    pod.fallback = Fallback(pod)
    # the app makes the gait engine's buffers: before the BLE link churns the heap
    app = App(
        pod,
        imu,
        lambda hz: GaitEngine(hz, ACC_RANGE_G, GYRO_RANGE_DPS),
        rt.ticks_ms,
        wdt,
        button,
    )
    bonds = root[: root.rfind("/")] + "/" + _BONDS  # next to the sessions folder
    ble = BleLink(radio, pod, b["title"], "%d.%d.%d" % VERSION, bonds, b["ble_stack"])
    serial = SerialLink(pod, out)
    pod.links.append(ble)
    pod.links.append(serial)
    if imu is None:
        serial.log(err)  # status reports imu_state 1; links keep working
    app.ble = ble
    app.bonds_path = bonds
    if imu_int is not None:
        app.use_fifo_interrupt(imu_int, imu_int.IRQ_RISING)

    def stop():
        raise KeyboardInterrupt

    serial.on_break = stop
    return app, (ble.run(), serial.run(reader))


async def run(app, readers):
    import asyncio

    app.start(readers)
    while True:
        await asyncio.sleep(3600)


def main():
    b = boards.get(board_name())
    button, i2c, pwm, adc = make_pins(b)
    if button.value() == 0:
        print("StrideCue: button held at boot, safe mode (REPL)")
        return
    import asyncio

    import bluetooth

    reader = asyncio.StreamReader(sys.stdin.buffer)
    wdt = machine.WDT(timeout=8000)
    imu_int = machine.Pin(b["imu_int"], machine.Pin.IN)
    out = sys.stdout.buffer.write
    app, readers = build(
        b, button, i2c, pwm, adc, bluetooth.BLE(), wdt, out, reader, imu_int=imu_int
    )

    micropython.kbd_intr(-1)  # frames may hold 0x03; serial_link watches for the escape
    try:
        asyncio.run(run(app, readers))
    finally:
        micropython.kbd_intr(3)
        pwm.duty_u16(0)
        keep_fed(b, app.wdt)


def keep_fed(b, wdt):
    # back at the REPL (mpremote, bench work): a started WDT cannot be stopped
    # on these ports, so a timer feeds it; a reset brings the app back
    if wdt is not None:
        tid = -1 if b["name"] == "pico2w" else 0
        machine.Timer(tid, mode=machine.Timer.PERIODIC, period=2000, callback=lambda t: wdt.feed())


if __name__ == "__main__":  # MicroPython runs main.py as __main__ at boot
    main()
