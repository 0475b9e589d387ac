# hardware/selftest.py (the bring-up self-test) against register-level fakes of
# the LSM6DSO32 and of machine.PWM/ADC/Pin, on MicroPython and CPython.
import sys

sys.path.append("hardware")

import selftest
from stridepod import boards

ENODEV = 19  # what MicroPython's I2C raises when nobody acknowledges

# FS_XL [3:2] -> micro-g per count (LSM6DSO32), FS_G [3:2] -> milli-dps per count
ACC_UG = {0: 122, 1: 976, 2: 244, 3: 488}
GYRO_MDPS = {0: 8750, 1: 17500, 2: 35000, 3: 70000}  # x1000 to stay integer


class FakeLSM6DSO32:
    # Only the registers the self-test touches; anything else is a bug.
    WRITABLE = (0x10, 0x11, 0x12)

    def __init__(self, addr=0x6A, who=0x6C, accel_mg=(0, 0, 1000), gyro_mdps=(300, -200, 100)):
        self.addr = addr
        self.regs = bytearray(0x80)
        self.regs[0x0F] = who
        self.accel_mg = accel_mg
        self.gyro_mdps = gyro_mdps

    def scan(self):
        return [self.addr]

    def _ack(self, addr):
        if addr != self.addr:
            raise OSError(ENODEV)

    def writeto_mem(self, addr, reg, buf):
        self._ack(addr)
        assert reg in self.WRITABLE, "write to read-only/unknown register 0x%02x" % reg
        assert len(buf) == 1, "one register at a time"
        self.regs[reg] = buf[0]

    def _counts(self, values, per_count, scale):
        out = []
        for v in values:
            c = v * scale // per_count
            out.append(max(-32768, min(32767, c)))
        return out

    def readfrom_mem(self, addr, reg, n):
        self._ack(addr)
        if reg == 0x0F:
            assert n == 1
            return bytes((self.regs[0x0F],))
        assert reg == 0x22 and n == 12, "unexpected read 0x%02x x%d" % (reg, n)
        assert self.regs[0x12] & 0x04, "a burst read needs IF_INC in CTRL3_C"
        g = [0, 0, 0]
        a = [0, 0, 0]
        if self.regs[0x11] >> 4:
            g = self._counts(self.gyro_mdps, GYRO_MDPS[(self.regs[0x11] >> 2) & 3], 1000)
        if self.regs[0x10] >> 4:
            a = self._counts(self.accel_mg, ACC_UG[(self.regs[0x10] >> 2) & 3], 1000)
        out = bytearray()
        for c in g + a:
            c &= 0xFFFF
            out.append(c & 0xFF)
            out.append(c >> 8)
        return bytes(out)


class FakePWM:
    def __init__(self):
        self.duties = []

    def duty_u16(self, d):
        if not 0 <= d <= 65535:
            raise ValueError("duty must be 0-65535")
        self.duties.append(d)


class FakeADC:
    def __init__(self, uv=None, u16=None):
        if uv is not None:
            self.read_uv = lambda: uv
        if u16 is not None:
            self.read_u16 = lambda: u16


class FakePin:
    def __init__(self, level=1):
        self.level = level
        self.writes = []

    def value(self, v=None):
        if v is None:
            return self.level
        self.writes.append(v)
        self.level = v
        return None


def _nosleep(ms):
    assert 0 <= ms <= 1000


def _hw(imu=None, adc=None, button=1):
    return {
        "i2c": imu or FakeLSM6DSO32(),
        "pwm": FakePWM(),
        "adc": adc or FakeADC(uv=1900000),
        "button": FakePin(button),
        "led": FakePin(1),
    }


def _run(board, hw):
    lines = []
    failed = selftest.run(board, hw, _nosleep, lines.append)
    return failed, lines


