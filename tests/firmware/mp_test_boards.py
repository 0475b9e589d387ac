# The board tables (firmware/stridepod/boards.py) on MicroPython and CPython:
# complete, no pin used twice, pins the chips can actually use for the job,
# and a clear error for a board that does not exist.
from stridepod import boards

# Pins brought out on the XIAO ESP32S3 edge (D0-D10) plus its user LED.
XIAO_GPIOS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 43, 44, 21)
ESP32S3_STRAPPING = (0, 3, 45, 46)
# RP2040/RP2350 I2C0 pin options (datasheet GPIO function table).
RP_I2C0_SDA = (0, 4, 8, 12, 16, 20)
RP_I2C0_SCL = (1, 5, 9, 13, 17, 21)
# Pico 2 W: GP23-25 and GP29 drive the CYW43439 radio.
PICO_W_RADIO = (23, 24, 25, 29)
LIPO_MAX_MV = 4200


def _all():
    out = [boards.get(n) for n in boards.names()]
    assert len(out) >= 2, out
    return out


def test_reference_boards_exist():
    assert boards.names() == ["esp32s3", "pico2w"], boards.names()
    assert boards.get("esp32s3") is boards.ESP32S3
    assert boards.get("pico2w") is boards.PICO2W


def test_every_board_has_exactly_the_required_keys():
    for b in _all():
        missing = [k for k in boards.REQUIRED_KEYS if k not in b]
        extra = [k for k in b if k not in boards.REQUIRED_KEYS]
        assert not missing, (b.get("name"), "missing", missing)
        assert not extra, (b.get("name"), "undocumented", extra)
        assert boards.get(b["name"]) is b


def test_pins_are_distinct_per_board():
    for b in _all():
        used = [p for _, p in boards.pins(b)]
        assert len(used) == len(boards.PIN_KEYS)
        for i, p in enumerate(used):
            assert p not in used[i + 1 :], (b["name"], "pin used twice", p)


def test_values_are_in_range():
    for b in _all():
        assert b["i2c_freq"] in (100000, 400000), b["i2c_freq"]
        assert b["imu_addr"] in (0x6A, 0x6B), b["imu_addr"]
        # inaudible, and slow enough for >= 11 bits of duty on both ports
        assert 20000 <= b["motor_pwm_freq"] <= 40000, b["motor_pwm_freq"]
        # a full LiPo must stay inside the ADC range after the divider
        assert LIPO_MAX_MV // b["bat_divider"] < b["adc_full_scale_mv"], b["name"]
        assert b["adc_atten_db"] in (0, 2, 6, 11), b["adc_atten_db"]
        assert b["led_active_low"] in (True, False)
        for key, pin in boards.pins(b):
            if key != "led":
                assert isinstance(pin, int) and pin >= 0, (key, pin)


def test_esp32s3_pins_fit_the_xiao():
    b = boards.ESP32S3
    for key, pin in boards.pins(b):
        assert pin in XIAO_GPIOS, (key, pin, "not brought out on the XIAO")
    assert 1 <= b["bat_adc"] <= 10, "battery must be on ADC1 (GPIO1-10)"
    assert b["motor"] not in ESP32S3_STRAPPING
    for key in ("button", "imu_int"):
        assert b[key] <= 21, (key, "must be an RTC GPIO to wake from deep sleep")


def test_pico2w_pins_fit_the_rp2350():
    b = boards.PICO2W
    assert b["sda"] in RP_I2C0_SDA and b["scl"] in RP_I2C0_SCL and b["i2c_id"] == 0
    assert 26 <= b["bat_adc"] <= 28, "battery must be on ADC0-2 (GP26-28)"
    assert b["led"] == "LED"
    for key, pin in boards.pins(b):
        assert pin not in PICO_W_RADIO, (key, pin, "belongs to the radio")


def test_unknown_board_is_a_clear_error():
    for bad in ("esp32", "", "PICO2W", None):
        try:
            boards.get(bad)
        except boards.BoardError as e:
            msg = str(e)
            assert "esp32s3" in msg and "pico2w" in msg, msg
            assert "unknown board" in msg, msg
        else:
            raise AssertionError("no error for board %r" % (bad,))
    assert issubclass(boards.BoardError, ValueError)
