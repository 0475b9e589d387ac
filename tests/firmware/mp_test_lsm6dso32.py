# lsm6dso32.py against the register-level model: identity check, ranges and
# rates, FIFO burst reads, scaling, overrun and gap counting, no allocation;
# the idle motion check (wake-up function, latched).
import sys

from fakes.lsm6dso32_model import I2C, LSM6DSO32
from stridepod import lsm6dso32 as drv


def _setup(rate=416, max_samples=64):
    chip = LSM6DSO32()
    bus = I2C([chip])
    imu = drv.LSM6DSO32(bus, 0x6A, max_samples=max_samples)
    imu.start(rate)
    return chip, bus, imu


def test_configures_32g_2000dps_and_rate_with_fifo():
    chip, _, _ = _setup(416)
    assert chip.acc_fs_mg() == 32000 and chip.gyro_fs_dps() == 2000
    assert chip.acc_hz() == 416 and chip.gyro_hz() == 416
    assert chip.fifo_mode() == 6 and chip.regs[0x09] == 0x66
    assert chip.regs[0x12] & 0x44 == 0x44  # BDU + IF_INC
    chip2, _, _ = _setup(833)
    assert chip2.acc_hz() == 833


def test_wrong_chip_or_no_chip_fails_clearly():
    try:
        drv.LSM6DSO32(I2C([LSM6DSO32(who=0x6A)]), 0x6A)
    except drv.ImuError as e:
        assert "WHO_AM_I is 0x6a" in str(e) and "0x6c" in str(e)
    else:
        raise AssertionError("wrong WHO_AM_I accepted")
    try:
        drv.LSM6DSO32(I2C([]), 0x6A)
    except drv.ImuError as e:
        assert "no answer" in str(e) and "0x6a" in str(e)
    else:
        raise AssertionError("missing chip accepted")


def test_bad_rate_is_refused():
    _, _, imu = _setup()
    try:
        imu.start(400)
    except ValueError as e:
        assert "208, 416, 833" in str(e)
    else:
        raise AssertionError("400 Hz accepted")


def test_the_real_rate_follows_the_parts_clock_trim():
    # INTERNAL_FREQ_FINE: 0.15 % a step, signed; "416 Hz" is 6667 / 16 Hz untrimmed
    for trim, rate, mhz in ((0, 416, 416687), (20, 416, 429188), (-20, 416, 404186),
                            (0, 208, 208343), (-20, 833, 808373)):  # fmt: skip
        chip = LSM6DSO32(freq_fine=trim)
        imu = drv.LSM6DSO32(I2C([chip]), 0x6A)
        assert imu.freq_fine == trim
        imu.start(rate)
        assert imu.rate_mhz == mhz == chip.acc_mhz(), (trim, rate, imu.rate_mhz)
        assert imu.effective_mhz(rate) == mhz