def test_everything_passes_at_rest_and_leaves_the_pod_quiet():
    board = boards.get("esp32s3")
    hw = _hw()
    failed, lines = _run(board, hw)
    assert failed == 0, lines
    assert lines[-1] == "selftest on XIAO ESP32S3: all passed", lines
    assert "|a| = 1000 mg" in lines[0] or "|a| = 999 mg" in lines[0], lines[0]
    assert "battery: 3800 mV: ok" in lines[2], lines[2]
    assert hw["pwm"].duties == [45000, 0]  # one pulse, then off
    assert hw["led"].writes == [0, 1] * 3  # active low on the XIAO
    assert hw["i2c"].regs[0x10] == 0 and hw["i2c"].regs[0x11] == 0, "IMU left running"


def test_imu_at_another_address_is_reported_with_what_the_bus_has():
    failed, lines = _run(boards.get("esp32s3"), _hw(imu=FakeLSM6DSO32(addr=0x6B)))
    assert failed == 1
    assert "no answer at 0x6a (bus has 0x6b)" in lines[0], lines[0]


def test_wrong_chip_is_named():
    failed, lines = _run(boards.get("esp32s3"), _hw(imu=FakeLSM6DSO32(who=0x6A)))
    assert failed == 1 and "WHO_AM_I is 0x6a" in lines[0], lines[0]


def test_moving_or_wrong_range_fails_the_rest_check():
    moving = FakeLSM6DSO32(gyro_mdps=(50000, 0, 0))
    failed, lines = _run(boards.get("esp32s3"), _hw(imu=moving))
    assert failed == 1 and "keep the pod still" in lines[0], lines[0]
    # 3 g on the bench is not rest (a shaking hand, or a wrong full-scale setting)
    failed, lines = _run(boards.get("esp32s3"), _hw(imu=FakeLSM6DSO32(accel_mg=(0, 0, 3000))))
    assert failed == 1 and "expected about 1000 mg" in lines[0], lines[0]


def test_pico_battery_uses_read_u16_and_the_full_scale():
    board = boards.get("pico2w")
    raw = 1900 * 65535 // 3300
    mv = selftest.battery_mv(board, FakeADC(u16=raw))
    assert 3796 <= mv <= 3800, mv
    hw = _hw(adc=FakeADC(u16=raw))
    failed, lines = _run(board, hw)
    assert failed == 0, lines
    assert hw["led"].writes == [1, 0] * 3  # active high on the Pico 2 W


def test_battery_faults_say_what_to_check():
    ok, msg = selftest.check_battery(0)
    assert not ok and "check R3/R4" in msg
    ok, msg = selftest.check_battery(4600)
    assert not ok and "divider" in msg
    ok, msg = selftest.check_battery(2900)
    assert not ok and "charge" in msg
    assert selftest.check_battery(3700)[0]


def test_pressed_button_fails():
    failed, lines = _run(boards.get("esp32s3"), _hw(button=0))
    assert failed == 1 and "reads pressed" in lines[3], lines[3]


def test_board_comes_from_the_micropython_port():
    assert selftest.board_for_platform("esp32") is boards.ESP32S3
    assert selftest.board_for_platform("rp2") is boards.PICO2W
    try:
        selftest.board_for_platform("linux")
    except boards.BoardError as e:
        assert "run this on the pod" in str(e)
    else:
        raise AssertionError("no error on the unix port")


def test_register_constants_agree_with_the_pod_driver():
    # The self-test talks to the IMU on its own (to debug a pod whose driver
    # fails), so its numbers must match the firmware's driver (the driver's
    # private _CONST register codes vanish on MicroPython; these are public).
    from stridepod import lsm6dso32

    assert selftest.IMU_WHO_AM_I_VALUE == lsm6dso32.WHO_AM_I_VALUE
    assert selftest.ACC_UG_PER_LSB == lsm6dso32.ACC_UG_PER_LSB
    assert selftest.GYRO_MDPS_PER_LSB == lsm6dso32.GYRO_MDPS_PER_LSB
