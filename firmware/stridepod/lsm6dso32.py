# ST LSM6DSO32 6-axis IMU over I2C: +-32 g accelerometer, +-2000 dps gyro,
# both batched into the chip's FIFO (3 KB, 7-byte tagged words) at the sample
# rate, read in bursts into preallocated buffers. Register map and codes:
# ST DS13303 (LSM6DSO32 datasheet), sections 9-10.
#
#   imu = LSM6DSO32(i2c, 0x6A)   # raises ImuError if WHO_AM_I is not 0x6C
#   imu.start(416)               # ranges, ODR and FIFO in continuous mode
#   n = imu.read()               # samples now in imu.samples[6*i : 6*i+6]
#   imu.watch()                  # idle: accelerometer alone, low power, wake-up latched
#   imu.moved()                  # -> True once the foot moved since the last call
#
# Samples are raw int16 counts (ax, ay, az, gx, gy, gz): ACC_UG_PER_LSB and
# GYRO_MDPS_PER_LSB give the units. A FIFO overrun is detected (FIFO_OVR flag),
# counted, and the samples lost are estimated from the time since the last
# read; an accelerometer or gyro word without its partner of the same time
# slot (TAG_CNT) is counted as a gap.
#
# The chip's clock is not its nominal rate: "416 Hz" is 6667 / 16 Hz, and each
# part is off that by INTERNAL_FREQ_FINE x 0.15 % (a signed byte, trimmed at the
# factory; several per cent on some parts). effective_mhz(rate) says how fast it
# really samples; the app times samples and builds its gait engine on it (a 3 %
# faster clock read as nominal made every stride 6 % long and 3 % slow).
from array import array

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


WHO_AM_I_VALUE = const(0x6C)
ACC_RANGE_G = const(32)  # full scale set by start(): the gait engine's clipping limits
GYRO_RANGE_DPS = const(2000)
ACC_UG_PER_LSB = const(976)  # +-32 g: 0.976 mg per count
GYRO_MDPS_PER_LSB = const(70)  # +-2000 dps: 70 mdps per count
FIFO_WORDS = const(438)  # 3 KB / 7 bytes

_FIFO_CTRL1 = const(0x07)  # watermark [7:0]
_FIFO_CTRL3 = const(0x09)  # BDR_GY [7:4] | BDR_XL [3:0]
_FIFO_CTRL4 = const(0x0A)  # FIFO_MODE [2:0]
_INT1_CTRL = const(0x0D)
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)  # ODR_XL [7:4] | FS_XL [3:2]
_CTRL2_G = const(0x11)  # ODR_G [7:4] | FS_G [3:2]
_CTRL3_C = const(0x12)  # BDU 0x40, IF_INC 0x04, SW_RESET 0x01
_CTRL6_C = const(0x15)  # XL_HM_MODE 0x10: accelerometer high-performance mode off
_WAKE_UP_SRC = const(0x1B)  # WU_IA 0x08 (latched with LIR: cleared by reading it)
_TAP_CFG0 = const(0x56)  # LIR 0x01: latch the basic interrupts
_TAP_CFG2 = const(0x58)  # INTERRUPTS_ENABLE 0x80: the basic interrupts (wake-up) on
_WAKE_UP_THS = const(0x5B)  # WK_THS [5:0]
_WAKE_UP_DUR = const(0x5C)  # WAKE_THS_W 0x10: 1 LSB of WK_THS = full scale / 256
_FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO [7:0]
_FIFO_DATA_OUT_TAG = const(0x78)

_FS_XL_32G = const(0x04)  # FS_XL = 01 on the -32 part
_FS_G_2000 = const(0x0C)  # FS_G = 11
_BDU_IF_INC = const(0x44)
_SW_RESET = const(0x01)
_MODE_BYPASS = const(0)
_MODE_CONTINUOUS = const(6)
_INT1_FIFO_TH = const(0x08)
_OVR_LATCHED = const(0x08)  # FIFO_STATUS2: an overrun since the last read
_TAG_GYRO = const(0x01)
_TAG_ACC = const(0x02)
# The idle motion check: the accelerometer alone at 26 Hz in low-power mode
# (XL_HM_MODE, ODR <= 52 Hz), gyro and FIFO off; the chip's wake-up function
# (slope filter, |a(t) - a(t-1)| / 2 on any axis) latches WU_IA over 4 x 125 mg
# = 0.5 g at +-32 g, which a foot swinging in a walk or run passes at every
# stride and a pod lying on a table or a shoe at rest does not.
WATCH_HZ = const(26)
_ODR_WATCH = const(2)  # 26 Hz
_XL_HM_OFF = const(0x10)
_LIR = const(0x01)
_INTERRUPTS_ON = const(0x80)
_WAKE_THS_FINE = const(0x10)
_WAKE_THS = const(4)
_WU_IA = const(0x08)

