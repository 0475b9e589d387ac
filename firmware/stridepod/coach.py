# On-pod training cues for 400 m / cadence reps (docs/training.md), driven per
# stride; pure: no hardware, no imports beyond const. Three small state machines:
#
# - RhythmPacer: ticks the target cadence (a short pulse every N steps) until the
#   athlete has matched it for K strides in a row, then stays quiet; it comes back
#   when L strides in a row are off the target again.
# - SplitBuzz: at each 100 m of the pod's own distance (times the athlete's scale)
#   one pulse if on plan, two if behind it.
# - ShortGuard: a one-sided CUSUM on stride length against the rep's own baseline
#   (learnt from 60 to 180 m); in a 400 m rep from 200 m on its threshold drops
#   (more sensitive: earlier cue for the last-200 m fade, more false alarms).
#
# A stride the engine flags as untrusted still covers ground (rep detection, splits)
# but its length does not move the guard, and a GAP or FIRST stride's time does not
# move the pacer.
#
# Everything is integer: ms, mm, permille (1000 = 1). No allocation per stride (the
# unix port checks it with the heap locked): small ints only, as fallback.py.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# what on_stride returns (the app maps these to haptics patterns)
CUE_NONE = const(0)
CUE_SPLIT_ON = const(1)  # one pulse
CUE_SPLIT_BEHIND = const(2)  # two pulses
CUE_SHORT = const(3)  # stride shortening in the guard

# Coach.state() bits: byte 17 of the status record (docs/protocol.md, proto.CS_*)
_CS_ACTIVE = const(1)  # a coach runs in this session
_CS_PACING = const(2)  # the pacer ticks now (clear with a pacer: rhythm held, quiet)
_CS_REP = const(4)  # in a rep (the pod's own rep detection)
_CS_BEHIND = const(8)  # the last split of this rep was behind the plan
_CS_PACER = const(16)  # a pacer is set
_CS_PLAN = const(32)  # a split plan is set

_SPLIT_MM = const(100000)
_HALF_MM = const(200000)
_BASE_FROM_MM = const(60000)
_BASE_TO_MM = const(180000)
_RUN_MIN_MM_PER_S = const(3200)  # running, not jogging: 3.2 m/s, as the host
_RUN_CONFIRM = const(3)
_STOP_CONFIRM = const(3)
# strides the gait engine cannot vouch for (proto.F_*; tests check they match), as the
# host treats them (docs/detection.md, "Strides the pod cannot trust"): their length
# covers ground but is not judged (LOW_QUALITY | GAP | TURN), their time is not
# paced (GAP | FIRST)
LENGTH_DOUBT = const(0x0054)
TIME_DOUBT = const(0x0030)


class RhythmPacer:
    # target_spm: steps/min; every_steps: a pulse every N steps while pacing;
    # match_strides K; lose_strides L; tol_permille: within this of the target stride
    # time counts as matched (20 = 2 %)
    def __init__(self, target_spm, every_steps=4, match_strides=8, lose_strides=6,
                 tol_permille=20):  # fmt: skip
        self.stride_ms = 120000 // target_spm
        self.period_ms = 60000 * every_steps // target_spm
        self.tol_ms = self.stride_ms * tol_permille // 1000
        self.match_strides = match_strides
        self.lose_strides = lose_strides
        self.pacing = True
        self.run = 0  # strides in a row matched (pacing) or off (quiet)
        self.next_ms = -1  # next pulse (device ms), -1: at the next call

    def on_stride(self, stride_ms):
        # -> True while pacing
        d = stride_ms - self.stride_ms
        ok = -self.tol_ms <= d <= self.tol_ms
        if self.pacing:
            self.run = self.run + 1 if ok else 0
            if self.run >= self.match_strides:
                self.pacing = False
                self.run = 0
        else:
            self.run = 0 if ok else self.run + 1
            if self.run >= self.lose_strides:
                self.pacing = True
                self.run = 0
                self.next_ms = -1
        return self.pacing

    def tick_due(self, now_ms):
        # call often (every haptics step): True when a pacing pulse is due now
        if not self.pacing:
            return False
        if self.next_ms < 0:
            self.next_ms = now_ms
        if now_ms - self.next_ms >= 0:
            self.next_ms += self.period_ms
            return True
        return False


class SplitBuzz:
    # plan_ms: planned elapsed ms at 100 m, 200 m, ... (a tuple; () = no plan: one
    # pulse at each 100 m); tol_ms: this late still counts as on plan
    def __init__(self, scale_permille=1000, plan_ms=(), tol_ms=200):
        self.scale = scale_permille
        self.plan_ms = plan_ms
        self.tol_ms = tol_ms
        self.start(0)

    def start(self, t0_ms):
        self.t0_ms = t0_ms
        self.mm = 0
        self.next_mm = _SPLIT_MM
        self.k = 0
        self.last_ms = 0  # elapsed ms at the last split (for tests and the app)

    def on_stride(self, t_ms, stride_ms, length_mm):
        # -> CUE_NONE, CUE_SPLIT_ON or CUE_SPLIT_BEHIND
        step = length_mm * self.scale // 1000
        before = self.mm
        self.mm = before + step
        if self.mm < self.next_mm or step <= 0:
            return CUE_NONE
        # crossing time, interpolated inside the stride (as the host does)
        t_cross = t_ms - stride_ms * (self.mm - self.next_mm) // step
        elapsed = t_cross - self.t0_ms
        self.last_ms = elapsed
        k = self.k
        self.k = k + 1
        self.next_mm += _SPLIT_MM
        plan = self.plan_ms
        if k < len(plan) and elapsed > plan[k] + self.tol_ms:
            return CUE_SPLIT_BEHIND
        return CUE_SPLIT_ON


