# The pod's asyncio orchestration. Everything comes in as an argument, so the
# same App runs on a board (main.py) and on the unix port (tests, RAM budget,
# the simulation board):
#
#   imu      .start(rate_hz, now_ms) .power_down() .read(now_ms) -> n,
#            .samples (6 int16 per sample, raw counts), .dropped, .state,
#            .left (samples still waiting after that read), .rate_mhz (what the
#            chip really samples at since start) .effective_mhz(rate_hz),
#            .watch() (idle motion check on) .moved() -> True once it moved
#   make_engine(rate_hz) -> a gait engine (push(t_ms, ax..gz) -> True on a stride)
#   pod      service.Pod with its links, store, haptics
#
# Tasks: sampling (the hot path: FIFO -> engine -> pod.on_stride, only while a
# session runs; idle otherwise), follow-up records (backfill pacing), status
# every 10 s, haptics, each link's reader, the watchdog, the pairing button.
#
# Without a host (AUTO_START, on by default): while idle the IMU watches for
# motion (imu.watch(): accelerometer alone, low power) and the sampling task
# asks it every 250 ms; motion that goes on for 1 s (no quiet gap over 1.5 s,
# longer than a walking stance) starts the pod's own session, and REST_STOP_S
# without a stride ends it (service.py: auto_start, auto_stop).
#
# The on-pod coach (coach.py: pacer, split buzz, shortening guard) is made at a
# session's start when its config keys (11-15) ask for it, with the split plan of
# keys 16-21, and only then is its module imported. Every live stride goes to it,
# host connected or not, so its rep distance is right when a host drops mid-rep.
# Which cues play: a pacer tick (one short PULSE) and a split (on plan one PULSE,
# behind plan IDENTIFY, two pulses) always: they are the pod's own, no host has
# them. A shortening (the SHORTENING_PATTERN) only with no host connected: a
# host's analyzer cues stride shortening itself (one buzz, not two).
# What the coach does (pacing, in a rep, behind plan) is the status record's
# coach byte (pod.coach); a change is published as a status notification from
# the sampling task, after the FIFO read (nothing is sent from the stride path).
import asyncio

from stridepod import rt
from stridepod.lsm6dso32 import ACC_UG_PER_LSB, GYRO_MDPS_PER_LSB
from stridepod.proto import PAT_IDENTIFY, PAT_PULSE, PAT_STRIDE
from stridepod.service import (
    K_AUTO,
    K_GUARD,
    K_PACE_EVERY,
    K_PACER,
    K_PLAN_100,
    K_PLAN_600,
    K_RATE,
    K_REST_S,
    K_SCALE,
    K_SHORT_PAT,
    K_SPLIT,
)

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_TICKS_MASK = const(0x3FFFFFFF)  # ms ticks wrap like time.ticks_ms (2**30)
_MAX_READS = const(8)  # FIFO reads per poll (catching up after a stall)
_POLL_MS = const(20)  # FIFO read period in a session (~8 samples at 416 Hz)
_WTM_TIMEOUT_MS = const(100)  # with INT1: longest wait for a watermark
_IDLE_MS = const(250)  # sampling task period when no session runs
_CHECK_MS = const(200)  # idle motion checks at most this often (one per idle wake)
_SUSTAIN_MS = const(1000)  # motion this long starts the pod's own session
_GAP_MS = const(1500)  # a quiet spell longer than this: the motion stopped
_STATUS_MS = const(10000)
_WDT_FEED_MS = const(1000)
_STALL_MS = const(5000)  # no sampling-loop heartbeat for this long: let the WDT bite
_RESYNC_MS = const(40)  # sample clock off the device clock by more: resync
_LONG_PRESS_MS = const(2000)
_FORGET_PRESS_MS = const(8000)  # held this long: every BLE bond is forgotten
PAIRING_MS = const(60000)
_TICK_MS = const(60)  # a pacer tick: one short pulse
_SPLIT_MS = const(250)  # a split on plan: one longer pulse
_CUE_PCT = const(80)
_CUE_SPLIT_ON = const(1)  # coach.CUE_* (not imported: the module loads only when used)
_CUE_SPLIT_BEHIND = const(2)
_CUE_SHORT = const(3)


