# A register-level model of the ST LSM6DSO32 on a fake I2C bus (DS13303).
# It implements the registers the driver touches: WHO_AM_I, CTRL1_XL, CTRL2_G,
# CTRL3_C (IF_INC auto-increment, SW_RESET), FIFO_CTRL1-4, INT1_CTRL,
# FIFO_STATUS1/2 (DIFF_FIFO, OVR flags, latched flag cleared on read) and the
# FIFO output 0x78-0x7E (7-byte tagged words; a burst read past 0x7E wraps to
# 0x78 and pops the next word, as the chip does). Samples enter the FIFO only
# when the sensors and batching are on, scaled by the configured full scale
# and clipped at the int16 limits like the real ADC.
# The wake-up function (DS13303 / AN5192 "wake-up"): with INTERRUPTS_ENABLE
# (TAP_CFG2) and the accelerometer on, the slope filter |a(t) - a(t-1)| / 2 of
# any axis over WK_THS (WAKE_UP_THS, 1 LSB = full scale / 64, or / 256 with
# WAKE_THS_W in WAKE_UP_DUR) for more than WAKE_DUR samples sets WU_IA and the
# axis bits in WAKE_UP_SRC; latched with LIR (TAP_CFG0) until WAKE_UP_SRC is
# read, else they follow the newest sample. It works in any FIFO mode.
import struct

WHO_AM_I = 0x6C
FIFO_WORDS = 438
_ODR_HZ = {0: 0, 1: 12, 2: 26, 3: 52, 4: 104, 5: 208, 6: 416, 7: 833, 8: 1666}
# sensitivity per FS code: accel ug/LSB (+-4, 32, 8, 16 g), gyro mdps/LSB x100
_ACC_UG = {0: 122, 1: 976, 2: 244, 3: 488}
_GYR_MDPS100 = {0: 875, 1: 1750, 2: 3500, 3: 7000}
_ACC_FS_MG = {0: 4000, 1: 32000, 2: 8000, 3: 16000}
_GYR_FS_DPS = {0: 250, 1: 500, 2: 1000, 3: 2000}
_WRITABLE = (0x07, 0x08, 0x09, 0x0A, 0x0D, 0x0E, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15)
_WRITABLE += (0x56, 0x58, 0x5B, 0x5C, 0x5E)  # TAP_CFG0, TAP_CFG2, WAKE_UP_THS/DUR, MD1_CFG
_WAKE_UP_SRC = 0x1B


class I2C:
    # machine.I2C-like bus: devices answer at their address, others NACK
    def __init__(self, devices=()):
        self.devices = {d.addr: d for d in devices}
        self.reads = 0
        self.bytes_read = 0

    def _dev(self, addr):
        d = self.devices.get(addr)
        if d is None:
            raise OSError(19, "ENODEV")  # what MicroPython raises on a NACK
        return d

    def scan(self):
        return sorted(self.devices)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        d = self._dev(addr)
        self.reads += 1
        self.bytes_read += len(buf)
        d.read(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, n, addrsize=8):
        b = bytearray(n)
        self.readfrom_mem_into(addr, memaddr, b)
        return bytes(b)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).write(memaddr, buf)