class ShortGuard:
    # k_permille: allowance per stride; h_permille: threshold before 200 m (or in a
    # rep other than 400 m); guard_h_permille: threshold from 200 m in a 400 m rep;
    # refractory: strides after a cue before the next can come
    def __init__(self, rep_mm=400000, k_permille=25, h_permille=150,
                 guard_h_permille=80, refractory=12):  # fmt: skip
        self.rep_mm = rep_mm
        self.k = k_permille
        self.h = h_permille
        self.guard_h = guard_h_permille
        self.refractory = refractory
        self.start()

    def start(self):
        self.sum_mm = 0
        self.n = 0
        self.base_mm = 0
        self.s = 0
        self.hold = 0
        self.cues = 0

    def on_stride(self, at_mm, length_mm):
        # at_mm: the rep's distance after this stride; -> CUE_NONE or CUE_SHORT
        if self.base_mm == 0:
            if _BASE_FROM_MM <= at_mm <= _BASE_TO_MM:
                self.sum_mm += length_mm
                self.n += 1
            elif at_mm > _BASE_TO_MM and self.n:
                self.base_mm = self.sum_mm // self.n
            return CUE_NONE
        if self.hold:
            self.hold -= 1
            return CUE_NONE
        dev = (self.base_mm - length_mm) * 1000 // self.base_mm  # + = shorter
        s = self.s + dev - self.k
        self.s = s if s > 0 else 0
        h = self.h
        if self.rep_mm == 400000 and at_mm >= _HALF_MM:
            h = self.guard_h
        if self.s >= h:
            self.s = 0
            self.hold = self.refractory
            self.cues += 1
            return CUE_SHORT
        return CUE_NONE


class Coach:
    # the three together, with the pod's own rep detection (3 strides faster than
    # 3.2 m/s start a rep at the first one's start; 3 slower end it). on_stride ->
    # (split cue, shortening cue) codes; pacer.tick_due(now) for the pacing pulses;
    # state() -> the coach bits of the status record.
    # every_steps: the pacer's pulse period; splits / guard False: those cues are
    # never returned (the distance is still counted: the guard needs it).
    def __init__(self, target_spm=0, scale_permille=1000, plan_ms=(), rep_mm=400000,
                 every_steps=4, splits=True, guard=True):  # fmt: skip
        self.pacer = RhythmPacer(target_spm, every_steps) if target_spm else None
        self.split = SplitBuzz(scale_permille, plan_ms)
        self.guard = ShortGuard(rep_mm)
        self.splits = splits
        self.guarding = guard
        self.scale = scale_permille
        self.running = False
        self.streak = 0
        self.first_ms = 0  # start of the first confirming stride
        self.pending_mm = 0  # scaled length of the confirming strides before the rep
        self.behind = False  # the last split of this rep was behind the plan

    def state(self):
        # -> the _CS_* bits (a small int: nothing allocated)
        st = _CS_ACTIVE
        p = self.pacer
        if p is not None:
            st |= _CS_PACER
            if p.pacing:
                st |= _CS_PACING
        if self.running:
            st |= _CS_REP
            if self.behind:
                st |= _CS_BEHIND
        if self.split.plan_ms:
            st |= _CS_PLAN
        return st

    def _judged(self, cue):
        # note what a split said (the state's BEHIND bit), pass the cue on
        if cue == CUE_SPLIT_BEHIND:
            self.behind = True
        elif cue == CUE_SPLIT_ON:
            self.behind = False
        return cue

    def on_stride(self, t_ms, stride_ms, length_mm, flags=0):
        if self.pacer is not None and not flags & TIME_DOUBT:
            self.pacer.on_stride(stride_ms)
        trusted = not flags & LENGTH_DOUBT
        fast = stride_ms > 0 and length_mm * 1000 >= _RUN_MIN_MM_PER_S * stride_ms
        if not self.running:
            if not fast:
                self.streak = 0
                return CUE_NONE
            if self.streak == 0:
                self.first_ms = t_ms - stride_ms
            self.streak += 1
            split = self.split
            if self.streak == 1:
                split.start(self.first_ms)
                self.guard.start()
                self.behind = False
            cue = self._judged(split.on_stride(t_ms, stride_ms, length_mm))
            if trusted:
                self.guard.on_stride(split.mm, length_mm)
            if self.streak >= _RUN_CONFIRM:
                self.running = True
                self.streak = 0
            return cue if self.splits else CUE_NONE
        if fast:
            self.streak = 0
        else:
            self.streak += 1
            if self.streak >= _STOP_CONFIRM:
                self.running = False
                self.streak = 0
                return CUE_NONE
        cue = self._judged(self.split.on_stride(t_ms, stride_ms, length_mm))
        short = self.guard.on_stride(self.split.mm, length_mm) if trusted else CUE_NONE
        if cue and self.splits:
            return cue
        return short if self.guarding else CUE_NONE
