"""One athlete's streaming analyzer: strides in, events out, same code live and in replay.

Causal and incremental: each stride is looked at once, in arrival order, and only the
strides before it shape the decision. Per stride it validates, tracks rep / recovery,
counts distance and splits, and once the rep has settled and the baseline is learnt it
runs three detectors:

- stride shortening: lower CUSUM on whitened log stride length;
- rhythm loss: two-sided CUSUM on whitened log stride time (drift slower / faster) and a
  variance CUSUM on the same residuals (strides becoming irregular);
- recovery: after an alarm, the stride back within tolerance for a few strides in a row.

The pod's flags say which figures of a stride it cannot vouch for (:mod:`trust`): an
untrusted stride length (a turn, a poor reading, missing samples) still counts in
distance and splits, but it does not teach the length baseline, move the shortening
detector or its whitener, nor raise or clear a shortening alarm; an untrusted stride
time (missing samples, a start from standing) likewise for rhythm. Each rep's summary
counts the strides whose length was not judged (``doubtful_strides``) and the running
strides whose accelerometer clipped (``clipped_strides``: judged, but they may read short).

Distance: every stride length is multiplied by the athlete's calibration
(``distance_scale``) as it arrives, so splits, speed and rep detection see calibrated
metres (the detectors work on ratios, which a constant scale leaves unchanged). With a
told rep distance (``rep_distance_m``) each rep's strides are scaled once more at rep
end so that the rep sums to it; see :meth:`Analyzer._end_rep` for the split events this
adds and docs/training.md for when each split is emitted.

The per-stride path is plain Python arithmetic on floats (no numpy, no allocation when
nothing happens) so a recorded session replays at hundreds of thousands of strides/s.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from stridecue.analysis import halves
from stridecue.analysis.baseline import LogBaseline
from stridecue.analysis.detectors import (
    Ar1Whitener,
    Cusum,
    VarianceCusum,
    WithinTolerance,
    threshold,
)
from stridecue.analysis.noise import Spread
from stridecue.analysis.plan import Plan
from stridecue.analysis.reps import RepDetector, RepStats
from stridecue.analysis.settings import AnalyzerSettings
from stridecue.analysis.splits import SplitTracker
from stridecue.analysis.trust import CLIPPED, CONTACT_DOUBT, LENGTH_DOUBT, TIME_DOUBT
from stridecue.analysis.types import Event, EventKind, StrideIn
from stridecue.analysis.validate import StrideValidator

_NONE: tuple[Event, ...] = ()
_log = math.log
_NAN = math.nan
#: a told rep distance rescales a rep only if it is this close to the measured one
#: (a ratio outside means the detected rep is another rep, not a mismeasured one)
REP_SCALE_RANGE = (0.8, 1.2)


class _RepState:
    """Everything that lives for one rep: baselines, whiteners, detectors, splits.

    ``time_*`` work on log stride time, ``length_*`` on log stride length: the baseline
    (the athlete's usual value this rep), the spread (natural variability, carried from
    rep to rep), the whitener (AR(1) residuals in units of that spread) and the recovery
    check (back within tolerance). Four CUSUMs watch the residuals: slower, faster and
    irregular rhythm, shorter strides; ``*_alarm_on`` holds from an alarm to recovery.
    """

    __slots__ = (
        "baseline_joins",
        "baseline_uncertainty_weight",
        "clipped",
        "doubtful",
        "doubtful_n",
        "drift_design_frac",
        "drift_false_alarm_strides",
        "fast_n",
        "faster_cusum",
        "irregular_cusum",
        "last_log_length",
        "last_log_time",
        "length_baseline",
        "length_recovery",
        "length_spread",
        "length_whitener",
        "log_contact",
        "log_length",
        "log_t",
        "log_time",
        "ready",
        "rhythm_alarm_on",
        "rhythm_detector",
        "shortening_alarm_on",
        "shortening_design_frac",
        "shortening_false_alarm_strides",
        "shorter_cusum",
        "slower_cusum",
        "splits",
        "stats",
        "strides",
        "time_baseline",
        "time_recovery",
        "time_spread",
        "time_whitener",
    )  # fmt: skip

    def __init__(
        self, s: AnalyzerSettings, index: int, t0_s: float, spread: tuple[Spread, Spread]
    ) -> None:
        tt = None if s.target_cadence_spm is None else 120.0 / s.target_cadence_spm
        kw = {
            "window": s.baseline_strides,
            "guard": s.baseline_guard_strides,
            "max_n": s.baseline_max_strides,
        }
        self.time_spread, self.length_spread = spread
        self.time_baseline = LogBaseline(**kw, target=tt, spread=self.time_spread)
        tl = s.target_stride_length_m
        self.length_baseline = LogBaseline(**kw, target=tl, spread=self.length_spread)
        self.baseline_joins = 0
        self.strides = 0
        self.ready = False
        self.rhythm_alarm_on = False
        self.rhythm_detector = ""
        self.shortening_alarm_on = False
        self.stats = RepStats(index, t0_s)
        self.splits = SplitTracker(
            t0_s=t0_s,
            split_m=s.split_m,
            goal_400m_s=s.goal_400m_s,
            plan=plan_of(s),
            scale=s.distance_scale,
        )
        # every stride of the rep (slow ones too), for rep-end scaling and the halves
        self.log_t: list[float] = []
        self.log_time: list[float] = []
        self.log_length: list[float] = []
        self.log_contact: list[float] = []
        self.fast_n = 0  # strides logged up to the last running (not slow) one
        # strides whose length the pod could not vouch for: all logged, up to fast_n
        self.doubtful = 0
        self.doubtful_n = 0
        # running strides (those ``stats`` counts) whose accelerometer clipped
        self.clipped = 0
        # the last trusted log stride time / length, where the whiteners start from
        self.last_log_time = _NAN
        self.last_log_length = _NAN
        tol = s.recovery_tolerance_pct / 100.0
        self.time_recovery = WithinTolerance(lo=-tol, hi=tol, need=s.recovery_strides)
        self.length_recovery = WithinTolerance(lo=-tol, hi=math.inf, need=s.recovery_strides)

    def arm(self, s: AnalyzerSettings, last_log_time: float, last_log_length: float) -> None:
        """Baseline learnt: build the whiteners and detectors for this athlete's spread."""
        if s.goal_sets_stride_length and s.goal_400m_s and s.target_stride_length_m is None:
            # the stride length that holds goal pace at this rhythm: speed x stride time
            self.length_baseline.set_target(
                400.0 / s.goal_400m_s * math.exp(self.time_baseline.mean)
            )
        self.time_spread.refresh()
        self.length_spread.refresh()
        self.time_whitener = Ar1Whitener(phi=self.time_spread.phi, sd=self.time_spread.sd)
        self.length_whitener = Ar1Whitener(phi=self.length_spread.phi, sd=self.length_spread.sd)
        self.time_whitener.prev = last_log_time - self.time_baseline.mean
        self.length_whitener.prev = last_log_length - self.length_baseline.mean
        self.slower_cusum = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.faster_cusum = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.irregular_cusum = VarianceCusum(
            ratio=s.irregular_cv_ratio, h=s.irregular_h, clip=s.clip_sd
        )
        self.shorter_cusum = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.drift_design_frac = s.drift_design_pct / 100.0
        self.shortening_design_frac = s.shortening_design_pct / 100.0
        self.drift_false_alarm_strides = s.drift_false_alarm_strides
        self.shortening_false_alarm_strides = s.shortening_false_alarm_strides
        self.baseline_uncertainty_weight = s.baseline_uncertainty_weight
        self.retune()
        self.ready = True

    def retune(self) -> None:
        """Follow the athlete's learnt spread: rescale residuals and CUSUM allowances.

        While the baseline rests on few strides its own error is part of every deviation,
        so the spread is widened by ``sqrt(1 + c V / n)`` (``V = (1 + phi) / (1 - phi)``,
        the variance of a mean of ``n`` AR(1) strides, relative to one stride's).
        """
        self.time_spread.refresh()
        self.length_spread.refresh()
        w = self.time_whitener
        w.phi = phi = self.time_spread.phi
        sd = self.time_spread.sd * _doubt(
            phi, self.time_baseline.n, self.baseline_uncertainty_weight
        )
        w.inv_sigma_e = inv = 1.0 / (sd * math.sqrt(1.0 - phi * phi))
        self.slower_cusum.k = self.faster_cusum.k = k = (
            0.5 * self.drift_design_frac * (1.0 - phi) * inv
        )
        self.slower_cusum.h = self.faster_cusum.h = threshold(k, self.drift_false_alarm_strides)
        w = self.length_whitener
        w.phi = phi = self.length_spread.phi
        sd = self.length_spread.sd * _doubt(
            phi, self.length_baseline.n, self.baseline_uncertainty_weight
        )
        w.inv_sigma_e = inv = 1.0 / (sd * math.sqrt(1.0 - phi * phi))
        self.shorter_cusum.k = k = 0.5 * self.shortening_design_frac * (1.0 - phi) * inv
        self.shorter_cusum.h = threshold(k, self.shortening_false_alarm_strides)

    drift_design_frac: float
    shortening_design_frac: float
    drift_false_alarm_strides: float
    shortening_false_alarm_strides: float
    baseline_uncertainty_weight: float
    time_whitener: Ar1Whitener
    length_whitener: Ar1Whitener
    slower_cusum: Cusum
    faster_cusum: Cusum
    irregular_cusum: VarianceCusum
    shorter_cusum: Cusum