class App:
    def __init__(self, pod, imu, make_engine, clock_ms=None, wdt=None, button=None):
        self.pod = pod
        self.imu = imu
        self.make_engine = make_engine
        self.clock_ms = clock_ms or rt.ticks_ms
        self.wdt = wdt
        self.button = button  # machine.Pin with pull-up, pressed = 0
        self.engine = None
        self.coach = None  # coach.Coach while a session runs and the config asks for it
        self.coach_cues = 0  # coach cues played (pacer ticks included)
        self._coach_said = False  # the coach byte changed: publish the status
        self.strides = 0
        self.samples = 0
        self.pairing_until = None
        self.ble = None  # a BleLink, for pairing mode and battery level
        self.bonds_path = None  # where BLE bond keys are saved (every 10 s if changed)
        self._t = 0  # device ms of the last sample fed to the engine
        self._frac = 0  # sub-ms remainder of the sample clock (x the chip's rate_mhz)
        self._rate = 0
        self._beat = self.clock_ms()
        self._fresh = True
        self._wake = rt.Flag()
        self._fifo_flag = None  # set by the IMU's INT1 (FIFO watermark), if wired
        self._pressed = None  # device ms the button went down
        self._used = False
        self._moving = False  # idle: motion seen, no quiet gap since _since
        self._since = 0  # device ms motion was first seen
        self._moved_at = 0  # device ms motion was last seen
        self._check_at = self._beat
        self._last_stride = self._beat  # device ms of the newest stride (or session start)
        self._forgot = False
        self.tasks = []
        pod.on_session = self._on_session
        pod.on_wake = self._wake.set
        pod.on_config = self._on_config
        if imu is not None:
            # made now, while the heap is quiet, not at the first START (its
            # buffers are the biggest single allocation the app makes)
            self.engine = make_engine(self._engine_hz(pod.get(K_RATE)))
            self._idle()

    # ---- session start/stop: IMU on/off ----
    def _on_session(self, running):
        if self.imu is None:
            return  # no IMU (WHO_AM_I failed): links and status still work
        if running:
            self._rate = self.pod.get(K_RATE)
            self._last_stride = self.clock_ms()
            self.imu.start(self._rate, self._last_stride)
            # the engine runs at the rate the chip really samples at (its clock's
            # trim, lsm6dso32.effective_mhz), not the nominal one
            hz = self._engine_hz(self._rate)
            if self.engine is None or self.engine.rate_hz != hz:
                self.engine = None
                self.engine = self.make_engine(hz)
            else:
                self.engine.reset()
            self.coach = self._make_coach()
            self.pod.coach = self.coach.state() if self.coach is not None else 0
            self._fresh = True
        else:
            self.coach = None
            self.pod.coach = 0
            self._idle()
        if self.ble is not None:
            self.ble.advertise()  # faster in a session, slower when idle

    def _engine_hz(self, rate):
        # the engine's rate for the nominal `rate`: what the chip really samples at
        return (self.imu.effective_mhz(rate) + 500) // 1000

    def _make_coach(self):
        # -> a coach.Coach when any of its cues is configured, else None
        get = self.pod.get
        spm, split, rep_m = get(K_PACER), get(K_SPLIT), get(K_GUARD)
        if not (spm or split or rep_m):
            return None
        from stridepod.coach import Coach

        return Coach(spm, get(K_SCALE), self._plan(), (rep_m or 400) * 1000,
                     get(K_PACE_EVERY), split == 1, rep_m > 0)  # fmt: skip

    def _plan(self):
        # the split plan's longest strictly increasing non-zero prefix (a tuple of ms)
        plan = []
        last = 0
        for key in range(K_PLAN_100, K_PLAN_600 + 1):
            v = self.pod.get(key)
            if v <= last:
                break
            plan.append(v)
            last = v
        return tuple(plan)

    def _buzz(self, pattern, duration_ms):
        h = self.pod.haptics
        if h is not None and h.play(pattern, _CUE_PCT, 1, duration_ms):
            self.coach_cues += 1

    def _idle(self):
        # no session: the IMU watches for motion, or sleeps when auto start is off
        self._moving = False
        if self.pod.get(K_AUTO):
            self.imu.watch()
        else:
            self.imu.power_down()

    def _on_config(self, key, value):
        if key == K_AUTO and self.imu is not None and not self.pod.running():
            self._idle()

    # ---- the hot path ----
    def poll(self):
        # read the FIFO once and run the engine over it; -> samples handled
        now = self.clock_ms()
        self._beat = now
        if self.imu is None:
            return 0
        if not self.pod.running():
            self._watch(now)
            return 0
        total = 0
        for _ in range(_MAX_READS):
            lost = self.imu.dropped
            n = self.imu.read(now)
            lost = self.imu.dropped - lost
            if n:
                self._feed(n, now, lost)
            total += n
            if n < self.imu.max_samples:
                break
        c = self.coach
        if c is not None and c.pacer is not None and c.pacer.tick_due(now):
            self._buzz(PAT_PULSE, _TICK_MS)
        if self._coach_said:
            self._coach_said = False
            self.pod.publish_status()
        if self.pod.auto_running():
            self._rest(now)
        return total

    def _watch(self, now):
        # idle: one look at the IMU's wake-up latch; motion long enough starts a session
        if not self.pod.get(K_AUTO) or rt.ticks_diff(now, self._check_at) < 0:
            return
        self._check_at = rt.ticks_add(now, _CHECK_MS)
        if not self.imu.moved():
            if rt.ticks_diff(now, self._moved_at) > _GAP_MS:
                self._moving = False
            return
        if not self._moving:
            self._moving = True
            self._since = now
        self._moved_at = now
        if rt.ticks_diff(now, self._since) >= _SUSTAIN_MS:
            self._moving = False
            self.pod.auto_start()

    def _rest(self, now):
        # the pod's own session ends after REST_STOP_S without a stride
        if rt.ticks_diff(now, self._last_stride) >= self.pod.get(K_REST_S) * 1000:
            self.pod.auto_stop()

    def _feed(self, n, now, lost=0):
        rate = self.imu.rate_mhz  # the chip's real rate, mHz: 1000000 / rate ms a sample
        if lost and not self._fresh:
            # the FIFO overwrote that many samples before these: let their time pass
            # for the engine, which then flags the stride GAP (or ends it), instead
            # of joining the two sides into one stride short of them
            self._frac += 1000000 * lost
            step = self._frac // rate
            self._frac -= step * rate
            self._t = (self._t + step) & _TICKS_MASK
        # the newest sample in the FIFO is about `now`; these n are the oldest of
        # n + left (after a stall the FIFO is read in several chunks: each is
        # judged against the whole backlog, not stamped as if it were the newest)
        back = (n + self.imu.left) * 1000000 // rate
        if self._fresh or abs(rt.ticks_diff(now, self._t) - back) > _RESYNC_MS:
            # (re)start the sample clock so the newest sample lands at `now`
            self._t = (now - back) & _TICKS_MASK
            self._frac = 0
            self._fresh = False
        s = self.imu.samples
        eng = self.engine
        if eng is None:
            return
        for i in range(n):
            self._frac += 1000000
            step = self._frac // rate
            self._frac -= step * rate
            self._t = (self._t + step) & _TICKS_MASK
            o = 6 * i
            if eng.push(
                self._t,
                s[o] * ACC_UG_PER_LSB // 1000,  # mg
                s[o + 1] * ACC_UG_PER_LSB // 1000,
                s[o + 2] * ACC_UG_PER_LSB // 1000,
                s[o + 3] * GYRO_MDPS_PER_LSB // 100,  # 0.1 deg/s
                s[o + 4] * GYRO_MDPS_PER_LSB // 100,
                s[o + 5] * GYRO_MDPS_PER_LSB // 100,
            ):
                self._stride(eng)
        self.samples += n

    def _stride(self, eng):
        self.strides += 1
        self._last_stride = self._t
        self.pod.on_stride(
            eng.t_contact_ms, eng.stride_ms, eng.contact_ms, eng.length_mm, eng.flags
        )
        self._coach(eng)

    def _coach(self, eng):
        # one stride to the coach, its cue played, its state noted (allocates nothing)
        c = self.coach
        if c is None or eng.stride_ms <= 0:
            return
        cue = c.on_stride(eng.t_contact_ms, eng.stride_ms, eng.length_mm, eng.flags)
        if cue == _CUE_SPLIT_ON:
            self._buzz(PAT_PULSE, _SPLIT_MS)
        elif cue == _CUE_SPLIT_BEHIND:
            self._buzz(PAT_IDENTIFY, 0)
        elif cue == _CUE_SHORT and not self.pod.hosts():
            self._buzz(self.pod.get(K_SHORT_PAT), 0)
        st = c.state()
        if st != self.pod.coach:
            self.pod.coach = st
            self._coach_said = True

    # ---- tasks ----
    async def sampling(self):
        while True:
            self.poll()
            if not self.pod.running():
                await rt.sleep_ms(_IDLE_MS)
            elif self._fifo_flag is not None:
                # woken by the FIFO watermark (INT1), or by check_button() when
                # an edge was lost (no wait_for: it allocates on every wake)
                await self._fifo_flag.wait()
            else:
                await rt.sleep_ms(_POLL_MS)

    def use_fifo_interrupt(self, pin, rising):
        # INT1 of the IMU rises at the FIFO watermark: the pin IRQ only sets a
        # flag, the sampling task reads the FIFO (fewer wake-ups than polling)
        flag = rt.Flag()
        self._fifo_flag = flag
        pin.irq(handler=lambda p: flag.set(), trigger=rising)

    async def follow_ups(self):
        while True:
            await self._wake.wait()
            while self.pod.pump():
                await rt.sleep_ms(10)

    async def status(self):
        while True:
            if self.ble is not None and self.pod.battery is not None:
                self.ble.set_battery(self.pod.battery())
            if self.ble is not None and self.bonds_path:
                self.ble.save_secrets(self.bonds_path)
            self.pod.publish_status()
            await rt.sleep_ms(_STATUS_MS)

    async def watchdog(self):
        while True:
            self.feed_watchdog()
            await rt.sleep_ms(_WDT_FEED_MS)

    def feed_watchdog(self):
        # feed only while the sampling loop is alive; -> fed
        if rt.ticks_diff(self.clock_ms(), self._beat) < _STALL_MS:
            self.wdt.feed()
            return True
        return False

    async def buttons(self):
        while True:
            self.check_button()
            await rt.sleep_ms(50)

    def check_button(self):
        # a press held for _LONG_PRESS_MS opens one pairing window; held on to
        # _FORGET_PRESS_MS it also forgets every bond
        now = self.clock_ms()
        flag = self._fifo_flag
        if flag is not None and rt.ticks_diff(now, self._beat) >= _WTM_TIMEOUT_MS:
            flag.set()  # no watermark edge for a while: read the FIFO anyway
        if self.button is None:
            pass
        elif self.button.value() == 0:
            if self._pressed is None:
                self._pressed = now
                self._used = self._forgot = False
            elif not self._used and rt.ticks_diff(now, self._pressed) >= _LONG_PRESS_MS:
                self._used = True
                self.set_pairing(True, now)
            elif not self._forgot and rt.ticks_diff(now, self._pressed) >= _FORGET_PRESS_MS:
                self._forgot = True
                self.forget_bonds()
        else:
            self._pressed = None
        self.check_pairing(now)

    def set_pairing(self, on, now=0):
        self.pairing_until = rt.ticks_add(now, PAIRING_MS) if on else None
        if self.ble is not None:
            self.ble.set_pairing(on)
        else:
            self.pod.pairing = on
        if on and self.pod.haptics is not None:
            self.pod.haptics.play(PAT_IDENTIFY, 60, 1, 0)  # "pairing open"

    def forget_bonds(self):
        # every host has to pair again; three long pulses (pairing open: two short)
        if self.ble is not None:
            self.ble.bonds.forget()
        if self.pod.haptics is not None:
            self.pod.haptics.play(PAT_STRIDE, 100, 3, 0)

    def check_pairing(self, now):
        if self.pairing_until is not None and rt.ticks_diff(now, self.pairing_until) >= 0:
            self.set_pairing(False, now)

    def start(self, readers=()):
        # create every task; readers: coroutines of the links (ble.run(), serial.run(r))
        mk = asyncio.create_task
        self.tasks = [mk(self.sampling()), mk(self.follow_ups()), mk(self.status())]
        if self.pod.haptics is not None:
            self.tasks.append(mk(self.pod.haptics.run(rt.Flag())))
        if self.wdt is not None:
            self.tasks.append(mk(self.watchdog()))
        if self.button is not None or self._fifo_flag is not None:
            self.tasks.append(mk(self.buttons()))
        for r in readers:
            self.tasks.append(mk(r))
        return self.tasks
