# Gait engine: one foot-mounted 6-axis IMU in, one record per stride out.
#
# API (the pod main loop, the host simulator and the evaluation tools use it):
#   eng = GaitEngine(rate_hz, acc_range_g=16, gyro_range_dps=2000, gyro_lag_us=0)
#     rate_hz: nominal sample rate (20..2000); the ranges are the sensor's full
#     scale, used to detect clipped samples; gyro_lag_us (0..50000): how late
#     the sensor's gyro reports an instant against its accelerometer (their
#     filters), to the nearest half sample: the attitude after gyro sample k
#     rotates the accelerometer sample from gyro_lag_us before k. 0 for the
#     pod's sensor (not measured); PyShoe's MicroStrain: 7500 (docs/accuracy.md).
#     The constructor allocates (once).
#   done = eng.push(t_ms, ax, ay, az, gx, gy, gz)
#     INTEGER inputs only: t_ms device time in ms, modulo 2**30 like
#     time.ticks_ms() (wraps are handled; a repeated or older t_ms is
#     dropped, a gap is filled or ends the stride,
#     both set F_GAP), acc in mg (1 g = 1000, clamped to +-32767), gyro in
#     0.1 deg/s (2000 dps = 20000, clamped to +-32767), in the sensor frame,
#     any mounting, either foot. Returns True when a stride has just been
#     completed; the stride is then readable from
#       eng.t_contact_ms  device time of the foot contact that ENDS it (the
#                         stride record's t_contact_ms, docs/protocol.md)
#       eng.stride_ms     contact to the next contact of the SAME foot
#       eng.contact_ms    ground contact (contact to toe-off) of the stance
#                         that STARTS it: the ending stance's toe-off is not
#                         known yet when the stride is reported
#       eng.length_mm     horizontal distance between the two stances
#       eng.flags         F_* bits of stridepod.proto (F_ACC_SAT, F_GYR_SAT,
#                         F_LOW_QUALITY, F_GAP, F_FIRST, F_TURN)
#   Cadence in steps/min for a one-foot pod is 2 * 60000 / stride_ms.
#   The first stride after standing (F_FIRST) starts at the start of the
#   standing stance, so its stride_ms and contact_ms are not gait figures
#   (its t_contact_ms and length_mm are). The stride that ends when the
#   athlete stops is reported like any other (its landing is a stance).
#   Strides are reported about _LAND_STILL_MS + _LOOKAHEAD_MS after the next
#   stance begins when an impact (>= _LAND_IMPACT_MG, with a sample-to-sample
#   step >= _LAND_JUMP_MG: a collision, not a smooth swing bump) precedes that
#   stance (running), else once the stance has stayed still for _CONFIRM_MS
#   more (gentle walking steps; slow walking's still hang before heel strike
#   is not a stance).
#
# Method. Per sample only small ints (< 2**30) in preallocated arrays, in two
# viper functions (_ingest, _advance); per-stride work in plain Python.
#   - stance (zero velocity): over a short centred window the gyro energy and
#     the deviation of |acc|^2 from 1 g^2 are both small (a SHOE-like detector
#     on norms: orientation agnostic); two windows: _WINDOW_MS for walking and
#     running, and _SHORT_WINDOW_MS with stricter thresholds for a sprint, whose
#     foot-flat (~17-24 ms at 8-10 m/s) is shorter than the long window
#     (a single sample below ~176 Hz, where three samples outlast it);
#   - attitude: Q14 quaternion integrated from gyro increments (error-feedback
#     rounding so slow rates are not lost), levelled in every stance from the
#     mean specific force over the block of samples that holds the stride's
#     origin, not on the heel rise after it (tilt only; yaw is free: stride
#     length is measured in the horizontal plane, where yaw does not matter);
#   - horizontal velocity and position are integrated from the stillest sample
#     of a stance (the origin) to _LAND_STILL_MS into the next stance (or the
#     end of a shorter still run: the foot is still rolling when stillness is
#     first detected); the velocity error is taken as linear over that span
#     (ZUPT) and the position corrected exactly: p - v_end * (n + 1) / 2;
#     but when the accelerometer clipped late in the stride (the landing) and
#     the foot ends it still moving forward, the error is the braking the
#     sensor lost there, and it is placed on those clipped samples instead;
#   - a clipped gyro sample is replaced by a parabola over its plateau fitted
#     to the slopes entering and leaving it (seen through the look-ahead);
#   - the gyro's zero-rate offset is subtracted from every sample; it is the
#     mean rate over _GYRO_AVG_MS of quiet standing, taken when that rate was
#     steady and two such windows in a row agree (the pod's gyro is not
#     calibrated, and an offset bends every stride's attitude);
#   - contact: the quietest rotation just before the impact (largest |acc|
#     deviation before stance onset; a largest one reached smoothly on the
#     ~8 g energy clamp is a sprint swing's deceleration, and the impact is the
#     sharp rise after it); a slow walk's heel strike before its slap;
#     toe-off: the push-off rotation peak,
#     where the rate then collapses as the toe leaves the ground.
# One source: MicroPython compiles the viper/native functions to machine code;
# CPython runs the same text as plain Python (stand-ins below) with the same
# integer results.
import array

try:
    import micropython
    from micropython import const
except ImportError:  # CPython runs the same source as plain Python

    def const(x):
        return x

    class micropython:  # stands in for the MicroPython module
        @staticmethod
        def viper(f):
            return f

        @staticmethod
        def native(f):
            return f

    ptr8 = ptr32 = None  # viper pointer annotations (no effect on CPython)

from stridepod.proto import F_ACC_SAT, F_FIRST, F_GAP, F_GYR_SAT, F_LOW_QUALITY, F_TURN

