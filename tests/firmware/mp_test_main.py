# main.py's build() wiring on the unix port: the real board table, fakes for
# the pins/bus/radio/watchdog, a session over the serial link, an IMU that is
# missing. (main() itself needs a board's `machine`; it is type-checked against
# the ESP32-S3 stubs in tests/test_firmware_types.py.)
import struct
import sys

INTERPRETERS = ("micropython",)  # main.py imports the unix port's built-in `machine`

sys.path.insert(0, "tests/firmware/fakes")
sys.path.insert(0, "firmware")

import bluetooth  # noqa: E402  (the fake: tests/firmware/fakes)
import main  # noqa: E402
from fakes.hw import ADC, PWM, WDT, Pin  # noqa: E402
from fakes.lsm6dso32_model import I2C, LSM6DSO32  # noqa: E402
from fakes.ramfs import Flash  # noqa: E402
from stridepod import ble, boards, framing, proto  # noqa: E402


class Out:
    def __init__(self):
        self.records = []
        self.d = framing.Deframer(lambda b, n: self.records.append(bytes(b[:n])))

    def __call__(self, mv):
        self.d.feed(bytes(mv))


def _frame(rec):
    buf = bytearray(len(rec) + 5)
    return bytes(buf[: framing.encode(rec, len(rec), buf)])


def _build(board, chip):
    fl = Flash()
    b = boards.get(board)
    adc = ADC(Pin(b["bat_adc"]), b["adc_full_scale_mv"])
    adc.mv = 1900  # 3.8 V cell on a 1:2 divider
    out = Out()
    pwm = PWM(Pin(b["motor"]), freq=b["motor_pwm_freq"])
    # the Pico 2 W's BTstack keeps its ATT database in 512 bytes
    radio = bluetooth.BLE(att_db_max=512 if b["ble_stack"] == "btstack" else None)
    int1 = Pin(b["imu_int"], Pin.IN)
    app, readers = main.build(
        b,
        Pin(b["button"], Pin.IN, Pin.PULL_UP),
        I2C([chip] if chip else []),
        pwm,
        adc,
        radio,
        WDT(timeout=8000),
        out,
        None,
        fl.root,
        int1,
    )
    assert int1.handler is not None  # FIFO watermark wakes the sampling task
    return app, readers, out, radio, fl


def test_build_wires_a_working_pod():
    for board in boards.names():
        chip = LSM6DSO32()
        app, readers, out, radio, fl = _build(board, chip)
        link = app.pod.links[1]
        link.feed(_frame(bytes([4, 1, 1, 1]) + struct.pack("<I", 1)))
        assert out.records[-1][:5] == bytes([5, 1, 1, 1, 0])
        assert chip.acc_hz() == 416 and chip.gyro_fs_dps() == 2000
        link.feed(_frame(bytes([4, 1, 0x0B, 2])))
        st = out.records[-1]
        assert st[0] == proto.KIND_STATUS and st[2] == 55 and st[3] == 0  # 3.8 V -> 55 %
        assert radio.advertising and radio.config("gap_name").startswith("StrideCue-")
        assert radio.handle_of(bluetooth.UUID(0x2A26)) and len(readers) == 2
        assert radio.handle_of(bluetooth.UUID(ble.BASE % "0005"))  # the table fits
        for r in readers:
            r.close()  # coroutines never started
        fl.close()


def test_missing_imu_still_answers_with_status():
    app, readers, out, _radio, fl = _build("esp32s3", None)
    assert out.records[0][0] == proto.KIND_LOG and b"no answer" in out.records[0]
    link = app.pod.links[1]
    link.feed(_frame(bytes([4, 1, 1, 1]) + struct.pack("<I", 1)))
    link.feed(_frame(bytes([4, 1, 0x0B, 2])))
    assert out.records[-1][3] == 1  # imu_state: missing
    assert app.poll() == 0
    for r in readers:
        r.close()
    fl.close()