class Analyzer:
    """Streaming, causal analysis of one athlete's strides.

    ``feed(stride)`` (or the allocation-free ``feed_values(...)``) returns the events
    that stride caused, usually none; ``finish()`` closes an open rep at end of stream.
    Rejected strides are counted in ``rejected`` (by reason) and never analysed.
    ``flags`` are the pod's ``StrideFlag`` bits as an ``int`` (0: a source without
    flags); see :mod:`stridecue.analysis.trust` for what each one stops.
    """

    def __init__(self, settings: AnalyzerSettings | None = None) -> None:
        self.settings = s = settings or AnalyzerSettings()
        self.validator = StrideValidator(s.max_stride_length_m)
        self.reps = RepDetector(
            min_speed_mps=s.run_min_speed_mps,
            min_cadence_spm=s.run_min_cadence_spm,
            confirm=s.run_confirm_strides,
        )
        self.n_accepted = 0
        self.n_reps = 0
        self.rep: _RepState | None = None
        self.summaries: list[dict[str, Any]] = []
        self._recent: deque[tuple[float, float, float, float, int, int]] = deque(
            maxlen=s.run_confirm_strides
        )
        self._last_t = _NAN
        # the athlete's natural spread, carried from rep to rep
        self.spread = (
            Spread(
                floor_sd=s.time_cv_pct / 100.0,
                phi=s.ar1_phi,
                prior_n=s.spread_prior_strides,
                phi_prior_n=s.phi_prior_strides,
                max_n=s.spread_memory_strides,
            ),
            Spread(
                floor_sd=s.length_cv_pct / 100.0,
                phi=s.ar1_phi,
                prior_n=s.spread_prior_strides,
                phi_prior_n=s.phi_prior_strides,
                max_n=s.spread_memory_strides,
            ),
        )

    @property
    def rejected(self) -> dict[str, int]:
        return self.validator.rejected

    def feed(self, stride: StrideIn) -> tuple[Event, ...]:
        return self.feed_values(
            stride.t_s,
            stride.stride_time_s,
            stride.stride_length_m,
            stride.contact_time_s,
            stride.seq,
            stride.flags,
        )

    def feed_values(
        self,
        t_s: float,
        stride_time_s: float,
        stride_length_m: float,
        contact_time_s: float = _NAN,
        seq: int = -1,
        flags: int = 0,
    ) -> tuple[Event, ...]:
        if self.validator.check(t_s, stride_time_s, stride_length_m, contact_time_s, seq):
            return _NONE
        if flags & CONTACT_DOUBT:
            contact_time_s = _NAN  # not a gait figure: taken as not measured
        scale = self.settings.distance_scale
        if scale != 1.0:
            stride_length_m *= scale
        i = self.n_accepted
        self.n_accepted = i + 1
        self._last_t = t_s
        reps = self.reps
        fast = reps.is_fast(stride_time_s, stride_length_m)
        rep = self.rep
        if rep is not None and fast:
            out = self._rep_stride(
                rep, t_s, stride_time_s, stride_length_m, contact_time_s, i, flags
            )
            if reps.streak:
                reps.streak = 0
            return out
        self._recent.append((t_s, stride_time_s, stride_length_m, contact_time_s, i, flags))
        change = reps.update(fast)
        if change == 0:
            if rep is not None:
                # a slow stride inside a rep still covers ground, but is not judged
                rep.splits.distance_m += stride_length_m
                rep.log_t.append(t_s)
                rep.log_time.append(stride_time_s)
                rep.log_length.append(stride_length_m)
                rep.log_contact.append(contact_time_s)
                if flags & LENGTH_DOUBT:
                    rep.doubtful += 1
            return _NONE
        if change < 0:
            return self._end_rep(t_s, i)
        return self._start_rep()

    def finish(self) -> tuple[Event, ...]:
        """End of stream: close the open rep (summary and rep_end), if any."""
        if self.rep is None:
            return _NONE
        return self._end_rep(self._last_t, self.n_accepted - 1)

    def _start_rep(self) -> tuple[Event, ...]:
        first = self._recent[0]
        t0 = first[0] - first[1]
        self.rep = rep = _RepState(self.settings, self.n_reps, t0, self.spread)
        self.n_reps += 1
        events = [Event(t0, first[4], EventKind.REP_START, {"rep": rep.stats.index})]
        for t, stride_time, stride_length, contact_time, i, flags in self._recent:
            events.extend(
                self._rep_stride(rep, t, stride_time, stride_length, contact_time, i, flags)
            )
        self._recent.clear()
        return tuple(events)

    def _end_rep(self, t_s: float, i: int) -> tuple[Event, ...]:
        """Close the rep: any splits still owed, the summary, rep_end.

        With a told rep distance the rep's strides are scaled by ``told / measured`` (when
        that is within :data:`REP_SCALE_RANGE`) and the splits recomputed on the scaled
        strides: those the live splits had not reached are emitted now, before the
        summary, marked ``at_rep_end``. The summary's distance, splits, fatigue index and
        stride length are the scaled ones, so a rep has one distance everywhere.
        """
        rep = self.rep
        assert rep is not None
        self.rep = None
        self._recent.clear()
        s = self.settings
        summary = rep.stats.summary()
        n = rep.fast_n
        # the rep as run: up to its last running stride (the slow ones that ended it out)
        measured = math.fsum(rep.log_length[:n])
        factor = 1.0
        if s.rep_distance_m is not None and measured > 0.0:
            ratio = s.rep_distance_m / measured
            if REP_SCALE_RANGE[0] <= ratio <= REP_SCALE_RANGE[1]:
                factor = ratio
            else:
                summary["rep_distance_not_applied"] = (
                    f"measured {measured:.0f} m is too far from the told "
                    f"{s.rep_distance_m:g} m to be the same rep"
                )
        events: list[Event] = []
        splits = rep.splits
        if factor != 1.0:
            splits = SplitTracker(
                t0_s=rep.splits.t0_s,
                split_m=s.split_m,
                goal_400m_s=s.goal_400m_s,
                plan=plan_of(s),
                scale=s.distance_scale * factor,
            )
            live = len(rep.splits.splits_s)
            for t, st, sl in zip(rep.log_t[:n], rep.log_time[:n], rep.log_length[:n], strict=True):
                split = splits.add(t, st, sl * factor)
                if split is not None and len(splits.splits_s) > live:
                    split["at_rep_end"] = True
                    events.append(Event(t_s, i, EventKind.SPLIT, split))
            summary["mean_stride_length_m"] = round(summary["mean_stride_length_m"] * factor, 3)
            if rep.stats.alerts:
                summary["form_held_m"] = round(rep.stats.first_alert_m * factor, 1)
        # distance includes the odd slow stride inside the rep (not judged, still run)
        summary["distance_m"] = round(splits.distance_m, 1)
        total_scale = s.distance_scale * factor
        summary["distance_scale"] = round(total_scale, 4)
        # the pod's own metres (no scale) up to the last running stride: what calibrates
        summary["measured_distance_m"] = round(measured / s.distance_scale, 1)
        if rep.stats.alerts == 0:
            summary["form_held_m"] = summary["distance_m"]
        # strides whose length was counted in the distance but not judged (pod's flags)
        summary["doubtful_strides"] = rep.doubtful_n
        # running strides whose accelerometer clipped: judged, but they may read short
        summary["clipped_strides"] = rep.clipped
        fi = splits.fatigue_index()
        summary["fatigue_index"] = None if math.isnan(fi) else round(fi, 4)
        summary["splits_s"] = [round(x, 3) for x in splits.splits_s]
        plan = plan_of(s)
        if plan is not None:
            cum = 0.0
            behind = []
            for k, x in enumerate(splits.splits_s):
                cum += x
                behind.append(round(cum - plan.plan_elapsed_s(s.split_m * (k + 1)), 3))
            summary["splits_vs_plan_s"] = behind
            summary["plan"] = plan.spec
        lengths = rep.log_length[:n]
        if factor != 1.0:
            lengths = [x * factor for x in lengths]
        summary.update(halves.compare(rep.log_time[:n], lengths, rep.log_contact[:n]))
        self.summaries.append(summary)
        events.append(Event(t_s, i, EventKind.REP_SUMMARY, summary))
        events.append(Event(t_s, i, EventKind.REP_END, {"rep": rep.stats.index}))
        return tuple(events)

    def _rep_stride(
        self,
        rep: _RepState,
        t: float,
        stride_time: float,
        stride_length: float,
        contact_time: float,
        i: int,
        flags: int = 0,
    ) -> tuple[Event, ...]:
        s = self.settings
        seen = rep.strides
        rep.strides = seen + 1
        rep.stats.add(stride_time, stride_length, contact_time)
        rep.log_t.append(t)
        rep.log_time.append(stride_time)
        rep.log_length.append(stride_length)
        rep.log_contact.append(contact_time)
        rep.fast_n = len(rep.log_t)
        # an untrusted figure still covers ground and time (distance, splits, summary)
        time_ok = not flags & TIME_DOUBT
        length_ok = not flags & LENGTH_DOUBT
        if not length_ok:
            rep.doubtful += 1
        rep.doubtful_n = rep.doubtful
        if flags & CLIPPED:
            rep.clipped += 1
        split = rep.splits.add(t, stride_time, stride_length)
        events: list[Event] | None = None
        if split is not None:
            events = [Event(t, i, EventKind.SPLIT, split)]
        if seen < s.settle_strides:
            return _NONE if events is None else tuple(events)
        log_time = _log(stride_time)
        log_length = _log(stride_length)
        if not rep.ready:
            self._learn(rep, log_time, log_length, time_ok, length_ok)
            return _NONE if events is None else tuple(events)
        # deviations from the baselines (log ratios), then whitened (AR(1) residuals);
        # an untrusted figure is skipped: its whitener predicts across it, no CUSUM moves
        if time_ok:
            time_dev = log_time - rep.time_baseline.mean
            time_z = rep.time_whitener.residual(time_dev)
            # rhythm: slower, faster, irregular (all three always updated)
            slower = rep.slower_cusum.update(time_z)
            faster = rep.faster_cusum.update(-time_z)
            irregular = rep.irregular_cusum.update(time_z)
            if rep.rhythm_alarm_on:
                if rep.time_recovery.update(time_dev):
                    events = self._recovered(rep, events, t, i, EventKind.RHYTHM_LOSS, time_dev)
            elif slower or faster or irregular:
                events = self._rhythm_alarm(
                    rep, events, t, i, stride_time, time_dev, slower, faster
                )
        else:
            rep.time_whitener.skip()
        if length_ok:
            length_dev = log_length - rep.length_baseline.mean
            length_z = rep.length_whitener.residual(length_dev)
            shorter = rep.shorter_cusum.update(-length_z)
            if rep.shortening_alarm_on:
                if rep.length_recovery.update(length_dev):
                    events = self._recovered(
                        rep, events, t, i, EventKind.STRIDE_SHORTENING, length_dev
                    )
            elif shorter:
                events = self._short_alarm(rep, events, t, i, stride_length, length_dev)
        else:
            rep.length_whitener.skip()
        if not (rep.rhythm_alarm_on or rep.shortening_alarm_on):
            if time_ok:
                rep.time_baseline.add(log_time)
            else:
                rep.time_baseline.skip()
            if rep.length_baseline.add(log_length) if length_ok else rep.length_baseline.skip():
                j = rep.baseline_joins = rep.baseline_joins + 1
                if not j & 7:
                    rep.retune()
        return _NONE if events is None else tuple(events)

    def _learn(
        self, rep: _RepState, log_time: float, log_length: float, time_ok: bool, length_ok: bool
    ) -> None:
        """A stride while the baseline is learnt; arms the detectors once both are learnt.

        Only trusted figures teach a baseline, so with untrusted ones among the first
        strides one channel may be learnt a stride or two before the other: it keeps
        learning (as after arming) until both are ready.
        """
        if time_ok:
            rep.time_baseline.add(log_time)
            rep.last_log_time = log_time
        else:
            rep.time_baseline.skip()
        if length_ok:
            rep.length_baseline.add(log_length)
            rep.last_log_length = log_length
        else:
            rep.length_baseline.skip()
        if rep.time_baseline.ready and rep.length_baseline.ready:
            rep.arm(self.settings, rep.last_log_time, rep.last_log_length)
            if not time_ok:
                rep.time_whitener.skip()
            if not length_ok:
                rep.length_whitener.skip()

    def _rhythm_alarm(
        self,
        rep: _RepState,
        events: list[Event] | None,
        t: float,
        i: int,
        stride_time: float,
        time_dev: float,
        slower: bool,
        faster: bool,
    ) -> list[Event]:
        if slower:
            by, stat, h = "cusum_slower", rep.slower_cusum.s, rep.slower_cusum.h
        elif faster:
            by, stat, h = "cusum_faster", rep.faster_cusum.s, rep.faster_cusum.h
        else:
            by, stat, h = "variance_cusum", rep.irregular_cusum.s, rep.irregular_cusum.h
        rep.rhythm_alarm_on = True
        rep.rhythm_detector = by
        rep.time_recovery.reset()
        self._alarm_common(rep)
        detail = {
            "detector": by,
            "statistic": round(stat, 3),
            "threshold": round(h, 3),
            "stride_time_s": round(stride_time, 4),
            "baseline_stride_time_s": round(math.exp(rep.time_baseline.mean), 4),
            "deviation_pct": round(100.0 * math.expm1(time_dev), 2),
            "distance_m": round(rep.splits.distance_m, 1),
        }
        return _append(events, Event(t, i, EventKind.RHYTHM_LOSS, detail))

    def _short_alarm(
        self,
        rep: _RepState,
        events: list[Event] | None,
        t: float,
        i: int,
        stride_length: float,
        length_dev: float,
    ) -> list[Event]:
        rep.shortening_alarm_on = True
        rep.length_recovery.reset()
        self._alarm_common(rep)
        detail = {
            "detector": "cusum_shorter",
            "statistic": round(rep.shorter_cusum.s, 3),
            "threshold": round(rep.shorter_cusum.h, 3),
            "stride_length_m": round(stride_length, 3),
            "baseline_stride_length_m": round(math.exp(rep.length_baseline.mean), 3),
            "deviation_pct": round(100.0 * math.expm1(length_dev), 2),
            "distance_m": round(rep.splits.distance_m, 1),
        }
        return _append(events, Event(t, i, EventKind.STRIDE_SHORTENING, detail))

    def _alarm_common(self, rep: _RepState) -> None:
        rep.stats.alert(rep.splits.distance_m)
        # the strides waiting to join the baseline may already carry the change
        rep.time_baseline.forget_recent()
        rep.length_baseline.forget_recent()

    def _recovered(
        self,
        rep: _RepState,
        events: list[Event] | None,
        t: float,
        i: int,
        problem: EventKind,
        dev: float,
    ) -> list[Event]:
        if problem == EventKind.RHYTHM_LOSS:
            rep.rhythm_alarm_on = False
            rep.slower_cusum.reset()
            rep.faster_cusum.reset()
            rep.irregular_cusum.reset()
        else:
            rep.shortening_alarm_on = False
            rep.shorter_cusum.reset()
        detail = {
            "problem": problem,
            "within_pct": self.settings.recovery_tolerance_pct,
            "for_strides": self.settings.recovery_strides,
            "deviation_pct": round(100.0 * math.expm1(dev), 2),
        }
        return _append(events, Event(t, i, EventKind.RECOVERED, detail))


def plan_of(s: AnalyzerSettings) -> Plan | None:
    """The split plan the analyzer judges splits by: the coach's, else the 400 m goal's
    race shape (``shape:GOAL``), else none."""
    if s.plan is not None:
        return s.plan
    if s.goal_400m_s is None:
        return None
    return Plan.shape_400(s.goal_400m_s)


def _doubt(phi: float, n: int, c: float) -> float:
    return math.sqrt(1.0 + c * (1.0 + phi) / ((1.0 - phi) * max(n, 1)))


def _append(events: list[Event] | None, e: Event) -> list[Event]:
    if events is None:
        return [e]
    events.append(e)
    return events