# --- tunables (each with unit and reason) ---------------------------------
_WINDOW_MS = const(30)  # ms; stance window: shorter than a running foot-flat (~60 ms)
_SHORT_WINDOW_MS = const(12)  # ms; second stance window: shorter than a sprint foot-flat
_FOOT_FLAT_MS = const(17)  # ms; a sprint's shortest foot-flat (17-24 ms at 8-10 m/s)
_SHORT_GYR_DPS = const(50)  # deg/s; short-window RMS rate limit: stricter, less noise averaging
_SHORT_ACC_MG = const(300)  # mg; short-window mean | |a| - 1 g | limit, stricter for that reason
_LOOKAHEAD_MS = const(30)  # ms; delay line: half window + longest gyro plateau bridged
# (course sprint plateaus <= 19 ms at 2000 dps); every ms here is a ms of report latency
_LOOKBACK_MS = const(160)  # ms; how far before stance onset the impact is searched
_LAND_STILL_MS = const(25)  # ms; a stride ends this far into a stance (foot still rolling before)
_GYR_STANCE_DPS = const(70)  # deg/s; RMS rotation rate below which the foot may be still
_ACC_STANCE_MG = const(450)  # mg; mean | |a| - 1 g | below which the foot may be still
_MIN_SWING_MS = const(200)  # ms; shorter swings are stance chatter or shuffles, not strides
_MAX_SWING_MS = const(1600)  # ms; longer "swings" are not gait: drop, do not integrate on
_REST_MS = const(2000)  # ms; a stance this long means the athlete stopped (F_FIRST next)
_HOLD_MS = const(1000)  # ms; in a longer stance the origin follows the latest quiet still sample
_GYRO_AVG_MS = const(500)  # ms; the gyro offset is re-estimated from this much quiet standing
_GYRO_SPREAD_DPS = const(2)  # deg/s; only if the rate varied less than this (RMS) meanwhile
_GYRO_AGREE_DPS10 = const(3)  # 0.1 deg/s; and two such windows in a row agree this well
_TILT_BLOCK = const(8)  # samples; levelling applied every this many stance samples
_RELEVEL_MRAD = const(20)  # mrad; while levelling after start-up, the stride origin waits
_TO_OFFSET_MS = const(40)  # ms; toe-off after the end of stillness when no push-off peak is seen
_TO_MAX_MS = const(400)  # ms; the push-off peak is searched this long after stillness ends
_TO_MIN_DPS = const(150)  # deg/s; a push-off rotation peak is at least this fast
_TO_DROP16 = const(9)  # /16 of the peak energy (= 3/4 of the rate): the toe has left
_LAND_IMPACT_MG = const(2000)  # mg; |a| peak before a landing that confirms it at once
_CONFIRM_MS = const(150)  # ms; a landing without that impact must then stay still this long
_WALK_STANCE_MS = const(450)  # ms; a longer stance (contact to toe-off) is walking's
# (walking 0.6-1.2 s, running 0.25 s or less; the benchmarks' boundary too)
_LAND_JUMP_MG = const(400)  # mg; and a step of the acc vector (|dx|+|dy|+|dz|) at least
# this big between two samples in the look-back: a collision is sharp, a mid-swing bump
# (slow walking) is smooth
_IC_BACK_MS = const(60)  # ms; the heel meets the ground this shortly before the impact peak
_HEEL_BACK_MS = const(260)  # ms; a slow walk's heel strike is searched this far before stillness
_IC_RISE_MS = const(10)  # ms; a heel strike's |acc| rises this fast (slow walk: two impacts)
_HEEL_DPS = const(200)  # deg/s; a heel strike comes from a foot turning slower than this
# (10-150 deg/s on the tuning trials); late swing turns faster (~300 in the simulator)
_IC_VALLEY_MS = const(15)  # ms; at most this far back from the quietest rotation to |acc|'s foot
_GAP_FILL_MAX = const(4)  # samples; gaps up to this are bridged by holding the sample
_SAT_PERMILLE = const(985)  # 1/1000 of full scale; at or above this a sample is clipped
_LOWQ_TILT_MRAD = const(300)  # mrad; a bigger levelling jump (17 deg) means attitude was poor
_LOWQ_VEL_MPS100 = const(250)  # cm/s; a bigger ZUPT velocity residual means a poor stride
_TURN_COS_SIN = const(1)  # |sin|*1 > cos  <=>  heading change > 45 deg (F_TURN)
_MIN_STRIDE_MM = const(250)  # mm; a shorter "stride" is a pivot or shuffle in a stance
_MAX_STRIDE_MM = const(6000)  # mm; longer integrated strides are reported low quality
_CLIP_GAP_MS = const(50)  # ms; clipped samples closer than this are one group (one landing)
_SHORT_LEVEL_MIN = const(2)  # samples; a landing's still run this long can level a short stance
_SHORT_LEVEL_SHIFT = const(1)  # a short stance levels 1 / 2**this of the tilt it measures
_SHORT_LEVEL_MG = const(100)  # mg; and only if its mean force is this close to 1 g

# --- fixed-point formats --------------------------------------------------
_Q = const(14)  # quaternion Q14
_ONE = const(16384)
_HALF = const(8192)
_RQ = const(13)  # rotation matrix Q13 (keeps R * acc < 2**30 for 32 g)
_ACC_CLAMP = const(32767)  # mg, input clamp so products stay small ints
_GYR_CLAMP = const(32767)  # 0.1 dps
_E_CLAMP = const(1 << 22)  # per-sample energy clamp (window sums stay < 2**29)
_E_BIG = const(0x3FFFFFFF)  # larger than any window energy (a small int on 32-bit ports)
_G2 = const(62500)  # (1 g in 4 mg units)^2

_ST_WAIT = const(0)  # no stance seen yet: nothing integrated
_ST_STANCE = const(1)
_ST_SWING = const(2)

# ring buffer: _RF ints per sample
_RT = const(0)  # t_ms
_RAX = const(1)  # acc x, y, z (mg), gyro x, y, z (0.1 dps) at _RAX + 0..5, + _B
_REA = const(7)  # per-sample | |a|^2 - g^2 |, (4 mg)^2
_REG = const(8)  # per-sample |w|^2, (0.4 dps)^2
_RWG = const(9)  # window sum of _REG centred on this sample
_RF = const(10)

# engine state: one int array shared by the viper core and the Python logic
_S_HEAD = const(0)  # ring write position (wraps, multiple of the ring size kept)
_S_FILL = const(1)  # samples seen, saturating
_S_SUMA = const(2)  # window sums of _REA, _REG
_S_SUMG = const(3)
_S_Q0 = const(4)  # attitude quaternion, body -> navigation, Q14, + _B
_S_Q1 = const(5)
_S_Q2 = const(6)
_S_Q3 = const(7)
_S_RX = const(8)  # error-feedback remainders of the gyro increments
_S_RY = const(9)
_S_RZ = const(10)
_S_VX = const(11)  # horizontal velocity since the origin, mg * samples
_S_VY = const(12)
_S_PX = const(13)  # horizontal position since the origin, mg * samples^2
_S_PY = const(14)
_S_N = const(15)  # samples since the origin
_S_FX = const(16)  # stance sums of the navigation-frame specific force, mg
_S_FY = const(17)
_S_FZ = const(18)
_S_FN = const(19)
_S_STATE = const(20)
_S_NSW = const(21)  # samples in this swing
_S_NST = const(22)  # samples in this stance
_S_EMIN = const(23)  # stillest window energy of this stance
_S_OQ0 = const(24)  # attitude at the origin (turn reference), + _B
_S_OQ1 = const(25)
_S_OQ2 = const(26)
_S_OQ3 = const(27)
_S_TO_OPEN = const(28)  # toe-off search: open, peak energy, ring index
_S_TO_PK = const(29)
_S_TO_I = const(30)
_S_LAST = const(31)  # t_ms of the last stored sample
_S_CFX = const(32)  # specific force of the last sample, mg
_S_CFY = const(33)
_S_CFZ = const(34)
# configuration (set once)
_S_MASK = const(35)
_S_W = const(36)
_S_D = const(37)
_S_THRA = const(38)
_S_THRG = const(39)
_S_ASAT = const(40)
_S_GSAT = const(41)
_S_KG = const(42)
_S_MAXSW = const(43)
_S_TOMAX = const(44)
_S_TOMIN = const(45)
_S_HOLD = const(46)
_S_PER = const(47)  # nominal sample period, ms (rounded up)
_S_STREAK = const(48)
_S_LANDN = const(49)
_S_MINSW = const(50)
_S_W2 = const(51)  # short stance window (samples) and its thresholds
_S_THRA2 = const(52)
_S_THRG2 = const(53)
_S_SUMA2 = const(54)  # window sums of the short window (cleared by reset)
_S_SUMG2 = const(55)
_S_GLAG = const(56)  # gyro lag behind the accelerometer, half samples (set once)
# the last group of clipped accelerometer samples since the origin (a landing):
# count, sum of their sample numbers (_S_N), the first's and the latest's
_S_CLN = const(57)
_S_CLS = const(58)
_S_CL0 = const(59)
_S_CLL = const(60)
_S_CLGAP = const(61)  # more unclipped samples than this start a new group (set once)
# navigation-frame specific force summed over the still run that ended the last
# swing (the landing), mg, and its length; a stance too short to level in blocks
# levels on it at toe-off (issue #19, eleventh pass)
_S_LSX = const(62)
_S_LSY = const(63)
_S_LSZ = const(64)
_S_LSN = const(65)
_S_LVD = const(66)  # 1 once this stance has levelled
# the gyro's zero-rate offset, 0.1 dps + _B, subtracted from every sample (kept by
# reset: it is the sensor's), and the sums it is estimated from while standing:
# the gyro (0.1 dps), its per-sample energy (_REG) and the sample count (issue #19,
# fifteenth pass)
_S_GOX = const(67)
_S_GOY = const(68)
_S_GOZ = const(69)
_S_GSX = const(70)
_S_GSY = const(71)
_S_GSZ = const(72)
_S_GSE = const(73)
_S_GSN = const(74)
_S_SIZE = const(75)

