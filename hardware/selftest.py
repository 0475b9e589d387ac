# StrideCue pod self-test, run on the pod after `stridecue device install`:
#
#     mpremote connect PORT run hardware/selftest.py
#
# Checks, with the pins of stridepod/boards.py (the board is picked from the
# MicroPython port): the IMU answers with WHO_AM_I 0x6C and reads about 1 g and
# almost no rotation at rest; the motor pulses; the battery divider gives a
# LiPo voltage; the button reads released; the LED blinks. Every check takes
# its hardware as arguments, so tests/firmware/mp_test_selftest.py runs it on
# the unix port and CPython against fakes. MicroPython-compatible on purpose.
import sys

from stridepod import boards

IMU_WHO_AM_I = 0x0F
IMU_WHO_AM_I_VALUE = 0x6C
IMU_CTRL1_XL = 0x10  # ODR_XL [7:4] | FS_XL [3:2]
IMU_CTRL2_G = 0x11  # ODR_G [7:4] | FS_G [3:2]
IMU_CTRL3_C = 0x12  # BDU | IF_INC
IMU_OUTX_L_G = 0x22  # gyro x,y,z then accel x,y,z, int16 little-endian
IMU_104HZ_32G = 0x44  # 104 Hz, FS_XL=01: +-32 g on the LSM6DSO32
IMU_104HZ_2000DPS = 0x4C  # 104 Hz, FS_G=11: +-2000 dps
IMU_BDU_IF_INC = 0x44
ACC_UG_PER_LSB = 976  # +-32 g
GYRO_MDPS_PER_LSB = 70  # +-2000 dps
REST_MG = (850, 1150)  # |a| at rest: 1 g plus offsets and tilt of the bench
REST_DPS = 10  # per axis, at rest
LIPO_MV = (3000, 4300)
PLATFORM_BOARD = {"esp32": "esp32s3", "rp2": "pico2w"}


def board_for_platform(platform):
    name = PLATFORM_BOARD.get(platform)
    if name is None:
        raise boards.BoardError(
            f"no StrideCue board for MicroPython port {platform!r}: run this on the pod"
        )
    return boards.get(name)


def _int16(buf, i):
    v = buf[i] | (buf[i + 1] << 8)
    return v - 65536 if v & 0x8000 else v