def test_samples_come_out_scaled_and_in_order():
    chip, bus, imu = _setup()
    for i in range(40):
        chip.produce(700 * i, -2000, 31000, 70 * i, -100000, 1999000)
    n = imu.read(100)
    assert n == 40 and chip.fifo == []
    s = imu.samples
    for i in range(n):
        ax = s[6 * i] * drv.ACC_UG_PER_LSB // 1000  # mg
        assert abs(ax - 700 * i) <= 2, (i, ax)
        assert abs(s[6 * i + 1] * drv.ACC_UG_PER_LSB // 1000 + 2000) <= 2
        assert abs(s[6 * i + 3] * drv.GYRO_MDPS_PER_LSB - 70 * i) <= 70
        assert abs(s[6 * i + 5] * drv.GYRO_MDPS_PER_LSB - 1999000) <= 70
    # status + a few bursts (plus the probe's and start's reads, FREQ_FINE in each)
    assert bus.reads <= 1 + 2 + 2 + 2
    assert imu.dropped == 0 and imu.state == drv.OK


def test_saturation_clips_at_int16():
    chip, _, imu = _setup()
    chip.produce(60000, -60000, 0, 3000000, 0, 0)
    assert imu.read(10) == 1
    assert imu.samples[0] == 32767 and imu.samples[1] == -32768 and imu.samples[3] == 32767


def test_reads_at_most_max_samples_and_keeps_the_rest():
    chip, _, imu = _setup(max_samples=16)
    for i in range(50):
        chip.produce(i, 0, 0, 0, 0, 0)
    assert imu.read(0) == 16
    assert len(chip.fifo) == 2 * (50 - 16)
    total = 16
    while True:
        n = imu.read(0)
        if not n:
            break
        total += n
    assert total == 50 and imu.dropped == 0


def test_overrun_is_detected_and_counted():
    chip, _, imu = _setup()
    for _ in range(300):  # 600 words into a 438-word FIFO
        chip.produce(0, 0, 1000, 0, 0, 0)
    got = 0
    t = 300 * 1000 // 416
    n = imu.read(t)
    got += n
    while n:
        n = imu.read(t)
        got += n
    assert imu.overruns == 1 and imu.state == drv.OVERRUN
    assert got == 219 and imu.dropped >= 300 - 219 - 2


def test_unpaired_word_counts_a_gap():
    chip, _, imu = _setup()
    chip.produce(0, 0, 1000, 0, 0, 0)
    chip.fifo.pop(0)  # lose one gyro word
    chip.produce(0, 0, 1000, 0, 0, 0)
    imu.read(5)
    assert imu.gaps == 1 and imu.dropped == 1


def test_power_down_stops_sampling():
    chip, _, imu = _setup()
    imu.power_down()
    chip.produce(0, 0, 1000, 0, 0, 0)
    assert chip.acc_hz() == 0 and chip.fifo == [] and imu.read(0) == 0


def test_read_allocates_nothing():
    if sys.implementation.name != "micropython":
        return
    import micropython

    chip, _, imu = _setup()
    for _ in range(30):
        chip.produce(100, 200, 1000, 5, 6, 7)
    # the bus model allocates on its side: put 30 real FIFO words in the
    # driver's burst buffer, then time the driver's own unpacking under a heap lock
    for w, word in enumerate(chip.fifo[:30]):
        imu._raw[7 * w : 7 * w + 7] = word
    micropython.heap_lock()
    try:
        n = imu._unpack(30, 0)
    finally:
        micropython.heap_unlock()
    assert n == 15 and imu.samples[2] == 1025 and imu.samples[5] == 0


def test_watch_runs_the_accelerometer_alone_in_low_power():
    chip, bus, imu = _setup()
    imu.watch()
    assert chip.acc_hz() == drv.WATCH_HZ == 26 and chip.acc_fs_mg() == 32000
    assert chip.gyro_hz() == 0 and chip.fifo_mode() == 0 and chip.regs[0x15] & 0x10
    assert chip.regs[0x58] & 0x80 and chip.regs[0x56] & 0x01  # wake-up on, latched
    assert chip.regs[0x5B] & 0x3F == 4 and chip.regs[0x5C] & 0x10  # 4 x 32 g / 256
    reads = bus.reads
    assert not imu.moved() and bus.reads == reads + 1  # one 1-byte read


def test_moved_latches_motion_until_read():
    chip, _, imu = _setup()
    imu.watch()
    for _ in range(20):
        chip.produce(0, 0, 1000, 0, 0, 0)  # at rest, any orientation: no slope
        chip.produce(0, 300, 950, 0, 0, 0)  # 0.3 g sway: under 0.5 g
    assert not imu.moved()
    chip.produce(0, 0, 1000, 0, 0, 0)
    chip.produce(2500, 0, 1000, 0, 0, 0)  # a swing: 1.25 g slope on x
    for _ in range(5):
        chip.produce(2500, 0, 1000, 0, 0, 0)  # still again
    assert imu.moved() and not imu.moved()  # reading clears the latch
    assert chip.fifo == []  # nothing batched while watching


def test_start_after_watch_turns_the_motion_check_off():
    chip, _, imu = _setup()
    imu.watch()
    imu.start(416)
    assert chip.regs[0x58] == 0 and chip.regs[0x15] == 0 and chip.acc_hz() == 416
    chip.produce(0, 0, 1000, 0, 0, 0)
    chip.produce(5000, 0, 1000, 0, 0, 0)
    assert not imu.moved() and imu.read(0) == 2