_EV_NONE = const(0)  # handled in the core
_EV_WAIT = const(1)  # still sample while waiting for the first stance
_EV_LAND = const(2)  # still sample after a swing
_EV_LEVEL = const(3)  # a stance block is ready for levelling
_EV_TOE_OFF = const(4)  # first moving sample after a stance
_EV_LONG = const(5)  # swing longer than any gait swing
_EV_TO = const(6)
_EV_LAND_SHORT = const(7)  # the toe-off search has found the push-off peak
# _advance's mode: why a sample goes (again) through it
_MODE_NEW = const(0)  # a new delayed sample: attitude, integration, stance / swing
_MODE_STANCE = const(1)  # the sample that began a stance, now as its first still sample
_MODE_LEVELLED = const(2)  # Python has just levelled: only the origin is left to update
_MODE_SHORT_STANCE = const(3)  # the end of a short still run: a still sample, moving or not
# _ingest's results other than a ring index
_IN_FILLING = const(-1)  # the delay line is still filling
_IN_REPEAT = const(-2)  # a repeated or older timestamp (dropped)
_IN_GAP = const(-3)  # samples are missing before this one
# per-sample bits (bytearray _bits)
_GYR_CLIP = const(7)  # 1 << axis: that gyro axis is clipped
_ACC_CLIP = const(8)  # an accelerometer axis is clipped
_CLIPPED = const(15)  # _GYR_CLIP | _ACC_CLIP
_STILL = const(16)  # the stance window centred here is still
_J_SAT = const(1 << 16)  # added to _ingest's result when that sample is clipped
_TMASK = const(0x3FFFFFFF)  # times are kept modulo 2**30 (MicroPython ticks_ms period)
_THALF = const(1 << 29)  # a time difference this large is negative (out of order)
_H_WRAP = const(1 << 24)  # head counter wraps here (keeps it a small int)
_B = const(1 << 20)  # bias of signed values in the state and ring arrays (viper
# loads from ptr32 are unsigned; v + _B is positive for |v| < 2**20)


@micropython.viper
def _ingest(
    st: ptr32, ring: ptr32, bits: ptr8, t: int, ax: int, ay: int, az: int, gx: int, gy: int, gz: int
) -> int:
    # store one sample, update the stance window; -> ring index of the delayed
    # sample to process next (+ _J_SAT if it is clipped), -1 while the delay
    # line fills, -2 for a repeated or older timestamp, -3 for a gap (neither
    # is stored: Python decides)
    if st[_S_FILL]:
        dt = (t - int(st[_S_LAST])) & _TMASK
        if dt == 0 or dt >= _THALF:
            return _IN_REPEAT
        if dt > (int(st[_S_PER]) * 5) >> 1:
            return _IN_GAP
    t = t & _TMASK
    st[_S_LAST] = t
    if ax > _ACC_CLAMP:
        ax = _ACC_CLAMP
    elif ax < -_ACC_CLAMP:
        ax = -_ACC_CLAMP
    if ay > _ACC_CLAMP:
        ay = _ACC_CLAMP
    elif ay < -_ACC_CLAMP:
        ay = -_ACC_CLAMP
    if az > _ACC_CLAMP:
        az = _ACC_CLAMP
    elif az < -_ACC_CLAMP:
        az = -_ACC_CLAMP
    if gx > _GYR_CLAMP:
        gx = _GYR_CLAMP
    elif gx < -_GYR_CLAMP:
        gx = -_GYR_CLAMP
    if gy > _GYR_CLAMP:
        gy = _GYR_CLAMP
    elif gy < -_GYR_CLAMP:
        gy = -_GYR_CLAMP
    if gz > _GYR_CLAMP:
        gz = _GYR_CLAMP
    elif gz < -_GYR_CLAMP:
        gz = -_GYR_CLAMP
    m = st[_S_MASK]
    h = st[_S_HEAD]
    i = h & m
    b = i * _RF
    ring[b] = t
    ring[b + 1] = ax + _B
    ring[b + 2] = ay + _B
    ring[b + 3] = az + _B
    # the rates less the sensor's offset (stored + _B) are kept; clipping is
    # judged on the raw rates below
    hx = gx - int(st[_S_GOX]) + _B
    hy = gy - int(st[_S_GOY]) + _B
    hz = gz - int(st[_S_GOZ]) + _B
    ring[b + 4] = hx + _B
    ring[b + 5] = hy + _B
    ring[b + 6] = hz + _B
    f = 0
    s = st[_S_GSAT]
    if gx >= s or gx <= -s:
        f = 1
    if gy >= s or gy <= -s:
        f |= 2
    if gz >= s or gz <= -s:
        f |= 4
    s = st[_S_ASAT]
    if ax >= s or ax <= -s or ay >= s or ay <= -s or az >= s or az <= -s:
        f |= _ACC_CLIP
    bits[i] = f
    gx = hx
    gy = hy
    gz = hz
    # per-sample stance energies (4 mg and 0.4 dps units keep squares small)
    x = ax >> 2
    y = ay >> 2
    z = az >> 2
    a = x * x + y * y + z * z - _G2
    if a < 0:
        a = -a
    if a > _E_CLAMP:
        a = _E_CLAMP
    x = gx >> 2
    y = gy >> 2
    z = gz >> 2
    g = x * x + y * y + z * z
    if g > _E_CLAMP:
        g = _E_CLAMP
    ring[b + _REA] = a
    ring[b + _REG] = g
    w = st[_S_W]
    n = st[_S_FILL] + 1
    sa = st[_S_SUMA] + a
    sg = st[_S_SUMG] + g
    if n > w:
        k = ((h - w) & m) * _RF
        sa -= ring[k + _REA]
        sg -= ring[k + _REG]
    st[_S_SUMA] = sa
    st[_S_SUMG] = sg
    w2 = st[_S_W2]
    sa2 = st[_S_SUMA2] + a
    sg2 = st[_S_SUMG2] + g
    if n > w2:
        k = ((h - w2) & m) * _RF
        sa2 -= ring[k + _REA]
        sg2 -= ring[k + _REG]
    st[_S_SUMA2] = sa2
    st[_S_SUMG2] = sg2
    h += 1
    if h >= _H_WRAP:
        h -= _H_WRAP >> 1
    st[_S_HEAD] = h
    d = st[_S_D]
    if n > d + 4:
        n = d + 4
    st[_S_FILL] = n
    # stillness verdict for the window centre
    if n >= w:
        c = (h - 1 - (w >> 1)) & m
        ring[c * _RF + _RWG] = sg
        if sa < st[_S_THRA] and sg < st[_S_THRG]:
            bits[c] = bits[c] | _STILL
    if n >= w2 and sa2 < st[_S_THRA2] and sg2 < st[_S_THRG2]:
        # a sprint's short foot-flat: still over the short window
        c = (h - 1 - (w2 >> 1)) & m
        bits[c] = bits[c] | _STILL
    if n <= d + 1:
        return _IN_FILLING
    j = (h - 1 - d) & m
    if bits[j] & _CLIPPED:
        return j + _J_SAT
    return j