def _isqrt(n):
    x = n
    y = (x + 1) // 2
    while y < x:
        x = y
        y = (x + n // x) // 2
    return x


def check_imu(i2c, addr, sleep_ms):
    # Returns (ok, message). Leaves the IMU powered down.
    found = i2c.scan()
    if addr not in found:
        seen = ", ".join(f"0x{a:02x}" for a in found) or "nothing"
        return False, f"IMU: no answer at 0x{addr:02x} (bus has {seen}): check SDA/SCL/3V3/GND"
    who = i2c.readfrom_mem(addr, IMU_WHO_AM_I, 1)[0]
    if who != IMU_WHO_AM_I_VALUE:
        return False, f"IMU: WHO_AM_I is 0x{who:02x}, an LSM6DSO32 says 0x6c: wrong chip"
    i2c.writeto_mem(addr, IMU_CTRL3_C, bytes((IMU_BDU_IF_INC,)))
    i2c.writeto_mem(addr, IMU_CTRL1_XL, bytes((IMU_104HZ_32G,)))
    i2c.writeto_mem(addr, IMU_CTRL2_G, bytes((IMU_104HZ_2000DPS,)))
    sleep_ms(100)  # first samples after power-up settle within a few ODR periods
    raw = i2c.readfrom_mem(addr, IMU_OUTX_L_G, 12)
    i2c.writeto_mem(addr, IMU_CTRL1_XL, bytes(1))
    i2c.writeto_mem(addr, IMU_CTRL2_G, bytes(1))
    g = [_int16(raw, i) * GYRO_MDPS_PER_LSB // 1000 for i in (0, 2, 4)]
    a = [_int16(raw, i) for i in (6, 8, 10)]
    mg = _isqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * ACC_UG_PER_LSB // 1000
    msg = f"IMU: |a| = {mg} mg, gyro = {g[0]} {g[1]} {g[2]} dps"
    if not REST_MG[0] <= mg <= REST_MG[1]:
        return False, msg + ": expected about 1000 mg at rest"
    if max(abs(v) for v in g) > REST_DPS:
        return False, msg + f": expected under {REST_DPS} dps at rest; keep the pod still"
    return True, msg + ": ok"


def battery_mv(board, adc):
    if hasattr(adc, "read_uv"):  # ESP32: calibrated by the chip's eFuse values
        pin_mv = adc.read_uv() // 1000
    else:
        pin_mv = adc.read_u16() * board["adc_full_scale_mv"] // 65535
    return pin_mv * board["bat_divider"]


def check_battery(mv):
    msg = f"battery: {mv} mV"
    if mv < 500:
        return False, msg + ": no voltage: switch on, check R3/R4 and the ADC pin"
    if mv > LIPO_MV[1]:
        return False, msg + ": above a full LiPo: check the divider values (470k/470k)"
    if mv < LIPO_MV[0]:
        return False, msg + ": below 3.0 V: charge the battery"
    return True, msg + ": ok"


def pulse_motor(pwm, sleep_ms, ms=300, duty=45000):
    pwm.duty_u16(duty)
    sleep_ms(ms)
    pwm.duty_u16(0)
    return True, f"motor: pulsed {ms} ms at {duty * 100 // 65535} % duty: you should have felt it"


def check_button(pin):
    # The button pulls the line low; released reads 1 through R7.
    if pin.value() == 1:
        return True, "button: released: ok (hold it during the test to see it pressed)"
    return False, "button: reads pressed: release it, or check R7 and a short to GND"


def blink(led, active_low, sleep_ms, times=3):
    on, off = (0, 1) if active_low else (1, 0)
    for _ in range(times):
        led.value(on)
        sleep_ms(150)
        led.value(off)
        sleep_ms(150)
    return True, f"led: blinked {times} times"


def run(board, hw, sleep_ms, out=print):
    # hw: dict with i2c, pwm, adc, button, led. Returns the number of failures.
    results = [
        check_imu(hw["i2c"], board["imu_addr"], sleep_ms),
        pulse_motor(hw["pwm"], sleep_ms),
        check_battery(battery_mv(board, hw["adc"])),
        check_button(hw["button"]),
        blink(hw["led"], board["led_active_low"], sleep_ms),
    ]
    for ok, msg in results:
        out(("PASS " if ok else "FAIL ") + msg)
    failed = sum(1 for ok, _ in results if not ok)
    verdict = f"{failed} failed" if failed else "all passed"
    out(f"selftest on {board['title']}: {verdict}")
    return failed


def _hardware(board):
    from machine import ADC, I2C, PWM, Pin

    i2c = I2C(board["i2c_id"], sda=Pin(board["sda"]), scl=Pin(board["scl"]), freq=board["i2c_freq"])
    pwm = PWM(Pin(board["motor"]), freq=board["motor_pwm_freq"], duty_u16=0)
    if board["adc_atten_db"] == 11:
        adc = ADC(Pin(board["bat_adc"]), atten=ADC.ATTN_11DB)
    else:
        adc = ADC(Pin(board["bat_adc"]))
    button = Pin(board["button"], Pin.IN, Pin.PULL_UP)  # as main.py; R7 too
    led = Pin(board["led"], Pin.OUT)
    return {"i2c": i2c, "pwm": pwm, "adc": adc, "button": button, "led": led}


def main():
    import time

    board = board_for_platform(sys.platform)
    hw = _hardware(board)
    try:
        return run(board, hw, time.sleep_ms)
    finally:
        hw["pwm"].duty_u16(0)


if __name__ == "__main__":
    main()
