# Gait engine: one foot-mounted 6-axis IMU in, one record per stride out.
#
# API (the host simulator, the pod main loop and the evaluation tools use it):
#   eng = GaitEngine(rate_hz, acc_range_g, gyro_range_dps)
#     rate_hz: nominal sample rate (20..2000); the ranges are the sensor's
#     full scale, used to detect clipped samples. The constructor allocates.
#   done = eng.push(t_ms, ax, ay, az, gx, gy, gz)
#     INTEGER inputs only: t_ms device time in ms (monotonic, keep < 2**30;
#     the engine only uses differences), acc in mg (1 g = 1000), gyro in
#     0.1 deg/s (2000 dps = 20000), in the sensor frame, any mounting.
#     Returns True when a stride has just been completed. The stride is then
#     readable from eng.t_contact_ms, eng.stride_ms, eng.contact_ms,
#     eng.length_mm, eng.flags (F_* bits of stridepod.proto).
#   A stride runs from one foot contact to the next contact of the SAME foot,
#   so cadence in steps/min for a one-foot pod is 2 * 60000 / stride_ms.
#   Output lags the input by LOOKAHEAD_MS (centred stance window, look-ahead
#   for bridging clipped gyro plateaus).
#
# Method (all per-sample work is small-int arithmetic, nothing allocated):
#   - stance (zero velocity) when, over a short centred window, the gyro
#     energy and the deviation of |acc|^2 from 1 g^2 are both small (SHOE-like
#     detector on norms: orientation agnostic);
#   - attitude: Q14 quaternion integrated from gyro increments (error-feedback
#     rounding so slow rates are not lost), levelled during every stance from
#     the mean specific force (tilt only; yaw is free, which stride length in
#     the horizontal plane does not need);
#   - swing: specific force rotated into the navigation frame, horizontal
#     velocity and position integrated as ints; at the next stance the
#     velocity error is taken as linear over the swing (ZUPT) and the
#     position corrected exactly: p - v_end * (n + 1) / 2;
#   - clipped gyro plateaus are bridged with a parabola fitted to the slopes
#     entering and leaving the plateau (seen through the look-ahead);
#   - contact = largest |acc| deviation shortly before stance is detected
#     (the impact), toe-off = end of stance plus a short push-off offset.
import array

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from stridepod.proto import F_ACC_SAT, F_FIRST, F_GAP, F_GYR_SAT, F_LOW_QUALITY, F_TURN

# --- tunables (each with unit and reason) ---------------------------------
WINDOW_MS = const(30)  # ms; stance window: shorter than a running foot-flat (~60 ms)
LOOKAHEAD_MS = const(80)  # ms; delay line: half window + longest gyro plateau bridged
LOOKBACK_MS = const(160)  # ms; how far before stance onset the impact is searched
GYR_STANCE_DPS = const(70)  # deg/s; RMS rotation rate below which the foot may be still
ACC_STANCE_MG = const(450)  # mg; mean | |a| - 1 g | below which the foot may be still
MIN_SWING_MS = const(200)  # ms; shorter swings are stance chatter or shuffles, not strides
MAX_SWING_MS = const(1600)  # ms; longer "swings" are not gait: drop, do not integrate on
REST_MS = const(2000)  # ms; a stance this long means the athlete stopped (F_FIRST next)
HOLD_MS = const(1000)  # ms; in a longer stance the origin follows the latest still sample
TILT_BLOCK = const(8)  # samples; levelling applied every this many stance samples
RELEVEL_MRAD = const(20)  # mrad; while levelling after start-up, the stride origin waits
TO_OFFSET_MS = const(40)  # ms; toe-off after the end of stillness when no push-off peak is seen
TO_MAX_MS = const(400)  # ms; the push-off peak is searched this long after stillness ends
TO_MIN_DPS = const(150)  # deg/s; a push-off rotation peak is at least this fast
TO_DROP16 = const(9)  # /16 of the peak energy (= 3/4 of the rate): the toe has left
IC_BACK_MS = const(60)  # ms; the heel meets the ground this shortly before the impact peak
GAP_FILL_MAX = const(4)  # samples; gaps up to this are bridged by holding the sample
SAT_PERMILLE = const(985)  # 1/1000 of full scale; at or above this a sample is clipped
LOWQ_TILT_MRAD = const(300)  # mrad; a bigger levelling jump (17 deg) means attitude was poor
LOWQ_VEL_MPS100 = const(250)  # cm/s; a bigger ZUPT velocity residual means a poor stride
TURN_COS_SIN = const(1)  # |sin|*1 > cos  <=>  heading change > 45 deg (F_TURN)
MIN_STRIDE_MM = const(250)  # mm; a shorter "stride" is a pivot or shuffle in a stance
MAX_STRIDE_MM = const(6000)  # mm; longer integrated strides are reported low quality