@micropython.viper
def _advance(st: ptr32, ring: ptr32, bits: ptr8, j: int, mode: int) -> int:
    # one delayed sample: attitude, navigation-frame force, integration, and
    # the common stance / swing bookkeeping; -> _EV_* for what Python must do
    f = int(bits[j])
    b = j * _RF
    state = st[_S_STATE]
    if mode == _MODE_NEW:
        # attitude: q <- q * (c, hx, hy, hz), error-feedback rounding.
        # (viper ptr32 loads are unsigned: signed values are stored + _B)
        kg = int(st[_S_KG])
        t = (int(ring[b + 4]) - _B) * kg + int(st[_S_RX])
        hx = t >> 16
        st[_S_RX] = t - (hx << 16)
        t = (int(ring[b + 5]) - _B) * kg + int(st[_S_RY])
        hy = t >> 16
        st[_S_RY] = t - (hy << 16)
        t = (int(ring[b + 6]) - _B) * kg + int(st[_S_RZ])
        hz = t >> 16
        st[_S_RZ] = t - (hz << 16)
        hc = _ONE - ((hx * hx + hy * hy + hz * hz) >> 15)
        q0 = int(st[_S_Q0]) - _B
        q1 = int(st[_S_Q1]) - _B
        q2 = int(st[_S_Q2]) - _B
        q3 = int(st[_S_Q3]) - _B
        w = (q0 * hc - q1 * hx - q2 * hy - q3 * hz + _HALF) >> _Q
        x = (q0 * hx + q1 * hc + q2 * hz - q3 * hy + _HALF) >> _Q
        y = (q0 * hy - q1 * hz + q2 * hc + q3 * hx + _HALF) >> _Q
        z = (q0 * hz + q1 * hy - q2 * hx + q3 * hc + _HALF) >> _Q
        # renormalise (first order): scale = (3 - |q|^2) / 2
        s = (3 * (1 << 28) - (w * w + x * x + y * y + z * z)) >> 15
        w = (w * s + _HALF) >> _Q
        x = (x * s + _HALF) >> _Q
        y = (y * s + _HALF) >> _Q
        z = (z * s + _HALF) >> _Q
        st[_S_Q0] = w + _B
        st[_S_Q1] = x + _B
        st[_S_Q2] = y + _B
        st[_S_Q3] = z + _B
        lag = int(st[_S_GLAG])
        if lag == 0:
            ax = int(ring[b + 1]) - _B
            ay = int(ring[b + 2]) - _B
            az = int(ring[b + 3]) - _B
        else:
            mk = int(st[_S_MASK])
            ba = ((j - (lag >> 1)) & mk) * _RF
            if lag & 1:
                bb = ((j - (lag >> 1) - 1) & mk) * _RF
                ax = (int(ring[ba + 1]) + int(ring[bb + 1]) - 2 * _B) >> 1
                ay = (int(ring[ba + 2]) + int(ring[bb + 2]) - 2 * _B) >> 1
                az = (int(ring[ba + 3]) + int(ring[bb + 3]) - 2 * _B) >> 1
            else:
                ax = int(ring[ba + 1]) - _B
                ay = int(ring[ba + 2]) - _B
                az = int(ring[ba + 3]) - _B
        # body -> navigation rotation (Q13) applied to the specific force
        ww = w * w
        xx = x * x
        yy = y * y
        zz = z * z
        xy = x * y
        wz = w * z
        xz = x * z
        wy = w * y
        yz = y * z
        wx = w * x
        fx = ((ww + xx - yy - zz) >> 15) * ax + ((xy - wz) >> 14) * ay + ((xz + wy) >> 14) * az
        fy = ((xy + wz) >> 14) * ax + ((ww - xx + yy - zz) >> 15) * ay + ((yz - wx) >> 14) * az
        fz = ((xz - wy) >> 14) * ax + ((yz + wx) >> 14) * ay + ((ww - xx - yy + zz) >> 15) * az
        fx >>= _RQ
        fy >>= _RQ
        fz >>= _RQ
        st[_S_CFX] = fx
        st[_S_CFY] = fy
        st[_S_CFZ] = fz
        if state == _ST_WAIT:
            return _EV_WAIT if f & _STILL else _EV_NONE
        # horizontal velocity and position since the origin
        vx = st[_S_VX] + fx
        vy = st[_S_VY] + fy
        st[_S_VX] = vx
        st[_S_VY] = vy
        st[_S_PX] = st[_S_PX] + vx
        st[_S_PY] = st[_S_PY] + vy
        nn = st[_S_N] + 1
        st[_S_N] = nn
        if f & _ACC_CLIP:
            if st[_S_CLN] == 0 or nn - st[_S_CLL] > st[_S_CLGAP]:
                st[_S_CLN] = 0  # a new group: the latest one is the landing
                st[_S_CLS] = 0
                st[_S_CL0] = nn
            st[_S_CLN] = st[_S_CLN] + 1
            st[_S_CLS] = st[_S_CLS] + nn
            st[_S_CLL] = nn
        if state == _ST_SWING:
            if f & _STILL:
                k = st[_S_STREAK] + 1
                st[_S_STREAK] = k
                if k == 1:
                    st[_S_LSX] = fx
                    st[_S_LSY] = fy
                    st[_S_LSZ] = fz
                    st[_S_LSN] = 1
                else:
                    st[_S_LSX] = st[_S_LSX] + fx
                    st[_S_LSY] = st[_S_LSY] + fy
                    st[_S_LSZ] = st[_S_LSZ] + fz
                    st[_S_LSN] = st[_S_LSN] + 1
                if k >= st[_S_LANDN] or st[_S_NSW] < st[_S_MINSW]:
                    st[_S_STREAK] = 0
                    return _EV_LAND
            elif st[_S_STREAK]:
                st[_S_STREAK] = 0
                return _EV_LAND_SHORT
            n = st[_S_NSW] + 1
            st[_S_NSW] = n
            if st[_S_TO_OPEN]:
                # toe-off: the push-off rotation peaks, then collapses. |w|^2 of
                # the (bridged) gyro in (0.8 dps)^2, not the stance energy _REG:
                # that is clamped at ~820 dps, below a sprint's push-off peak, so
                # its "peak" was the first sample past 820 dps (issue #19 fifth pass)
                ex = (int(ring[b + 4]) - _B) >> 3
                ey = (int(ring[b + 5]) - _B) >> 3
                ez = (int(ring[b + 6]) - _B) >> 3
                e = ex * ex + ey * ey + ez * ez
                pk = int(st[_S_TO_PK])
                if e > pk:
                    st[_S_TO_PK] = e
                    st[_S_TO_I] = j
                elif e * 16 < pk * _TO_DROP16 and pk > int(st[_S_TOMIN]):
                    st[_S_TO_OPEN] = 0
                    return _EV_TO
                if n > st[_S_TOMAX]:
                    st[_S_TO_OPEN] = 0
            if n > st[_S_MAXSW]:
                return _EV_LONG
            return _EV_NONE
    if mode != _MODE_LEVELLED:
        if not f & _STILL and mode != _MODE_SHORT_STANCE:
            return _EV_TOE_OFF
        # a still sample of a stance
        st[_S_FX] = st[_S_FX] + st[_S_CFX]
        st[_S_FY] = st[_S_FY] + st[_S_CFY]
        st[_S_FZ] = st[_S_FZ] + st[_S_CFZ]
        st[_S_FN] = st[_S_FN] + 1
        st[_S_NST] = st[_S_NST] + 1
        if st[_S_NST] > st[_S_HOLD] and ring[b + _RWG] <= st[_S_THRG] >> 4:
            # standing quietly: the gyro reads its own offset (sums wrap as
            # 32-bit words here; Python reads them signed)
            st[_S_GSX] = st[_S_GSX] + int(ring[b + 4]) - _B
            st[_S_GSY] = st[_S_GSY] + int(ring[b + 5]) - _B
            st[_S_GSZ] = st[_S_GSZ] + int(ring[b + 6]) - _B
            st[_S_GSE] = st[_S_GSE] + ring[b + _REG]
            st[_S_GSN] = st[_S_GSN] + 1
        if st[_S_FN] >= _TILT_BLOCK:
            return _EV_LEVEL  # Python levels, then calls again with _MODE_LEVELLED
    e = ring[b + _RWG]
    if e < st[_S_EMIN] or (
        st[_S_NST] > st[_S_HOLD] and (e <= st[_S_THRG] >> 4 or st[_S_N] > st[_S_HOLD])
    ):
        # stiller than any sample of this stance so far (or standing for a
        # while: the latest quiet still sample, RMS rate under a quarter of the
        # stance limit, as a walk's heel rises slowly out of a standing stance
        # while the detector still reads it still: issue #19 fifteenth pass;
        # any still sample once the origin is _HOLD_MS old, so that a gyro
        # offset cannot hold the origin back): the new origin
        st[_S_EMIN] = e
        st[_S_OQ0] = st[_S_Q0]
        st[_S_OQ1] = st[_S_Q1]
        st[_S_OQ2] = st[_S_Q2]
        st[_S_OQ3] = st[_S_Q3]
        st[_S_VX] = 0
        st[_S_VY] = 0
        st[_S_PX] = 0
        st[_S_PY] = 0
        st[_S_N] = 0
        st[_S_CLN] = 0
    return _EV_NONE