# ODR / BDR codes for the rates the protocol allows (SAMPLE_RATE_HZ)
_RATE_CODES = {208: 5, 416: 6, 833: 7}
_FREQ_FINE = const(0x63)  # INTERNAL_FREQ_FINE: the clock's trim, 0.15 %/LSB, signed
_BASE_HZ = const(6667)  # the ODR clock all rates divide

# imu_state values of the status record
OK = const(0)
MISSING = const(1)
BUS_ERROR = const(2)
OVERRUN = const(3)


class ImuError(Exception):
    pass


class LSM6DSO32:
    def __init__(self, i2c, addr=0x6A, max_samples=64):
        self.i2c = i2c
        self.addr = addr
        self.rate_hz = 0
        self.rate_mhz = 0  # what the chip really samples at (effective_mhz), mHz
        self.samples = array("h", bytes(12 * max_samples))  # 6 int16 per sample
        self.max_samples = max_samples
        self.dropped = 0  # samples lost (overruns, gaps) since start
        self.left = 0  # whole samples still in the FIFO after the last read
        self.overruns = 0
        self.gaps = 0
        self.state = OK
        self._words = max(1, max_samples * 2)
        self._raw = bytearray(7 * self._words)
        self._mv = memoryview(self._raw)
        self._one = bytearray(1)
        self._two = bytearray(2)
        self._have = 0  # bit0 accel, bit1 gyro of the sample being paired
        self._last_ms = 0
        self._overrun = False
        self._cnt = 0
        self.check()
        self.freq_fine = self._freq_fine()

    # ---- registers ----
    def _w(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _r(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def _freq_fine(self):
        try:
            f = self._r(_FREQ_FINE)
        except OSError:
            return 0
        return f - 256 if f > 127 else f

    def effective_mhz(self, rate_hz):
        # what the chip set to rate_hz (208, 416, 833) really samples at, mHz
        code = _RATE_CODES.get(rate_hz)
        if code is None:
            return rate_hz * 1000
        # (6667 Hz x (1 + 0.0015 x FREQ_FINE)) / 2**(10 - code); in 0.1 mHz first
        return (_BASE_HZ * (10000 + 15 * self.freq_fine) // 10) >> (10 - code)

    def check(self):
        try:
            who = self._r(_WHO_AM_I)
        except OSError as e:
            self.state = MISSING
            raise ImuError(
                "IMU: no answer at I2C address 0x%02x (%s): check wiring and imu_addr in boards.py"
                % (self.addr, e)
            ) from e
        if who != WHO_AM_I_VALUE:
            self.state = MISSING
            raise ImuError(
                "IMU: WHO_AM_I is 0x%02x, expected 0x%02x (LSM6DSO32): wrong chip or address"
                % (who, WHO_AM_I_VALUE)
            )

    def start(self, rate_hz, now_ms=0):
        code = _RATE_CODES.get(rate_hz)
        if code is None:
            raise ValueError("IMU rate %r Hz: use one of 208, 416, 833" % (rate_hz,))
        self._w(_CTRL3_C, _SW_RESET | _BDU_IF_INC)
        for _ in range(10):
            if not self._r(_CTRL3_C) & _SW_RESET:
                break
        self._w(_CTRL3_C, _BDU_IF_INC)
        self._w(_CTRL1_XL, (code << 4) | _FS_XL_32G)
        self._w(_CTRL2_G, (code << 4) | _FS_G_2000)
        self._w(_FIFO_CTRL1, 32)  # watermark: 32 words = 16 samples
        self._w(_INT1_CTRL, _INT1_FIFO_TH)
        self._w(_FIFO_CTRL3, (code << 4) | code)
        self._w(_FIFO_CTRL4, _MODE_BYPASS)  # clears the FIFO
        self._w(_FIFO_CTRL4, _MODE_CONTINUOUS)
        self.rate_hz = rate_hz
        self.freq_fine = self._freq_fine()  # as running (it can move by a step)
        self.rate_mhz = self.effective_mhz(rate_hz)
        self._have = 0
        self._last_ms = now_ms
        self.state = OK

    def power_down(self):
        # idle between sessions: both sensors off, FIFO off (a few uA)
        self._w(_FIFO_CTRL4, _MODE_BYPASS)
        self._w(_CTRL1_XL, 0)
        self._w(_CTRL2_G, 0)
        self.rate_hz = 0

    def watch(self):
        # idle, watching for motion: gyro and FIFO off, the accelerometer at
        # WATCH_HZ in low-power mode with the wake-up function latched; moved()
        # reads it (start() undoes all of it with its software reset)
        self.power_down()
        self._w(_CTRL6_C, _XL_HM_OFF)
        self._w(_WAKE_UP_DUR, _WAKE_THS_FINE)
        self._w(_WAKE_UP_THS, _WAKE_THS)
        self._w(_TAP_CFG0, _LIR)
        self._w(_TAP_CFG2, _INTERRUPTS_ON)
        self._w(_CTRL1_XL, (_ODR_WATCH << 4) | _FS_XL_32G)
        self.moved()  # drop a stale latch

    def moved(self):
        # -> True when the wake-up function fired since the last call (one
        # 1-byte read; reading clears the latch)
        try:
            return bool(self._r(_WAKE_UP_SRC) & _WU_IA)
        except OSError:
            self.state = BUS_ERROR
            return False

    # ---- FIFO ----
    def pending(self):
        # -> words waiting in the FIFO; notes an overrun
        try:
            self.i2c.readfrom_mem_into(self.addr, _FIFO_STATUS1, self._two)
        except OSError:
            self.state = BUS_ERROR
            return 0
        s2 = self._two[1]
        if s2 & _OVR_LATCHED:
            self._overrun = True
        return self._two[0] | ((s2 & 0x03) << 8)

    def read(self, now_ms=0):
        # burst-read whole words into self.samples; -> samples read (<= max_samples)
        self._overrun = False
        words = self.pending()
        got = 0
        while words > 0 and got < self.max_samples:
            k = min(words, self._words, 2 * (self.max_samples - got))
            try:
                self.i2c.readfrom_mem_into(self.addr, _FIFO_DATA_OUT_TAG, self._mv[: 7 * k])
            except OSError:
                self.state = BUS_ERROR
                break
            got = self._unpack(k, got)
            words -= k
        if self._overrun:
            self._count_overrun(now_ms, got + words // 2)
        self._last_ms = now_ms
        self.left = words // 2 if words > 0 else 0
        return got

    def _count_overrun(self, now_ms, kept):
        # the FIFO overwrote its oldest words: lost = due since last read - kept
        self.overruns += 1
        self.state = OVERRUN
        due = (now_ms - self._last_ms) * self.rate_mhz // 1000000
        self.dropped += due - kept if due > kept else 1

    def _unpack(self, k, got):
        raw = self._raw
        s = self.samples
        for w in range(k):
            i = 7 * w
            tag = raw[i] >> 3
            if tag == _TAG_ACC:
                bit = 1
                o = 6 * got
            elif tag == _TAG_GYRO:
                bit = 2
                o = 6 * got + 3
            else:
                continue  # timestamp/temperature words are not batched; skip
            cnt = raw[i] & 0x06  # TAG_CNT: words of one time slot share it
            if self._have and (self._have & bit or cnt != self._cnt):
                self.gaps += 1  # the other sensor's word of that slot never came
                self.dropped += 1
                self._have = 0
            self._cnt = cnt
            for j in range(3):
                v = raw[i + 1 + 2 * j] | (raw[i + 2 + 2 * j] << 8)
                s[o + j] = v - 65536 if v > 32767 else v
            self._have |= bit
            if self._have == 3:
                self._have = 0
                got += 1
        return got