class LSM6DSO32:
    # freq_fine: this part's INTERNAL_FREQ_FINE (0x63), the trim of its sampling
    # clock: it samples at 6667 Hz x (1 + 0.0015 x freq_fine) / 2**(10 - ODR code)
    # (its "416 Hz" is 416.7 Hz with a trim of 0), as a real part does
    def __init__(self, addr=0x6A, who=WHO_AM_I, freq_fine=0):
        self.addr = addr
        self.who = who
        self.freq_fine = freq_fine
        self.fifo = []  # words of 7 bytes
        self.reset()

    def reset(self):
        self.regs = bytearray(128)
        self.regs[0x0F] = self.who
        self.regs[0x12] = 0x04  # CTRL3_C: IF_INC set at power-up
        self.regs[0x63] = self.freq_fine & 0xFF  # INTERNAL_FREQ_FINE (read-only)
        self.fifo = []
        self.ovr = False
        self.ovr_latched = False
        self.slot = 0
        self.prev_acc = None  # the slope filter's previous sample (mg)
        self.over = 0  # samples in a row over the wake-up threshold
        self.wakes = 0  # wake-up events, for tests

    # ---- configuration as the chip sees it ----
    def acc_hz(self):
        return _ODR_HZ.get(self.regs[0x10] >> 4, 0)

    def acc_mhz(self):
        # how fast the accelerometer really samples (the clock's trim), mHz
        code = self.regs[0x10] >> 4
        if not 1 <= code <= 8:
            return 0
        return (6667 * (10000 + 15 * self.freq_fine) // 10) >> (10 - code)

    def gyro_hz(self):
        return _ODR_HZ.get(self.regs[0x11] >> 4, 0)

    def acc_fs_mg(self):
        return _ACC_FS_MG[(self.regs[0x10] >> 2) & 3]

    def gyro_fs_dps(self):
        return _GYR_FS_DPS[(self.regs[0x11] >> 2) & 3]

    def fifo_mode(self):
        return self.regs[0x0A] & 7

    # ---- the outside world: motion arrives ----
    def produce(self, ax_mg, ay_mg, az_mg, gx_mdps, gy_mdps, gz_mdps):
        # one sample period: the wake-up function sees the accelerometer; in
        # continuous mode the FIFO takes a gyro and an accel word
        # TAG_CNT (tag bits 2:1) counts the time slots, as on the chip
        self._wake_up((ax_mg, ay_mg, az_mg))
        if self.fifo_mode() != 6:
            return
        self.slot = (self.slot + 1) & 3
        if self.regs[0x09] >> 4 and self.gyro_hz():
            lsb = _GYR_MDPS100[(self.regs[0x11] >> 2) & 3]
            self._push(0x01, [self._counts(v * 100, lsb) for v in (gx_mdps, gy_mdps, gz_mdps)])
        if self.regs[0x09] & 0x0F and self.acc_hz():
            lsb = _ACC_UG[(self.regs[0x10] >> 2) & 3]
            self._push(0x02, [self._counts(v * 1000, lsb) for v in (ax_mg, ay_mg, az_mg)])

    def _wake_up(self, acc):
        if not (self.regs[0x58] & 0x80 and self.acc_hz()):
            self.prev_acc = None
            return
        prev, self.prev_acc = self.prev_acc, acc
        if prev is None:
            return
        step = self.acc_fs_mg() / (256 if self.regs[0x5C] & 0x10 else 64)
        ths = (self.regs[0x5B] & 0x3F) * step
        bits = 0
        for i, axis in enumerate((0x04, 0x02, 0x01)):  # X_WU, Y_WU, Z_WU
            if abs(acc[i] - prev[i]) / 2 > ths:
                bits |= axis
        self.over = self.over + 1 if bits else 0
        if not self.regs[0x56] & 0x01:  # not latched: the newest sample's state
            self.regs[_WAKE_UP_SRC] = 0
        if bits and self.over > (self.regs[0x5C] >> 5) & 3:
            self.regs[_WAKE_UP_SRC] |= 0x08 | bits
            self.wakes += 1

    def _counts(self, v, lsb):
        c = int(v / lsb + (0.5 if v >= 0 else -0.5))
        return max(-32768, min(32767, c))

    def _push(self, tag, xyz):
        if len(self.fifo) >= FIFO_WORDS:
            self.fifo.pop(0)  # continuous mode: the oldest word is overwritten
            self.ovr = True
            self.ovr_latched = True
        self.fifo.append(bytes([(tag << 3) | (self.slot << 1)]) + struct.pack("<hhh", *xyz))

    # ---- bus side ----
    def _status(self, reg):
        n = len(self.fifo)
        if reg == 0x3A:
            return n & 0xFF
        v = (n >> 8) & 3
        if self.ovr:
            v |= 0x40
        if self.ovr_latched:
            v |= 0x08
            self.ovr_latched = False  # cleared by reading FIFO_STATUS2
        return v

    def read(self, reg, buf):
        inc = self.regs[0x12] & 0x04
        word = None
        for i in range(len(buf)):
            if 0x78 <= reg <= 0x7E:
                if reg == 0x78:
                    word = self.fifo.pop(0) if self.fifo else bytes(7)
                    if not self.fifo:
                        self.ovr = False
                buf[i] = word[reg - 0x78] if word else 0
                reg = 0x78 if reg == 0x7E else reg + 1
                continue
            if reg in (0x3A, 0x3B):
                buf[i] = self._status(reg)
            else:
                buf[i] = self.regs[reg]
                if reg == _WAKE_UP_SRC and self.regs[0x56] & 0x01:
                    self.regs[reg] = 0  # a latched wake-up clears when read
            if inc:
                reg += 1

    def write(self, reg, buf):
        for b in buf:
            if reg == 0x12 and b & 0x01:
                self.reset()  # SW_RESET: registers to defaults, done at once
            elif reg in _WRITABLE:
                self.regs[reg] = b
                if reg == 0x0A and b & 7 == 0:
                    self.fifo = []  # bypass mode empties the FIFO
                    self.ovr = False
            if self.regs[0x12] & 0x04:
                reg += 1
