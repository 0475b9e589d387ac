# Board tables: the only place in the firmware that knows pin numbers.
#
# hardware/wiring.md shows the same pins to whoever builds the pod, and
# tests/host/test_hardware.py checks that the two agree: change both together.
# A board is a plain dict (a few hundred bytes of RAM, same on MicroPython and
# CPython). Pins are GPIO numbers, except the Pico 2 W LED, which sits on the
# CYW43 radio chip and is reached as machine.Pin("LED").
#
# Keys (every board has all of them; mp_test_boards.py checks):
#   name            short id used by `stridecue device install --board NAME`
#   title           human name; also the BLE Hardware Revision string
#   mp_board        MicroPython firmware build to flash on the board
#   i2c_id          hardware I2C peripheral for the IMU
#   sda, scl        I2C pins
#   i2c_freq        Hz; 400 kHz fast mode (wiring.md: bus load and pull-ups)
#   imu_addr        7-bit I2C address of the LSM6DSO32 (SA0/SDO low -> 0x6A)
#   imu_int         IMU INT1 (FIFO watermark), push-pull, active high
#   motor           PWM pin driving the motor MOSFET gate (through 220 ohm)
#   motor_pwm_freq  Hz; above hearing, >= 11 bits of duty on both ports
#   bat_adc         ADC pin on the battery divider (470k over 470k)
#   bat_divider     battery voltage / ADC pin voltage (integer ratio)
#   adc_atten_db    ADC input attenuation to set (ESP32 only; 0 = none)
#   adc_full_scale_mv  top of the ADC's usable input range at that setting
#   led             status LED pin
#   led_active_low  True when the LED lights with the pin low
#   button          push button to GND, internal pull-up (pairing, wake)
#   ble_stack       MicroPython's BLE host stack on this board: "nimble" or
#                   "btstack" (ble.STACKS: connection slots, GATT table size)

REQUIRED_KEYS = (
    "name",
    "title",
    "mp_board",
    "i2c_id",
    "sda",
    "scl",
    "i2c_freq",
    "imu_addr",
    "imu_int",
    "motor",
    "motor_pwm_freq",
    "bat_adc",
    "bat_divider",
    "adc_atten_db",
    "adc_full_scale_mv",
    "led",
    "led_active_low",
    "button",
    "ble_stack",
)

# The keys whose values are pins; no two may share a pin on one board.
PIN_KEYS = ("sda", "scl", "imu_int", "motor", "bat_adc", "led", "button")

# Seeed Studio XIAO ESP32S3: 21 x 17.5 mm, on-board LiPo charger and battery
# pads, native USB. Dx labels are the silkscreen names.
ESP32S3 = {
    "name": "esp32s3",
    "title": "XIAO ESP32S3",
    "mp_board": "ESP32_GENERIC_S3",
    "i2c_id": 0,
    "sda": 5,  # D4
    "scl": 6,  # D5
    "i2c_freq": 400000,
    "imu_addr": 0x6A,
    "imu_int": 4,  # D3; an RTC GPIO, so it can also wake the chip
    "motor": 7,  # D8; not a strapping pin, held low by the gate pull-down
    "motor_pwm_freq": 20000,
    "bat_adc": 1,  # D0 = ADC1 channel 0 (ADC1 works while the radio is on)
    "bat_divider": 2,
    "adc_atten_db": 11,  # ADC.ATTN_11DB: 0..3100 mV usable
    "adc_full_scale_mv": 3100,
    "led": 21,  # on-board user LED, lit when low
    "led_active_low": True,
    "button": 2,  # D1; an RTC GPIO, so esp32.wake_on_ext0 can use it
    "ble_stack": "nimble",
}

# Raspberry Pi Pico 2 W (RP2350 + CYW43439). GPn labels are the silkscreen
# names. GP23-25 and GP29 belong to the radio, so none of them is used here.
PICO2W = {
    "name": "pico2w",
    "title": "Raspberry Pi Pico 2 W",
    "mp_board": "RPI_PICO2_W",
    "i2c_id": 0,
    "sda": 4,  # GP4, I2C0 SDA (pin 6)
    "scl": 5,  # GP5, I2C0 SCL (pin 7)
    "i2c_freq": 400000,
    "imu_addr": 0x6A,
    "imu_int": 6,  # GP6 (pin 9)
    "motor": 15,  # GP15 (pin 20), PWM slice 7 channel B
    "motor_pwm_freq": 20000,
    "bat_adc": 26,  # GP26 = ADC0 (pin 31)
    "bat_divider": 2,
    "adc_atten_db": 0,  # no attenuator: 0..3300 mV (ADC_VREF)
    "adc_full_scale_mv": 3300,
    "led": "LED",  # on the CYW43 chip, not an RP2350 GPIO
    "led_active_low": False,
    "button": 14,  # GP14 (pin 19)
    "ble_stack": "btstack",  # one connection, 512-byte ATT database, no LE pairing yet
}

BOARDS = {ESP32S3["name"]: ESP32S3, PICO2W["name"]: PICO2W}


class BoardError(ValueError):
    pass


def names():
    return sorted(BOARDS)


def get(name):
    board = BOARDS.get(name)
    if board is None:
        raise BoardError(
            "unknown board %r: use one of %s (firmware/stridepod/boards.py)"
            % (name, ", ".join(names()))
        )
    return board


# (key, pin) for every pin the board uses, in PIN_KEYS order.
def pins(board):
    return [(k, board[k]) for k in PIN_KEYS]
