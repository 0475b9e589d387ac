# The whole pod app as main.py builds it, on a MicroPython unix port built with
# Bluetooth (NimBLE): the radio is the port's real `bluetooth` module, whose HCI
# runs over the pty named in MICROPYBTUART (a bumble virtual controller on the
# other end: tests/host/blerig.py). Fakes only at the hardware edge, as in
# podrig.py: the LSM6DSO32 register model fed a running motion in real time,
# the motor's PWM, the button's pin (plus pins, ADC, watchdog and a RAM flash).
# The USB serial link runs on stdin/stdout (a pty the test drains).
#
# The test talks to this rig over a second pty (STRIDECUE_RIG_CTL), one line
# per message:
#   test -> rig   press MS     hold the button down for MS ms
#                 expire       the pairing window's end is now (the app closes it
#                              on its next button tick, as after 60 s)
#                 state        ask for "state ..." (pairing, session, hosts, bonds)
#   rig -> test   ready NAME   the app runs; NAME is its BLE name
#                 motor DUTY   the motor's PWM duty changed
#                 secret TYPE KEYLEN set|del -> RESULT   a bond-store IRQ and the
#                              app's answer (the first 64 deletes in a row only)
#
# Run by tests/host/test_real_stack.py with MICROPYPATH naming firmware/ and
# tests/firmware/ (not tests/firmware/fakes: its bluetooth.py would shadow the
# port's own module) and the working directory in a temporary folder (bonds.bin).
import asyncio
import os
import sys

import bluetooth
import main
import micropython
from fakes.hw import ADC, PWM, WDT, Pin
from fakes.lsm6dso32_model import I2C, LSM6DSO32
from fakes.motion import Gait, Still, feed_imu
from fakes.ramfs import Flash
from stridepod import boards, rt
from stridepod.bonds import SEC_IRK

_IRQ_SET_SECRET = 30
_MAX_DEL_LINES = 64


class Ctl:
    # the line channel to the test
    def __init__(self, path):
        self.f = open(path, "r+b")  # noqa: SIM115 - open for the whole run

    def say(self, line):
        self.f.write(line.encode() + b"\n")


class Motor(PWM):
    # the motor's PWM: tells the test every change of duty
    def __init__(self, pin, ctl, freq):
        self.ctl = None
        super().__init__(pin, freq=freq)
        self.ctl = ctl

    def duty_u16(self, d=None):
        if d is None or self.ctl is None:
            return super().duty_u16(d)
        changed = d != self._duty
        r = super().duty_u16(d)
        if changed:
            self.ctl.say("motor %d" % d)
        return r


class Radio:
    # the port's BLE object, passed through; only the bond-store IRQs and the
    # app's answers are also told to the test (a hang there is a busy loop)
    def __init__(self, ble, ctl):
        self._ble = ble
        self._ctl = ctl
        self._dels = 0

    def irq(self, handler):
        def spy(event, data):
            r = handler(event, data)
            if event == _IRQ_SET_SECRET:
                self._tell(data, r)
            return r

        self._ble.irq(spy)

    def _tell(self, data, r):
        if data[2] is None:
            self._dels += 1
            if self._dels > _MAX_DEL_LINES:
                return
            op = "del"
        else:
            self._dels = 0
            op = "set"
        self._ctl.say("secret %d %d %s -> %r" % (data[0], len(data[1] or b""), op, r))

    def __getattr__(self, name):
        return getattr(self._ble, name)


async def press(button, ms):
    button.drive(0)
    await asyncio.sleep_ms(ms)
    button.drive(1)


class Foot:
    # the athlete runs in a host's session (the IMU at its session rate); between
    # sessions the foot stands still (so the pod does not start a session of its own)
    # unless the test makes it walk
    def __init__(self, chip):
        self.chip = chip
        self.walking = False
        self.run = Gait()
        self.still = Still()

    def at(self, t_ms):
        moving = self.walking or self.chip.acc_hz() >= 100
        return (self.run if moving else self.still).at(t_ms)


async def serve(ctl, app, button, foot):
    reader = asyncio.StreamReader(ctl.f)
    presses = []
    while True:
        raw = await reader.readline()
        if not raw:
            return  # the test closed its end
        line = raw.decode().split()
        if not line:
            continue
        if line[0] == "press":
            presses = [t for t in presses if not t.done()]
            presses.append(asyncio.create_task(press(button, int(line[1]))))
        elif line[0] == "walk":
            foot.walking = line[1] == "1"
        elif line[0] == "expire":
            app.pairing_until = rt.ticks_ms()
        elif line[0] == "state":
            ble = app.ble
            ctl.say(
                "state pairing=%d session=%d hosts=%d bonds=%d"
                % (ble.pairing, app.pod.running(), ble.hosts(), _records(ble.bonds))
            )


def _records(bonds):
    # the stack's records of bonded peers (two per bond), not the pod's own IRK
    return sum(1 for t, _ in bonds.secrets if t != SEC_IRK)


async def run(app, readers, chip, ctl, button):
    app.start(readers)
    foot = Foot(chip)
    app.tasks.append(asyncio.create_task(serve(ctl, app, button, foot)))
    ctl.say("ready " + app.ble.name)
    await feed_imu(chip, foot)


def go():
    ctl = Ctl(os.getenv("STRIDECUE_RIG_CTL"))
    fl = Flash(size=65536)
    b = boards.get("esp32s3")
    chip = LSM6DSO32()
    adc = ADC(Pin(b["bat_adc"]), b["adc_full_scale_mv"])
    adc.mv = 1900
    button = Pin(b["button"], Pin.IN, Pin.PULL_UP)
    app, readers = main.build(
        b,
        button,
        I2C([chip]),
        Motor(Pin(b["motor"]), ctl, b["motor_pwm_freq"]),
        adc,
        Radio(bluetooth.BLE(), ctl),
        WDT(timeout=8000),
        sys.stdout.buffer.write,
        asyncio.StreamReader(sys.stdin.buffer),
        fl.root,
    )
    micropython.kbd_intr(-1)  # frames may hold 0x03, as on the pod
    try:
        asyncio.run(run(app, readers, chip, ctl, button))
    finally:
        fl.close()


go()
