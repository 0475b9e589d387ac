# Simulation board: the pod's firmware on the MicroPython unix port, with an
# IMU that replays a file and the USB serial link on stdin/stdout (a pty).
#
#   micropython firmware/simboard.py IMU.csv [--speed X] [--motor-log PATH]
#       [--store DIR] [--acc-range-g 32] [--gyro-range-dps 2000] [--max-wall-s S]
#
# IMU.csv is the StrideCue IMU CSV (t,ax,ay,az,gx,gy,gz: s, m/s^2, rad/s), a
# simulated athlete or a real recording, or the same samples already in the
# engine's integers (see FileImu). Samples are converted to the gait
# engine's integer inputs (ms, mg, 0.1 deg/s) and pushed at their own time
# stamps, paced against the wall clock: --speed 1 is real time, 10 is ten times
# faster, 0 as fast as possible. The device clock runs at the same pace, so
# stride times, time sync and haptic patterns are all in device milliseconds.
#
# Everything else is the real pod code: the gait engine (stridepod.gait), the
# transport-independent Pod service, the session store, the haptics patterns
# and the serial link with its COBS + CRC framing. The only fakes sit at the
# hardware edge: the IMU (a file) and the motor's PWM pin (SimMotor), which logs
# every duty change as "device_ms duty_u16" to --motor-log and as a log frame
# ("motor <duty>") on the link, so a test can assert what the motor did.
#
# When the file ends the board sends the log frame "imu end <samples>" and keeps
# serving cues and control requests until stdin closes or --max-wall-s passes
# (a safety net: an orphaned board never runs forever).
import sys

try:
    import select
except ImportError:  # pragma: no cover
    import uselect as select

from stridepod.gait import GaitEngine
from stridepod.haptics import Haptics
from stridepod.rt import ticks_diff, ticks_ms
from stridepod.serial_link import SerialLink
from stridepod.service import Pod
from stridepod.store import Store

try:
    from time import sleep_ms
except ImportError:  # CPython
    import time

    def sleep_ms(ms):
        time.sleep(ms / 1000)


_G_MG = 1000.0 / 9.80665  # mg per m/s^2
_DPS10 = 572.9577951308232  # 0.1 deg/s per rad/s
_BURST = 32  # samples pushed between two looks at the link


class FileImu:
    # The IMU: one sample per line, converted to the engine's integers. Two
    # layouts: the StrideCue IMU CSV (header t,ax,ay,az,gx,gy,gz; s, m/s^2,
    # rad/s), or the engine's own integer text (first line "rate_hz acc_range_g
    # gyro_range_dps", then "t_ms ax ay az gx gy gz" in ms, mg, 0.1 deg/s; the
    # layout of stridepod.gait_replay), about four times cheaper to parse.
    def __init__(self, path, acc_lim, gyr_lim):
        self._f = open(path)  # noqa: SIM115 - read line by line for the whole run
        head = self._f.readline().strip()
        self.header_rate = 0
        if head == "t,ax,ay,az,gx,gy,gz":
            self._ints = False
        else:
            f = head.split()
            if len(f) != 3:
                raise ValueError(
                    "%s: first line must be t,ax,ay,az,gx,gy,gz or 'rate_hz acc_g gyro_dps'" % path
                )
            self._ints = True
            self.header_rate = int(f[0])
        self.acc_lim = acc_lim  # mg, full scale
        self.gyr_lim = gyr_lim  # 0.1 dps
        self.state = 0  # proto imu_state: ok
        self.dropped = 0
        self.count = 0
        self.t0 = None
        self.t_ms = 0
        self.s = [0, 0, 0, 0, 0, 0]
        self.more = self.next()

    def next(self):
        line = self._f.readline()
        while line and not line.strip():
            line = self._f.readline()
        if not line:
            return False
        s = self.s
        if self._ints:
            f = line.split()
            self.t_ms = int(f[0])
            for i in range(3):
                s[i] = _clip(int(f[1 + i]), self.acc_lim)
                s[3 + i] = _clip(int(f[4 + i]), self.gyr_lim)
        else:
            f = line.split(",")
            t = float(f[0])
            if self.t0 is None:
                self.t0 = t
            self.t_ms = int((t - self.t0) * 1000.0 + 0.5)
            for i in range(3):
                s[i] = _clip(int(float(f[1 + i]) * _G_MG), self.acc_lim)
                s[3 + i] = _clip(int(float(f[4 + i]) * _DPS10), self.gyr_lim)
        self.count += 1
        return True

    def rate_hz(self):
        if self.header_rate:
            return self.header_rate
        # nominal rate from the first two samples (the file's own grid)
        pos = self._f.tell()
        t_a = self.t_ms
        line = self._f.readline()
        self._f.seek(pos)
        if not line:
            return 416
        dt = (float(line.split(",")[0]) - self.t0) * 1000.0 - t_a
        return int(1000.0 / dt + 0.5) if dt > 0 else 416


def _clip(v, lim):
    if v > lim:
        return lim
    if v < -lim:
        return -lim
    return v