# --- fixed-point formats --------------------------------------------------
_Q = const(14)  # quaternion Q14
_ONE = const(16384)
_HALF = const(8192)
_RQ = const(13)  # rotation matrix Q13 (keeps R * acc < 2**30 for 32 g)
_ACC_CLAMP = const(32767)  # mg, input clamp so products stay small ints
_GYR_CLAMP = const(32767)  # 0.1 dps
_E_CLAMP = const(1 << 22)  # per-sample energy clamp (window sums stay < 2**29)
_E_BIG = const(1 << 30)  # larger than any window energy
_G2 = const(62500)  # (1 g in 4 mg units)^2

_ST_WAIT = const(0)  # no stance seen yet: nothing integrated
_ST_STANCE = const(1)
_ST_SWING = const(2)


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


def _pow2_at_least(n):
    p = 1
    while p < n:
        p <<= 1
    return p


class GaitEngine:
    def __init__(self, rate_hz, acc_range_g=16, gyro_range_dps=2000):
        if not 20 <= rate_hz <= 2000:
            raise ValueError("rate_hz must be 20..2000")
        if not 2 <= acc_range_g <= 32 or not 125 <= gyro_range_dps <= 4000:
            raise ValueError("acc_range_g 2..32, gyro_range_dps 125..4000")
        self.rate_hz = rate_hz
        r = rate_hz
        self._period_ms = 1000 // r if 1000 % r == 0 else 1000 // r + 1
        w = max(3, (WINDOW_MS * r + 500) // 1000) | 1  # odd, centred
        self._w = w
        self._d = max(w // 2 + 2, (LOOKAHEAD_MS * r + 999) // 1000)
        self._back = (LOOKBACK_MS * r + 999) // 1000
        n = _pow2_at_least(self._d + self._back + 2)
        self._mask = n - 1
        self._t = array.array("i", [0] * n)
        self._ax = array.array("i", [0] * n)
        self._ay = array.array("i", [0] * n)
        self._az = array.array("i", [0] * n)
        self._gx = array.array("i", [0] * n)
        self._gy = array.array("i", [0] * n)
        self._gz = array.array("i", [0] * n)
        self._ea = array.array("i", [0] * n)
        self._eg = array.array("i", [0] * n)
        self._wg = array.array("i", [0] * n)  # window gyro energy, at the window centre
        self._bits = bytearray(n)  # 1,2,4: gyro x,y,z clipped; 8: acc clipped; 16: still
        # thresholds as window sums of the per-sample energies
        g4 = GYR_STANCE_DPS * 10 >> 2  # in 0.4 dps
        self._thr_g = w * g4 * g4
        # | |a|^2 - g^2 | in (4 mg)^2: 2 * g * dev (first order)
        self._thr_a = w * 2 * 250 * (ACC_STANCE_MG >> 2)
        self._acc_sat = acc_range_g * SAT_PERMILLE
        self._gyr_sat = gyro_range_dps * SAT_PERMILLE // 100
        # gyro 0.1 dps -> half-angle increment in Q14 per sample, scaled by 2**16:
        # h = w * 0.1 * pi / 180 / 2 / rate * 2**14
        self._kg = (16384 * 65536 * 314159 // 100000 // 3600 + r // 2) // r
        # position units mg*sample^2 per mm: 1 / (9.80665e-3 m/s^2 * dt^2 * 1000)
        self._kmm = (r * r * 100000 + 490332) // 980665
        self._min_swing = MIN_SWING_MS * r // 1000
        self._max_swing = MAX_SWING_MS * r // 1000
        self._rest = REST_MS * r // 1000
        self._hold = HOLD_MS * r // 1000
        self._to_off = TO_OFFSET_MS
        self._to_max = TO_MAX_MS * r // 1000
        g4 = TO_MIN_DPS * 10 >> 2
        self._to_min = g4 * g4
        self._ic_back = (IC_BACK_MS * r + 999) // 1000
        self._min_stride_gap = self._min_swing
        self.t_contact_ms = 0
        self.stride_ms = 0
        self.contact_ms = 0
        self.length_mm = 0
        self.flags = 0
        self.reset()

    def reset(self):
        # forget motion state (kept: configuration and buffers)
        self._head = 0  # samples written so far
        self._last_t = 0
        self._sum_a = 0
        self._sum_g = 0
        self._q0 = _ONE
        self._q1 = 0
        self._q2 = 0
        self._q3 = 0
        self._rx = 0  # error-feedback remainders of the gyro increments
        self._ry = 0
        self._rz = 0
        self._state = _ST_WAIT
        self._n = 0  # samples in this swing / stance
        self._vx = 0
        self._vy = 0
        self._px = 0
        self._py = 0
        self._fx = 0  # stance sums of nav-frame specific force
        self._fy = 0
        self._fz = 0
        self._fn = 0
        self._pending = F_FIRST  # flags gathered for the stride in progress
        self._ic_ms = -1  # contact of the stance the stride starts from
        self._to_ms = 0
        self._tilt = 0  # last levelling angle, mrad
        self._hx0 = 0  # horizontal reference axis at toe-off (Q13)
        self._hy0 = 0
        self._hax = 0
        self._oq0 = _ONE
        self._oq1 = 0
        self._oq2 = 0
        self._oq3 = 0
        self._cx = 0
        self._cy = 0
        self._nsw = 0
        self._nst = 0
        self._emin = _E_BIG
        self._fresh = True
        self._to_open = False
        self._to_pk = 0
        self._to_i = 0
        self._plat0 = array.array("i", [0, 0, 0])  # plateau start per gyro axis

    # ---------------------------------------------------------------- input
    def push(self, t_ms, ax, ay, az, gx, gy, gz):
        if self._head:
            dt = t_ms - self._last_t
            p = self._period_ms
            if dt <= 0:
                self._pending |= F_GAP  # duplicate or out of order: drop it
                return False
            if dt > (p * 5) >> 1:
                self._pending |= F_GAP
                miss = dt // p - 1
                if miss > GAP_FILL_MAX:
                    self._abort(F_GAP)
                else:
                    done = False
                    while miss > 0:
                        done = self._put(t_ms - miss * p, ax, ay, az, gx, gy, gz) or done
                        miss -= 1
                    return self._put(t_ms, ax, ay, az, gx, gy, gz) or done
        return self._put(t_ms, ax, ay, az, gx, gy, gz)

    def _abort(self, why):
        # a long gap, or a swing too long for gait: drop the stride in progress
        if self._state == _ST_SWING:
            self._state = _ST_WAIT
        self._pending |= why | F_FIRST

    def _put(self, t_ms, ax, ay, az, gx, gy, gz):
        self._last_t = t_ms
        m = self._mask
        h = self._head
        i = h & m
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
        self._t[i] = t_ms
        self._ax[i] = ax
        self._ay[i] = ay
        self._az[i] = az
        self._gx[i] = gx
        self._gy[i] = gy
        self._gz[i] = gz
        bits = 0
        s = self._gyr_sat
        if gx >= s or gx <= -s:
            bits = 1
        if gy >= s or gy <= -s:
            bits |= 2
        if gz >= s or gz <= -s:
            bits |= 4
        s = self._acc_sat
        if ax >= s or ax <= -s or ay >= s or ay <= -s or az >= s or az <= -s:
            bits |= 8
        # per-sample stance energies (4 mg and 0.4 dps units keep squares small)
        a = (ax >> 2) * (ax >> 2) + (ay >> 2) * (ay >> 2) + (az >> 2) * (az >> 2) - _G2
        if a < 0:
            a = -a
        if a > _E_CLAMP:
            a = _E_CLAMP
        g = (gx >> 2) * (gx >> 2) + (gy >> 2) * (gy >> 2) + (gz >> 2) * (gz >> 2)
        if g > _E_CLAMP:
            g = _E_CLAMP
        self._ea[i] = a
        self._eg[i] = g
        w = self._w
        k = (h - w) & m
        if h >= w:
            sa = self._sum_a + a - self._ea[k]
            sg = self._sum_g + g - self._eg[k]
        else:
            sa = self._sum_a + a
            sg = self._sum_g + g
        self._sum_a = sa
        self._sum_g = sg
        self._bits[i] = bits
        h += 1
        self._head = h
        # stillness verdict for the window centre
        if h >= w:
            c = (h - 1 - (w >> 1)) & m
            self._wg[c] = sg
            if sa < self._thr_a and sg < self._thr_g:
                self._bits[c] |= 16
        d = self._d
        if h <= d + 1:
            return False
        return self._step((h - 1 - d) & m)

    # ------------------------------------------------------- delayed sample
    def _step(self, j):
        bits = self._bits[j]
        gx = self._gx[j]
        gy = self._gy[j]
        gz = self._gz[j]
        if bits & 15:
            if bits & 7:
                self._pending |= F_GYR_SAT
                if bits & 1:
                    gx = self._bridge(self._gx, j, 0, 1)
                if bits & 2:
                    gy = self._bridge(self._gy, j, 1, 2)
                if bits & 4:
                    gz = self._bridge(self._gz, j, 2, 4)
            if bits & 8:
                self._pending |= F_ACC_SAT
        # attitude: q <- q * (c, hx, hy, hz), error-feedback rounding
        kg = self._kg
        t = gx * kg + self._rx
        hx = t >> 16
        self._rx = t - (hx << 16)
        t = gy * kg + self._ry
        hy = t >> 16
        self._ry = t - (hy << 16)
        t = gz * kg + self._rz
        hz = t >> 16
        self._rz = t - (hz << 16)
        hc = _ONE - ((hx * hx + hy * hy + hz * hz) >> 15)
        q0 = self._q0
        q1 = self._q1
        q2 = self._q2
        q3 = self._q3
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
        self._q0 = w
        self._q1 = x
        self._q2 = y
        self._q3 = z
        ax = self._ax[j]
        ay = self._ay[j]
        az = self._az[j]
        # rows 0 and 1 of the body->navigation rotation (Q13)
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
        fx >>= _RQ
        fy >>= _RQ
        st = self._state
        if st == _ST_WAIT:
            if not bits & 16:
                return False
            self._state = st = _ST_STANCE
            self._ic_ms = self._t[j]
            self._fresh = True
            self._enter_stance()
        # horizontal velocity and position since the origin (stillest sample)
        vx = self._vx + fx
        vy = self._vy + fy
        self._vx = vx
        self._vy = vy
        self._px += vx
        self._py += vy
        self._n += 1
        done = False
        if st == _ST_SWING:
            if not bits & 16:
                self._nsw += 1
                if self._to_open:
                    self._track_toe_off(j)
                if self._nsw > self._max_swing:
                    self._abort(0)
                return False
            self._state = _ST_STANCE
            if self._nsw >= self._min_swing:
                done = self._stride_end(j)
            # else: stance chatter, the same stance goes on
        fz = ((xz - wy) >> 14) * ax + ((yz + wx) >> 14) * ay + ((ww - xx - yy + zz) >> 15) * az
        fz >>= _RQ
        if bits & 16:
            self._fx += fx
            self._fy += fy
            self._fz += fz
            self._fn += 1
            self._nst += 1
            e = self._wg[j]
            if self._fn >= TILT_BLOCK:
                self._level()
                if self._fresh and self._tilt > RELEVEL_MRAD:
                    self._emin = _E_BIG  # still levelling after start-up: origin later
            if e < self._emin or self._nst > self._hold:
                # stiller than any sample of this stance so far (or standing for
                # a while: the latest still sample): new origin
                self._emin = e
                self._oq0 = self._q0  # attitude at the origin (turn reference)
                self._oq1 = self._q1
                self._oq2 = self._q2
                self._oq3 = self._q3
                self._vx = 0
                self._vy = 0
                self._px = 0
                self._py = 0
                self._n = 0
            return done
        # stance over: toe-off
        if self._fn:
            self._level()
        self._to_ms = self._t[j] + self._to_off
        self._to_open = True
        self._to_pk = 0
        if self._nst > self._rest:
            self._pending |= F_FIRST
        self._state = _ST_SWING
        self._fresh = False
        self._nsw = 0
        self._ref_axis()
        return done

    def _track_toe_off(self, j):
        # toe-off: the push-off rotation peaks, then collapses as the toe leaves
        e = self._eg[j]
        if e > self._to_pk:
            self._to_pk = e
            self._to_i = j
        elif e * 16 < self._to_pk * TO_DROP16 and self._to_pk > self._to_min:
            self._to_ms = self._t[self._to_i]
            self._to_open = False
        if self._nsw > self._to_max:
            self._to_open = False

    def _enter_stance(self):
        self._emin = _E_BIG
        self._nst = 0
        self._fn = 0
        self._fx = 0
        self._fy = 0
        self._fz = 0

    # ------------------------------------------------ per-stance / per-stride
    def _bridge(self, g, j, a, bit):
        # replace a clipped gyro sample with a parabola over its plateau
        m = self._mask
        bits = self._bits
        if not bits[(j - 1) & m] & bit:
            self._plat0[a] = j
        p0 = self._plat0[a]
        u = (j - p0) & m
        # plateau end within the look-ahead
        last = (self._head - 1) & m
        p1 = j
        while p1 != last and bits[(p1 + 1) & m] & bit:
            p1 = (p1 + 1) & m
        n = ((p1 - p0) & m) + 1
        v = g[j]
        s_in = v - g[(p0 - 1) & m]
        if s_in < 0:
            s_in = -s_in
        if p1 != last:
            s_out = v - g[(p1 + 1) & m]
            if s_out < 0:
                s_out = -s_out
        else:
            s_out = s_in
        e = (s_in + s_out) * (u + 1) * (n - u) // (2 * (n + 1))
        return v + e if v > 0 else v - e

    def _level(self):
        # rotate the attitude so the mean stance specific force points up
        n = self._fn
        fx = self._fx // n
        fy = self._fy // n
        fz = self._fz // n
        self._fx = 0
        self._fy = 0
        self._fz = 0
        self._fn = 0
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
        hc = _ONE - ((hx * hx + hy * hy) >> 15)
        q0 = self._q0
        q1 = self._q1
        q2 = self._q2
        q3 = self._q3
        # q <- (hc, hx, hy, 0) * q   (rotation applied in the navigation frame)
        w = (hc * q0 - hx * q1 - hy * q2 + _HALF) >> _Q
        x = (hc * q1 + hx * q0 + hy * q3 + _HALF) >> _Q
        y = (hc * q2 - hx * q3 + hy * q0 + _HALF) >> _Q
        z = (hc * q3 + hx * q2 - hy * q1 + _HALF) >> _Q
        s = (3 * (1 << 28) - (w * w + x * x + y * y + z * z)) >> 15
        self._q0 = (w * s + _HALF) >> _Q
        self._q1 = (x * s + _HALF) >> _Q
        self._q2 = (y * s + _HALF) >> _Q
        self._q3 = (z * s + _HALF) >> _Q

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
        best = -1
        for k in (0, 1, 2):
            self._col(k, self._oq0, self._oq1, self._oq2, self._oq3)
            e = self._cx * self._cx + self._cy * self._cy
            if e > best:
                best = e
                self._hax = k
                self._hx0 = self._cx
                self._hy0 = self._cy

    def _contact_ms(self, j):
        # impact: largest |acc| deviation in the look-back before stance onset;
        # contact: the quietest rotation just before it (heel meets the ground)
        m = self._mask
        best = -1
        bi = j
        k = j
        for _ in range(self._back):
            e = self._ea[k]
            if e > best:
                best = e
                bi = k
            k = (k - 1) & m
        best = _E_BIG
        ci = bi
        k = bi
        for _ in range(self._ic_back):
            e = self._eg[k]
            if e < best:
                best = e
                ci = k
            k = (k - 1) & m
        return self._t[ci]

    def _stride_end(self, j):
        n = self._n
        # ZUPT: velocity error linear over the swing -> exact position fix
        px = self._px - self._vx * (n + 1) // 2
        py = self._py - self._vy * (n + 1) // 2
        k = self._kmm
        xm = px // k
        ym = py // k
        length = isqrt(xm * xm + ym * ym)
        if length < MIN_STRIDE_MM:
            return False  # a pivot or shuffle in place: the same stance goes on
        ic = self._contact_ms(j)
        flags = self._pending
        # residual velocity in cm/s: v[mg*samples] * 9.80665e-3 * 100 / rate
        vx = self._vx >> 6
        vy = self._vy >> 6
        vres = (isqrt(vx * vx + vy * vy) << 6) * 98 // (self.rate_hz * 100)
        if self._tilt > LOWQ_TILT_MRAD or vres > LOWQ_VEL_MPS100 or length > MAX_STRIDE_MM:
            flags |= F_LOW_QUALITY
        self._col(self._hax, self._q0, self._q1, self._q2, self._q3)
        hx = self._cx
        hy = self._cy
        cs = hx * self._hx0 + hy * self._hy0
        sn = hx * self._hy0 - hy * self._hx0
        if sn < 0:
            sn = -sn
        if sn * TURN_COS_SIN > cs:
            flags |= F_TURN
        done = False
        if self._ic_ms >= 0:
            self.t_contact_ms = self._ic_ms
            self.stride_ms = ic - self._ic_ms
            c = self._to_ms - self._ic_ms
            self.contact_ms = c if c > 0 else 0
            self.length_mm = length
            self.flags = flags
            done = True
        self._pending = 0
        self._ic_ms = ic
        self._enter_stance()
        return done
