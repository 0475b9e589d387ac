# Optional on-pod cue (config FALLBACK_CUES, off by default): when no host is
# connected, the pod buzzes RHYTHM by itself once the cadence has stayed
# outside [FALLBACK_LOW_SPM, FALLBACK_HIGH_SPM] for a few strides. Strides
# flagged LOW_QUALITY or FIRST are skipped; a refractory time keeps it calm.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from stridepod.proto import F_FIRST, F_LOW_QUALITY, PAT_RHYTHM
from stridepod.rt import ticks_diff
from stridepod.service import K_FALLBACK, K_FB_HIGH, K_FB_LOW

_NEED = const(4)  # consecutive strides outside the band
_REFRACTORY_MS = const(10000)
_INTENSITY = const(80)
_SKIP = F_LOW_QUALITY | F_FIRST


class Fallback:
    def __init__(self, pod):
        self.pod = pod
        self.outside = 0
        self.cues = 0
        self._last = None  # device ms of the last cue

    def on_stride(self, t_ms, stride_ms, flags):
        # -> True when it cued
        pod = self.pod
        if not pod.get(K_FALLBACK) or pod.hosts() or flags & _SKIP or stride_ms <= 0:
            self.outside = 0
            return False
        spm = 120000 // stride_ms
        if pod.get(K_FB_LOW) <= spm <= pod.get(K_FB_HIGH):
            self.outside = 0
            return False
        self.outside += 1
        if self.outside < _NEED:
            return False
        if self._last is not None and ticks_diff(t_ms, self._last) < _REFRACTORY_MS:
            return False
        if pod.haptics is None or not pod.haptics.play(PAT_RHYTHM, _INTENSITY, 1, 0):
            return False
        self._last = t_ms
        self.outside = 0
        self.cues += 1
        return True