class SimMotor:
    # The motor's PWM pin: duty_u16 like machine.PWM; every change is logged.
    def __init__(self, clock_ms, path=None):
        self.clock_ms = clock_ms
        self.duty = 0
        self.changes = 0
        self.link = None
        self._f = open(path, "w") if path else None  # noqa: SIM115 - open for the run

    def duty_u16(self, d=None):
        if d is None:
            return self.duty
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 out of range 0..65535")
        if d == self.duty:
            return None
        self.duty = d
        self.changes += 1
        if self._f:
            self._f.write("%d %d\n" % (self.clock_ms(), d))
            self._f.flush()
        if self.link:
            self.link.log("motor %d" % d)
        return None


class Clock:
    # Device milliseconds, running `speed` times faster than the wall clock;
    # speed 0: the device time is the time of the newest sample.
    def __init__(self, speed):
        self.speed = speed
        self.t0 = ticks_ms()
        self.sample_ms = 0

    def ms(self):
        if self.speed <= 0:
            return self.sample_ms
        return int(ticks_diff(ticks_ms(), self.t0) * self.speed)

    def wall_ms(self):
        return ticks_diff(ticks_ms(), self.t0)


class StdinReader:
    # Bytes from the host without blocking: poll, then one byte per read
    # (a longer read on the unix port waits for the whole count).
    def __init__(self, stream):
        self.stream = stream
        self.p = select.poll()
        self.p.register(stream, select.POLLIN)
        self.one = bytearray(1)
        self.closed = False

    def read(self, feed, limit=256):
        n = 0
        while n < limit:
            ev = self.p.poll(0)
            if not ev:
                return
            if ev[0][1] & select.POLLIN:
                k = self.stream.readinto(self.one)
                if not k:
                    self.closed = True
                    return
                feed(self.one)
                n += 1
            else:  # POLLHUP / POLLERR: the host side is gone
                self.closed = True
                return


def _writer(out):
    flush = getattr(out, "flush", None)

    def write(mv):
        out.write(mv)
        if flush:
            flush()

    return write


def _args(argv):
    opts = {
        "--speed": 1.0,
        "--motor-log": None,
        "--store": "/tmp/stridecue-simboard",
        "--acc-range-g": 32,
        "--gyro-range-dps": 2000,
        "--max-wall-s": 0.0,
    }
    path = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in opts:
            if i + 1 >= len(argv):
                raise ValueError("%s needs a value" % a)
            v = argv[i + 1]
            d = opts[a]
            opts[a] = v if d is None or isinstance(d, str) else type(d)(v)
            i += 2
        elif path is None:
            path = a
            i += 1
        else:
            raise ValueError("unexpected argument %r" % a)
    if path is None:
        raise ValueError("usage: simboard.py IMU.csv [--speed X] [--motor-log PATH] ...")
    if opts["--speed"] < 0:
        raise ValueError("--speed must be >= 0 (0 = as fast as possible)")
    return path, opts


class Board:
    def __init__(self, path, opts, stdin, stdout):
        self.clock = Clock(opts["--speed"])
        acc_g = opts["--acc-range-g"]
        gyr_dps = opts["--gyro-range-dps"]
        self.imu = FileImu(path, acc_g * 1000, gyr_dps * 10)
        self.rate = self.imu.rate_hz()
        self.engine = GaitEngine(self.rate, acc_g, gyr_dps)
        self.motor = SimMotor(self.clock.ms, opts["--motor-log"])
        self.haptics = Haptics(self.motor, self.clock.ms)
        self.store = Store(opts["--store"]).open()
        self.pod = Pod(self.clock.ms, self.store, self.haptics, battery=_battery, imu=self.imu)
        self.link = SerialLink(self.pod, _writer(stdout))
        self.pod.links.append(self.link)
        self.motor.link = self.link
        self.inp = StdinReader(stdin)
        self.max_wall_ms = int(opts["--max-wall-s"] * 1000)
        self.strides = 0

    def _push_due(self, now):
        imu = self.imu
        eng = self.engine
        s = imu.s
        k = 0
        while imu.more and k < _BURST and (self.clock.speed <= 0 or imu.t_ms <= now):
            self.clock.sample_ms = imu.t_ms
            if eng.push(imu.t_ms, s[0], s[1], s[2], s[3], s[4], s[5]):
                self.strides += 1
                self.pod.on_stride(
                    eng.t_contact_ms, eng.stride_ms, eng.contact_ms, eng.length_mm, eng.flags
                )
            imu.more = imu.next()
            k += 1
        return k

    def run(self):
        self.link.log("simboard %d Hz" % self.rate)
        ended = False
        while not self.inp.closed:
            now = self.clock.ms()
            pushed = self._push_due(now)
            self.inp.read(self.link.feed)
            self.haptics.step(self.clock.ms())
            self.pod.pump()
            if not self.imu.more and not ended:
                ended = True
                self.link.log("imu end %d" % self.imu.count)
            if self.max_wall_ms and self.clock.wall_ms() > self.max_wall_ms:
                self.link.log("max wall time reached")
                break
            if pushed < _BURST:
                sleep_ms(1 if self.imu.more else 5)


def _battery():
    return 100


def main(argv=None):
    path, opts = _args(sys.argv[1:] if argv is None else argv)
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    stdin = getattr(stdin, "raw", stdin)  # CPython: unbuffered, so poll() tells the truth
    stdout = getattr(sys.stdout, "buffer", sys.stdout)
    board = Board(path, opts, stdin, stdout)
    board.run()
    return board


if __name__ == "__main__":
    main()