def isqrt(n):
    # integer square root (floor) by Newton's method, small ints only
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def _step_mg(ring, m, k):
    # |dx|+|dy|+|dz| of the acc vector from ring sample k - 1 to k, mg
    b = k * _RF
    c = ((k - 1) & m) * _RF
    d = ring[b + 1] - ring[c + 1]
    e = d if d > 0 else -d
    d = ring[b + 2] - ring[c + 2]
    e += d if d > 0 else -d
    d = ring[b + 3] - ring[c + 3]
    return e + (d if d > 0 else -d)


def _sharp(ring, m, back, j, bi, jump, h):
    # the ring index of the largest step of the acc vector (_step_mg) of at least
    # `jump` mg between two successive samples of the back samples up to j, or -1.
    # The h + 1 steps ending at j (the first half of the still window centred on j,
    # where a heel strike after a hang begins) are read first; then only a larger
    # step is searched for, outwards from the impact peak bi, where a collision has
    # it: that usually stops at once.
    best = -1
    k = (j - h) & m
    for _ in range(h + 1):
        e = _step_mg(ring, m, k)
        if e >= jump:
            jump = e + 1
            best = k
        k = (k + 1) & m
    n1 = ((bi - j + back - 1) & m) + 1  # steps from the peak back to the oldest
    n = n1 + ((j - bi) & m)  # and from after the peak to j
    k = bi
    dk = -1
    for i in range(n):
        if i == n1:
            k = (bi + 1) & m
            dk = 1
        if _step_mg(ring, m, k) >= jump:
            return k
        k = (k + dk) & m
    return best


def _least(ring, m, k, n, field):
    # the least of ring field `field` over the n samples before sample k
    low = _E_BIG
    for _ in range(n):
        k = (k - 1) & m
        v = ring[k * _RF + field]
        if v < low:
            low = v
    return low


def _acc2(ring, k):
    # |acc|^2 of ring sample k, (4 mg)^2 (a small int at 32 g)
    b = k * _RF
    x = (ring[b + 1] - _B) >> 2
    y = (ring[b + 2] - _B) >> 2
    z = (ring[b + 3] - _B) >> 2
    return x * x + y * y + z * z


def _pow2_at_least(n):
    p = 1
    while p < n:
        p <<= 1
    return p


