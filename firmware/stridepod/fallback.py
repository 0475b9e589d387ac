# On-pod cues when no host is connected, from targets a host set once
# (SET_CONFIG, kept on flash; `stridecue pod config`). Two alerts, each off by
# default and each with its pattern (CADENCE_PATTERN, SHORTENING_PATTERN):
#   cadence     the cadence stayed outside [FALLBACK_LOW_SPM, FALLBACK_HIGH_SPM]
#               for 4 strides in a row (FALLBACK_CUES)
#   shortening  the mean of the last 6 strides is 6 % shorter than the run's
#               reference: the mean of its strides 3 to 10 after a standing
#               start (FALLBACK_SHORTENING)
# Strides flagged LOW_QUALITY or GAP are skipped, and a TURN stride's length is
# not judged (it is a chord, not a stride); a FIRST stride (from standing)
# starts a new run; one cue at most every 10 s keeps it calm. With a host
# connected the host cues, not the pod. Per stride: integer work, no allocation.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from stridepod.proto import F_FIRST, F_GAP, F_LOW_QUALITY, F_TURN
from stridepod.rt import ticks_diff
from stridepod.service import (
    K_CAD_PAT,
    K_FALLBACK,
    K_FB_HIGH,
    K_FB_LOW,
    K_SHORT_PAT,
    K_SHORTEN,
)

_NEED = const(4)  # consecutive strides outside the band
_REFRACTORY_MS = const(10000)
_INTENSITY = const(80)
_REF_SKIP = const(2)  # strides after a standing start left out of the reference
_REF_N = const(8)  # strides averaged for the run's reference length
_WIN = const(6)  # recent strides compared with the reference
_SHORT_PCT = const(6)  # shorter than the reference by this much: cue


class Fallback:
    def __init__(self, pod):
        self.pod = pod
        self.outside = 0
        self.cues = 0
        self.short_cues = 0  # of cues, those for stride shortening
        self._last = None  # device ms of the last cue
        self._win = [0] * _WIN  # the last stride lengths (mm), a ring
        self._new_run()

    def _new_run(self):
        self._n = 0  # strides of this run (since standing)
        self._ref = 0  # reference length (mm); 0 until known
        self._sum = 0  # of the reference strides, then of the window
        self._i = 0

    def on_stride(self, t_ms, stride_ms, length_mm, flags):
        # -> True when it cued
        pod = self.pod
        if flags & F_FIRST:
            self._new_run()
        if pod.hosts() or flags & (F_LOW_QUALITY | F_FIRST | F_GAP) or stride_ms <= 0:
            self.outside = 0
            return False
        pat = 0
        if pod.get(K_FALLBACK) and self._cadence_off(stride_ms):
            pat = pod.get(K_CAD_PAT)
        shorter = not flags & F_TURN and self._shorter(length_mm) and pod.get(K_SHORTEN)
        if shorter and not pat:
            pat = pod.get(K_SHORT_PAT)
        else:
            shorter = False
        if not pat:
            return False
        if self._last is not None and ticks_diff(t_ms, self._last) < _REFRACTORY_MS:
            return False
        if pod.haptics is None or not pod.haptics.play(pat, _INTENSITY, 1, 0):
            return False
        self._last = t_ms
        self.outside = 0
        self.cues += 1
        if shorter:
            self.short_cues += 1
        return True

    def _cadence_off(self, stride_ms):
        # True once the cadence has been outside the band for _NEED strides
        pod = self.pod
        spm = 120000 // stride_ms
        if pod.get(K_FB_LOW) <= spm <= pod.get(K_FB_HIGH):
            self.outside = 0
            return False
        self.outside += 1
        return self.outside >= _NEED

    def _shorter(self, length_mm):
        # the run's reference, then the mean of the last _WIN strides against it
        self._n += 1
        n = self._n - _REF_SKIP
        if n <= 0:
            return False
        if n <= _REF_N:
            self._sum += length_mm
            if n == _REF_N:
                self._ref = self._sum // _REF_N
                self._sum = 0
            return False
        w = self._win
        self._sum += length_mm - (w[self._i] if n > _REF_N + _WIN else 0)
        w[self._i] = length_mm
        self._i = (self._i + 1) % _WIN
        if n < _REF_N + _WIN:
            return False
        return self._sum * 100 < self._ref * _WIN * (100 - _SHORT_PCT)