class GaitEngine:
    def __init__(self, rate_hz, acc_range_g=16, gyro_range_dps=2000, gyro_lag_us=0):
        if not 20 <= rate_hz <= 2000:
            raise ValueError("rate_hz must be 20..2000")
        if not 2 <= acc_range_g <= 32 or not 125 <= gyro_range_dps <= 4000:
            raise ValueError("acc_range_g 2..32, gyro_range_dps 125..4000")
        if not 0 <= gyro_lag_us <= 50000:
            raise ValueError("gyro_lag_us 0..50000")
        self.rate_hz = rate_hz
        r = rate_hz
        w = max(3, (_WINDOW_MS * r + 500) // 1000) | 1  # odd, centred
        # d + 4 > w: the sample count saturates at d + 4 and the window sums
        # only start subtracting beyond w samples
        d = max(w // 2 + 2, w - 3, (_LOOKAHEAD_MS * r + 999) // 1000)
        self._back = (_LOOKBACK_MS * r + 999) // 1000
        self._heel_back = (_HEEL_BACK_MS * r + 999) // 1000
        self._ic_back = (_IC_BACK_MS * r + 999) // 1000
        self._ic_valley = (_IC_VALLEY_MS * r + 999) // 1000
        self._rise = max(2, (_IC_RISE_MS * r + 999) // 1000)  # a rise needs two steps
        # the ring holds every sample a contact search reads: d after j and,
        # before it, _HEEL_BACK_MS or the impact's look-back + _IC_BACK_MS +
        # _IC_VALLEY_MS (128 samples from 100 to 429 Hz, 256 at 800 Hz)
        n = self._back + self._ic_back + self._ic_valley
        n = _pow2_at_least(d + max(self._heel_back, n) + 2)
        self._mask = n - 1
        # from zeroed bytes: a list of n * _RF ints first would double the peak
        self._ring = array.array("i", bytes(4 * n * _RF))
        for k in range(n * _RF):
            if 1 <= k % _RF <= 6:
                self._ring[k] = _B  # a zero sample (gyro_lag_us reads back before the first)
        self._bits = bytearray(n)  # _GYR_CLIP (x, y, z), _ACC_CLIP, _STILL per sample
        st = array.array("i", bytes(4 * _S_SIZE))
        self._st = st
        st[_S_MASK] = n - 1
        # the accelerometer sample paired with the gyro's attitude: gyro_lag_us
        # earlier (half samples; the ring keeps _LOOKBACK_MS of the past)
        st[_S_GLAG] = min((gyro_lag_us * r + 250000) // 500000, 2 * self._back - 2)
        st[_S_PER] = 1000 // r if 1000 % r == 0 else 1000 // r + 1
        st[_S_W] = w
        st[_S_D] = d
        # thresholds as window sums of the per-sample energies
        g4 = _GYR_STANCE_DPS * 10 >> 2  # in 0.4 dps
        st[_S_THRG] = w * g4 * g4
        # | |a|^2 - g^2 | in (4 mg)^2: 2 * g * dev (first order)
        st[_S_THRA] = w * 2 * 250 * (_ACC_STANCE_MG >> 2)
        w2 = max(3, (_SHORT_WINDOW_MS * r + 500) // 1000) | 1
        if w2 * 1000 > _FOOT_FLAT_MS * r:
            w2 = 1  # below ~176 Hz three samples outlast a sprint's foot-flat
        st[_S_W2] = w2
        g4 = _SHORT_GYR_DPS * 10 >> 2
        st[_S_THRG2] = w2 * g4 * g4
        st[_S_THRA2] = w2 * 2 * 250 * (_SHORT_ACC_MG >> 2)
        st[_S_ASAT] = acc_range_g * _SAT_PERMILLE
        st[_S_GSAT] = gyro_range_dps * _SAT_PERMILLE // 100
        # gyro 0.1 dps -> half-angle increment in Q14 per sample, scaled by 2**16:
        # h = w * 0.1 * pi / 180 / 2 / rate * 2**14
        st[_S_KG] = (16384 * 65536 * 314159 // 100000 // 3600 + r // 2) // r
        st[_S_MAXSW] = _MAX_SWING_MS * r // 1000
        st[_S_TOMAX] = _TO_MAX_MS * r // 1000
        g8 = _TO_MIN_DPS * 10 >> 3  # in 0.8 dps, as the toe-off search's |w|^2
        st[_S_TOMIN] = g8 * g8
        st[_S_HOLD] = _HOLD_MS * r // 1000
        st[_S_CLGAP] = _CLIP_GAP_MS * r // 1000
        for k in (_S_GOX, _S_GOY, _S_GOZ):
            st[k] = _B  # no offset known yet
        self._gyro_n = _GYRO_AVG_MS * r // 1000
        self._gox = 0  # the last steady window's offset (+ _B; 0: none yet)
        self._goy = 0
        self._goz = 0
        # position units mg*sample^2 per mm: 1 / (9.80665e-3 m/s^2 * dt^2 * 1000)
        self._kmm = (r * r * 100000 + 490332) // 980665
        self._min_swing = _MIN_SWING_MS * r // 1000
        st[_S_MINSW] = self._min_swing
        st[_S_LANDN] = max(1, (_LAND_STILL_MS * r + 500) // 1000)
        self._rest = _REST_MS * r // 1000
        g4 = _HEEL_DPS * 10 >> 2  # as the per-sample _REG energy, (0.4 dps)^2
        self._heel_w = g4 * g4
        a4 = _LAND_IMPACT_MG >> 2
        self._impact = a4 * a4 - _G2  # as the per-sample _REA energy
        self._confirm = (_CONFIRM_MS * r + 999) // 1000
        self._plat0 = array.array("i", [0, 0, 0])  # plateau start per gyro axis
        self.t_contact_ms = 0
        self.stride_ms = 0
        self.contact_ms = 0
        self.length_mm = 0
        self.flags = 0
        self.reset()

    def reset(self):
        # forget motion state (kept: configuration and buffers)
        st = self._st
        for k in range(_S_MASK):
            st[k] = 0
        st[_S_SUMA2] = 0
        st[_S_SUMG2] = 0
        st[_S_LSN] = 0  # no landing run seen yet
        st[_S_LVD] = 0
        for k in range(_S_GSX, _S_SIZE):
            st[k] = 0
        for k in (_S_Q1, _S_Q2, _S_Q3, _S_OQ1, _S_OQ2, _S_OQ3):
            st[k] = _B
        st[_S_Q0] = _ONE + _B
        st[_S_OQ0] = _ONE + _B
        st[_S_EMIN] = _E_BIG
        st[_S_STATE] = _ST_WAIT
        self._pending = F_FIRST  # flags gathered for the stride in progress
        self._ic_ms = -1  # contact of the stance the stride starts from
        self._peak = 0  # ring index of the impact peak found by the last _contact_ms
        self._to_ms = 0
        self._tilt = 0  # last levelling angle, mrad
        self._hx0 = 0  # horizontal reference axis at the origin (Q13)
        self._hy0 = 0
        self._hax = 0
        self._cx = 0
        self._cy = 0
        self._fresh = True
        self._cand = -1  # ring index of a landing waiting for confirmation
        self._cand_ic = 0  # its contact, ms
        self._cand_n = 0  # still samples seen since it

    # ---------------------------------------------------------------- input
    @micropython.native
    def push(self, t_ms, ax, ay, az, gx, gy, gz):
        st = self._st
        ring = self._ring
        bits = self._bits
        j = _ingest(st, ring, bits, t_ms, ax, ay, az, gx, gy, gz)
        if j < 0:
            if j == _IN_FILLING:
                return False
            return self._irregular(j, t_ms, ax, ay, az, gx, gy, gz)
        if j >= _J_SAT:
            j -= _J_SAT
            self._saturated(j)
        ev = _advance(st, ring, bits, j, _MODE_NEW)
        if ev == _EV_NONE:
            return False
        return self._event(j, ev)

    def _irregular(self, code, t_ms, ax, ay, az, gx, gy, gz):
        # a repeated timestamp (dropped) or a gap (held samples fill a short
        # one; a long one ends the stride in progress)
        self._pending |= F_GAP
        if code == _IN_REPEAT:
            return False
        st = self._st
        p = st[_S_PER]
        miss = ((t_ms - st[_S_LAST]) & _TMASK) // p - 1
        done = False
        if miss > _GAP_FILL_MAX:
            self._abort(F_GAP)
            miss = 0
        while miss > 0:
            tk = (t_ms - miss * p) & _TMASK
            st[_S_LAST] = (tk - p) & _TMASK
            done = self.push(tk, ax, ay, az, gx, gy, gz) or done
            miss -= 1
        st[_S_LAST] = (t_ms - p) & _TMASK
        return self.push(t_ms, ax, ay, az, gx, gy, gz) or done

    def _abort(self, why):
        # a long gap, or a swing too long for gait: drop the stride in progress
        if self._st[_S_STATE] == _ST_SWING:
            self._st[_S_STATE] = _ST_WAIT
        self._cand = -1
        self._pending |= why | F_FIRST

    # ------------------------------------------------- events (rare, Python)
    def _event(self, j, ev):
        st = self._st
        if ev == _EV_TO:
            self._to_ms = self._ring[st[_S_TO_I] * _RF + _RT]
            return False
        if ev == _EV_LONG:
            self._abort(0)
            return False
        if ev == _EV_LEVEL:
            self._level_now(j)
            return False
        if ev == _EV_TOE_OFF:
            self._toe_off(j)
            return False
        done = False
        if ev == _EV_WAIT:
            self._ic_ms = self._ring[j * _RF + _RT]
            self._fresh = True
            self._enter_stance()
        elif st[_S_NSW] >= self._min_swing:  # _EV_LAND after a real swing
            if not self._landed(j, ev):
                return False  # not (yet) a landing: the swing goes on
            done = self._stride_end(j)
        # else: stance chatter, the same stance goes on
        st[_S_STATE] = _ST_STANCE
        # a short still run that ended at j: j stands for that stance
        mode = _MODE_SHORT_STANCE if ev == _EV_LAND_SHORT else _MODE_STANCE
        if _advance(st, self._ring, self._bits, j, mode) == _EV_LEVEL:
            self._level_now(j)
        return done

    def _landed(self, j, ev):
        # Is the stillness that ends at j a landing? Slow walking hangs the foot
        # nearly still just before heel strike while it still moves forward.
        # A landing with an impact before it is one at once; one without must
        # stay still for _CONFIRM_MS (a real foot-flat while walking does; the
        # hang is broken by the heel strike). Sets self._cand_ic (its contact).
        m = self._mask
        if self._cand >= 0:
            # still since the candidate?
            k = self._cand
            while k != j:
                k = (k + 1) & m
                if not self._bits[k] & _STILL:
                    break
                self._cand_n += 1
            self._cand = j
            if ev == _EV_LAND and self._bits[j] & _STILL and k == j:
                if self._cand_n >= self._confirm:
                    self._cand = -1
                    return True
                return False
            self._cand = -1  # the foot moved again: not a landing
            if ev == _EV_LAND_SHORT:
                return False
        if ev == _EV_LAND_SHORT and self._ic_ms >= 0 and not self._pending & F_FIRST:
            # a still run shorter than _LAND_STILL_MS is a sprint's foot-flat, and a
            # stride from a walking stance does not end on one: it is the hang
            # before a walk's heel strike, after a late swing that can pass for
            # the impact (issue #19, fifteenth pass)
            c = (self._to_ms - self._ic_ms) & _TMASK
            if _WALK_STANCE_MS < c < _THALF:
                return False
        ic = self._contact_ms(j)
        self._cand_ic = ic
        pk = self._peak
        ring = self._ring
        # an impact: a peak of at least _LAND_IMPACT_MG with a sharp step. Not if
        # the largest step comes long after the peak and inside the still window
        # centred on j: that is the heel strike beginning as the window reads
        # still, the foot having hung still before it, and the peak was late
        # swing (issue #19, thirteenth pass). The largest, not the first found:
        # below ~250 Hz a smooth late swing also passes for sharp and hid the
        # heel strike (fifteenth pass)
        # A short still run that ended on the impact itself hung still before
        # the foot touched down (a slow walk's heel strike through a sensor's
        # low-pass; fifteenth pass): a landing's impact comes before its stillness
        s = -1
        if ring[pk * _RF + _REA] >= self._impact and (pk != j or ev != _EV_LAND_SHORT):
            # below 200 Hz a smooth swing changes by _LAND_JUMP_MG from sample to
            # sample too: a collision's step must be larger (once per landing;
            # the ~3 % per sample once measured for keeping it as an attribute
            # was the heap layout moving: benchmarks/gait_cost.py)
            jump = _LAND_JUMP_MG * 200 // min(self.rate_hz, 200)
            s = _sharp(ring, m, self._back, j, pk, jump, self._st[_S_W] >> 1)
        if s >= 0 and (((s - pk) & m) <= self._ic_back or ((j - s) & m) > self._st[_S_W] >> 1):
            return True
        if ev == _EV_LAND_SHORT:
            # a still run shorter than _LAND_STILL_MS is a sprint's foot-flat only
            # after an impact; without one it is a dip in mid-swing (docs/accuracy-record.md,
            # issue #19 sixth pass): the swing goes on
            return False
        self._cand = j
        self._cand_n = 0
        return False

    def _level_now(self, j):
        # a stance block is levelled only if it holds the origin (the stillest
        # sample, the stride's initial attitude), or, while standing (the origin
        # follows the latest quiet still sample) or before the first stride
        # (start-up levelling must converge, the origin waits for it), if it
        # ends on a quiet sample; the other blocks are the heel rise, whose
        # forward acceleration would read as tilt (docs/accuracy-record.md, issue #19
        # seventh and fifteenth passes)
        st = self._st
        if st[_S_GSN] >= self._gyro_n:
            self._gyro_offset()
        e = self._ring[j * _RF + _RWG]
        if (
            st[_S_N] < st[_S_FN]
            or e < st[_S_EMIN]
            or (
                (self._fresh or st[_S_NST] > st[_S_HOLD])
                and (e <= st[_S_THRG] >> 4 or st[_S_N] > st[_S_HOLD])
            )
        ):
            self._level()
            st[_S_LVD] = 1
            if self._fresh and self._tilt > _RELEVEL_MRAD:
                st[_S_EMIN] = _E_BIG  # still levelling after start-up: origin later
        else:
            st[_S_FN] = 0
            st[_S_FX] = 0
            st[_S_FY] = 0
            st[_S_FZ] = 0
        _advance(st, self._ring, self._bits, j, _MODE_LEVELLED)

    def _toe_off(self, j):
        st = self._st
        # the still samples since the last levelling are the heel rise: the foot
        # already accelerates forward, so levelling on them would tilt the
        # attitude for the whole swing (docs/accuracy-record.md, issue #19 third pass)
        st[_S_FN] = 0
        st[_S_FX] = 0
        st[_S_FY] = 0
        st[_S_FZ] = 0
        n = st[_S_LSN]
        if not st[_S_LVD] and n >= _SHORT_LEVEL_MIN and not self._fresh:
            # a stance too short for a levelling block (a sprint's: the attitude
            # would run free on the gyro alone for the whole rep): level on the
            # still run that landed it, part of the way (its force holds some
            # of the landing's roll-in), if that force is gravity's: a run of
            # two or three samples can hold the impact's ringing instead
            fx = st[_S_LSX] // n
            fy = st[_S_LSY] // n
            fz = st[_S_LSZ] // n
            f = fx * fx + fy * fy + fz * fz
            lo = 1000 - _SHORT_LEVEL_MG
            hi = 1000 + _SHORT_LEVEL_MG
            if lo * lo <= f <= hi * hi:
                self._level_by(fx, fy, fz, _SHORT_LEVEL_SHIFT)
        self._to_ms = (self._ring[j * _RF + _RT] + _TO_OFFSET_MS) & _TMASK
        st[_S_TO_OPEN] = 1
        st[_S_TO_PK] = 0
        if st[_S_NST] > self._rest:
            self._pending |= F_FIRST
        st[_S_STATE] = _ST_SWING
        self._fresh = False
        st[_S_NSW] = 0
        self._ref_axis()

    def _gyro_offset(self):
        # _GYRO_AVG_MS of quiet standing: the mean rate there is the gyro's
        # zero-rate offset if the rate stayed steady (a foot rocking on the spot
        # does not) and the last such window read the same (a foot turning or
        # rolling slowly does not keep one rate): then the offset is their mean
        st = self._st
        n = st[_S_GSN]
        mx = (2 * st[_S_GSX] + n) // (2 * n)  # the mean rate left, 0.1 dps, rounded
        my = (2 * st[_S_GSY] + n) // (2 * n)
        mz = (2 * st[_S_GSZ] + n) // (2 * n)
        x = st[_S_GOX] + mx  # this window's offset, 0.1 dps + _B
        y = st[_S_GOY] + my
        z = st[_S_GOZ] + mz
        # spread^2 = mean |w|^2 - |mean w|^2, in (0.1 dps)^2 (_REG is in (0.4 dps)^2)
        spread = 16 * st[_S_GSE] // n - (mx * mx + my * my + mz * mz)
        for k in range(_S_GSX, _S_SIZE):
            st[k] = 0
        if spread > 100 * _GYRO_SPREAD_DPS * _GYRO_SPREAD_DPS:
            self._gox = 0  # no steady window to compare the next one with
            return
        a = _GYRO_AGREE_DPS10
        dx = x - self._gox
        dy = y - self._goy
        dz = z - self._goz
        if self._gox and -a <= dx <= a and -a <= dy <= a and -a <= dz <= a:
            st[_S_GOX] = (x + self._gox) >> 1
            st[_S_GOY] = (y + self._goy) >> 1
            st[_S_GOZ] = (z + self._goz) >> 1
        self._gox = x
        self._goy = y
        self._goz = z

    def _enter_stance(self):
        st = self._st
        st[_S_LVD] = 0
        for k in range(_S_GSX, _S_SIZE):
            st[k] = 0
        st[_S_EMIN] = _E_BIG
        st[_S_NST] = 0
        st[_S_FN] = 0
        st[_S_FX] = 0
        st[_S_FY] = 0
        st[_S_FZ] = 0

    def _saturated(self, j):
        f = self._bits[j]
        if f & _GYR_CLIP:
            self._pending |= F_GYR_SAT
            b = j * _RF + _RAX + 3
            for a in (0, 1, 2):
                if f & (1 << a):
                    v = self._bridge(j, a)
                    if v > _GYR_CLAMP:
                        v = _GYR_CLAMP
                    elif v < -_GYR_CLAMP:
                        v = -_GYR_CLAMP
                    self._ring[b + a] = v + _B
        if f & _ACC_CLIP:
            self._pending |= F_ACC_SAT

    def _bridge(self, j, a):
        # a clipped gyro sample -> a parabola over its plateau, fitted to the
        # slopes entering and leaving the plateau (seen through the look-ahead)
        m = self._mask
        bits = self._bits
        ring = self._ring
        bit = 1 << a
        o = _RAX + 3 + a
        if not bits[(j - 1) & m] & bit:
            self._plat0[a] = j
        p0 = self._plat0[a]
        u = (j - p0) & m
        last = (self._st[_S_HEAD] - 1) & m
        p1 = j
        while p1 != last and bits[(p1 + 1) & m] & bit:
            p1 = (p1 + 1) & m
        n = ((p1 - p0) & m) + 1
        v = ring[j * _RF + o] - _B
        s_in = v + _B - ring[((p0 - 1) & m) * _RF + o]
        if s_in < 0:
            s_in = -s_in
        if p1 != last:
            s_out = v + _B - ring[((p1 + 1) & m) * _RF + o]
            if s_out < 0:
                s_out = -s_out
        else:
            s_out = s_in
        e = (s_in + s_out) * (u + 1) * (n - u) // (2 * (n + 1))
        return v + e if v > 0 else v - e

    def _level(self):
        # rotate the attitude so the mean stance specific force points up
        st = self._st
        n = st[_S_FN]
        fx = st[_S_FX] // n
        fy = st[_S_FY] // n
        fz = st[_S_FZ] // n
        st[_S_FX] = 0
        st[_S_FY] = 0
        st[_S_FZ] = 0
        st[_S_FN] = 0
        self._level_by(fx, fy, fz, 0)

    def _level_by(self, fx, fy, fz, shift):
        # rotate the attitude towards (fx, fy, fz) pointing up: all the way, or
        # 1 / 2**shift of the way
        st = self._st
        hh = isqrt(fx * fx + fy * fy)
        if hh == 0:
            return
        if fz > hh:
            # small angle: phi = (fy, -fx, 0) / fz, half angle in Q14
            hx = (fy << 13) // fz
            hy = -(fx << 13) // fz
        else:
            # far off (start-up, odd mounting): step 0.5 rad towards level
            hx = (fy << 12) // hh
            hy = -(fx << 12) // hh
        self._tilt = isqrt(hx * hx + hy * hy) * 2000 >> 14
        hx >>= shift
        hy >>= shift
        hc = _ONE - ((hx * hx + hy * hy) >> 15)
        q0 = st[_S_Q0] - _B
        q1 = st[_S_Q1] - _B
        q2 = st[_S_Q2] - _B
        q3 = st[_S_Q3] - _B
        # q <- (hc, hx, hy, 0) * q   (rotation applied in the navigation frame)
        w = (hc * q0 - hx * q1 - hy * q2 + _HALF) >> _Q
        x = (hc * q1 + hx * q0 + hy * q3 + _HALF) >> _Q
        y = (hc * q2 - hx * q3 + hy * q0 + _HALF) >> _Q
        z = (hc * q3 + hx * q2 - hy * q1 + _HALF) >> _Q
        s = (3 * (1 << 28) - (w * w + x * x + y * y + z * z)) >> 15
        st[_S_Q0] = ((w * s + _HALF) >> _Q) + _B
        st[_S_Q1] = ((x * s + _HALF) >> _Q) + _B
        st[_S_Q2] = ((y * s + _HALF) >> _Q) + _B
        st[_S_Q3] = ((z * s + _HALF) >> _Q) + _B

    def _col(self, k, w, x, y, z):
        # horizontal part (x, y) of body axis k in the navigation frame, Q13
        if k == 0:
            self._cx = (w * w + x * x - y * y - z * z) >> 15
            self._cy = (x * y + w * z) >> 14
        elif k == 1:
            self._cx = (x * y - w * z) >> 14
            self._cy = (w * w - x * x + y * y - z * z) >> 15
        else:
            self._cx = (x * z + w * y) >> 14
            self._cy = (y * z - w * x) >> 14

    def _ref_axis(self):
        # heading reference: the body axis lying most horizontal at the origin
        st = self._st
        best = -1
        for k in (0, 1, 2):
            self._col(k, st[_S_OQ0] - _B, st[_S_OQ1] - _B, st[_S_OQ2] - _B, st[_S_OQ3] - _B)
            e = self._cx * self._cx + self._cy * self._cy
            if e > best:
                best = e
                self._hax = k
                self._hx0 = self._cx
                self._hy0 = self._cy

    def _contact_ms(self, j):
        # impact: largest |acc| deviation in the look-back before stance onset
        # (the latest if several clip the energy); contact: the quietest
        # rotation before it (the foot meets the ground). The impact sample
        # itself is left out: a sprint's forefoot slap ends the roll, so its
        # own rotation is near zero although touchdown was ~35 ms earlier.
        m = self._mask
        ring = self._ring
        best = -1
        bi = j
        k = j
        for _ in range(self._back):
            e = ring[k * _RF + _REA]
            if e > best:
                best = e
                bi = k
            k = (k - 1) & m
        low = self._st[_S_W2] == 1
        if low or (best >= _E_CLAMP and best - _least(ring, m, bi, self._rise, _REA) < best >> 2):
            # below ~176 Hz an impact of 10-16 ms is one or two samples, its
            # sampled height a matter of phase, and the smooth deceleration of
            # late swing can stand higher: the impact is the sharpest rise over
            # _IC_RISE_MS, if it comes after the highest sample or less than
            # _IC_BACK_MS before it (the same landing). A sharper rise further
            # before is a slow walk's heel strike, found from its slap below.
            # At any rate, a highest sample on the energy clamp (~8 g) that
            # rose by less than a quarter within _IC_RISE_MS is no impact but a
            # running swing's late deceleration (a walk's never reaches 8 g),
            # before a softer landing (a sprint turning into a jog): the impact
            # is then the sharpest rise after it, if it rose by a quarter of
            # that height (with none, the highest sample stays the impact)
            # (issue #19, sixteenth pass)
            top = -1
            ri = j
            k = j
            for _ in range(self._back):
                e = ring[k * _RF + _REA]
                f = e - min(e, _least(ring, m, k, self._rise, _REA))
                if f > top:
                    top = f
                    ri = k
                k = (k - 1) & m
            after = ((j - ri) & m) < ((j - bi) & m)
            if (after or ((bi - ri) & m) < self._ic_back) if low else (after and top >= best >> 2):
                bi = ri
                best = ring[bi * _RF + _REA]
        self._peak = bi
        # a slow walk lands twice: the heel strike, then the forefoot's slap
        # as the foot rolls flat, 90-170 ms later and often the larger. Contact
        # is the first: the oldest peak of |acc| more than _IC_BACK_MS before
        # the largest (closer is the same landing) to which |acc| rose within
        # _IC_RISE_MS by a quarter of the largest, from a foot turning slower
        # than _HEEL_DPS. Running has no such peak: its look-back before the
        # impact is late swing, turning fast (issue #19, thirteenth pass).
        k = (j - self._heel_back + 1 + self._rise) & m  # its searches stay inside
        lim = best >> 2  # the rise it needs (and so the least peak: a quick test first)
        for _ in range(self._heel_back - self._rise - 2):
            if ((bi - k) & m) <= self._ic_back:
                break
            e = ring[k * _RF + _REA]
            if e >= lim and e >= ring[((k + 1) & m) * _RF + _REA]:
                f = min(e, _least(ring, m, k, self._rise, _REA))
                w = _least(ring, m, k, self._rise, _REG)
                if e - f >= lim and w <= self._heel_w:
                    # the heel meets the ground where |acc| leaves its level
                    # before the rise: the last sample within 1/8 of the rise
                    f += (e - f) >> 3
                    for _ in range(self._rise):
                        k = (k - 1) & m
                        if ring[k * _RF + _REA] <= f:
                            break
                    return ring[k * _RF + _RT]
            k = (k + 1) & m
        best = _E_BIG
        ci = bi
        k = (bi - 1) & m
        for _ in range(self._ic_back):
            e = ring[k * _RF + _REG]
            if e < best:
                best = e
                ci = k
            k = (k - 1) & m
        # a heel strike stops the foot's roll only once the impact has begun: if
        # |acc| still falls before that quietest rotation, the shoe met the ground
        # at the foot of that fall (issue #19, twelfth pass)
        e = _acc2(ring, ci)
        for _ in range(self._ic_valley):
            k = (ci - 1) & m
            f = _acc2(ring, k)
            if f >= e:
                break
            ci = k
            e = f
        return ring[ci * _RF + _RT]

    def _stride_end(self, j):
        st = self._st
        n = st[_S_N]
        k = self._kmm
        vx = st[_S_VX]
        vy = st[_S_VY]
        sx = vx >> 6  # residual velocity, coarse (small ints)
        sy = vy >> 6
        c = st[_S_CLN]
        if c and 2 * st[_S_CL0] >= n and sx * (st[_S_PX] // k) + sy * (st[_S_PY] // k) > 0:
            # the landing clipped (late in the stride) and the foot ends it still
            # moving forward: the deceleration the sensor lost there is the
            # velocity error, so it arises at those samples, not linearly over
            # the whole stride (docs/accuracy-record.md, issue #19 tenth pass). The
            # error of sample i is v * (clipped samples up to i) / c; summed:
            # v * sum over the clipped samples m of (n + 1 - m) / c
            t = (n + 1) * c - st[_S_CLS]
            q = t // c
            rem = t - q * c
            px = st[_S_PX] - vx * q - vx * rem // c
            py = st[_S_PY] - vy * q - vy * rem // c
        else:
            # ZUPT: velocity error linear since the origin -> exact position fix
            px = st[_S_PX] - vx * (n + 1) // 2
            py = st[_S_PY] - vy * (n + 1) // 2
        xm = px // k
        ym = py // k
        length = isqrt(xm * xm + ym * ym)
        if length < _MIN_STRIDE_MM:
            return False  # a pivot or shuffle in place: the same stance goes on
        ic = self._cand_ic
        flags = self._pending
        # residual velocity in cm/s: v[mg*samples] * 9.80665e-3 * 100 / rate
        vres = (isqrt(sx * sx + sy * sy) << 6) * 98 // (self.rate_hz * 100)
        if self._tilt > _LOWQ_TILT_MRAD or vres > _LOWQ_VEL_MPS100 or length > _MAX_STRIDE_MM:
            flags |= F_LOW_QUALITY
        self._col(self._hax, st[_S_Q0] - _B, st[_S_Q1] - _B, st[_S_Q2] - _B, st[_S_Q3] - _B)
        hx = self._cx
        hy = self._cy
        cs = hx * self._hx0 + hy * self._hy0
        sn = hx * self._hy0 - hy * self._hx0
        if sn < 0:
            sn = -sn
        if sn * _TURN_COS_SIN > cs:
            flags |= F_TURN
        done = False
        if self._ic_ms >= 0:
            self.t_contact_ms = ic
            self.stride_ms = (ic - self._ic_ms) & _TMASK
            c = (self._to_ms - self._ic_ms) & _TMASK
            self.contact_ms = c if c < _THALF else 0
            self.length_mm = length
            self.flags = flags
            done = True
        self._pending = 0
        self._ic_ms = ic
        self._enter_stance()
        return done
