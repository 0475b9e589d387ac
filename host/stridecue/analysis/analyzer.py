"""One athlete's streaming analyzer: strides in, events out, same code live and in replay.

Causal and incremental: each stride is looked at once, in arrival order, and only the
strides before it shape the decision. Per stride it validates, tracks rep / recovery,
counts distance and splits, and once the rep has settled and the baseline is learnt it
runs three detectors:

- stride shortening: lower CUSUM on whitened log stride length;
- rhythm loss: two-sided CUSUM on whitened log stride time (drift slower / faster) and a
  variance CUSUM on the same residuals (strides becoming irregular);
- recovery: after an alarm, the stride back within tolerance for a few strides in a row.

The per-stride path is plain Python arithmetic on floats (no numpy, no allocation when
nothing happens) so a recorded session replays at hundreds of thousands of strides/s.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from stridecue.analysis.baseline import LogBaseline
from stridecue.analysis.detectors import (
    Ar1Whitener,
    Cusum,
    VarianceCusum,
    WithinTolerance,
    threshold,
)
from stridecue.analysis.noise import Spread
from stridecue.analysis.reps import RepDetector, RepStats
from stridecue.analysis.settings import AnalyzerSettings
from stridecue.analysis.splits import SplitTracker
from stridecue.analysis.types import Event, EventKind, StrideIn
from stridecue.analysis.validate import StrideValidator

_NONE: tuple[Event, ...] = ()
_log = math.log
_NAN = math.nan


class _RepState:
    """Everything that lives for one rep: baselines, whiteners, detectors, splits."""

    __slots__ = (
        "arl_l",
        "arl_t",
        "bl",
        "bt",
        "design_l",
        "design_t",
        "doubt",
        "down",
        "joined",
        "k",
        "ready",
        "rhythm",
        "rhythm_by",
        "sc",
        "short",
        "sl",
        "splits",
        "st",
        "stats",
        "tol_l",
        "tol_t",
        "up",
        "var",
        "wl",
        "wt",
    )  # fmt: skip

    def __init__(
        self, s: AnalyzerSettings, index: int, t0_s: float, spread: tuple[Spread, Spread]
    ) -> None:
        tt = None if s.target_cadence_spm is None else 120.0 / s.target_cadence_spm
        kw = {"window": s.baseline_strides, "guard": s.baseline_guard_strides}
        self.st, self.sl = spread
        self.bt = LogBaseline(**kw, max_n=s.baseline_max_strides, target=tt, spread=self.st)
        self.bl = LogBaseline(
            **kw, max_n=s.baseline_max_strides, target=s.target_stride_length_m, spread=self.sl
        )
        self.joined = 0
        self.k = 0
        self.ready = False
        self.rhythm = False
        self.rhythm_by = ""
        self.short = False
        self.stats = RepStats(index, t0_s)
        self.splits = SplitTracker(t0_s=t0_s, split_m=s.split_m, goal_400m_s=s.goal_400m_s)
        tol = s.recovery_tolerance_pct / 100.0
        self.tol_t = WithinTolerance(lo=-tol, hi=tol, need=s.recovery_strides)
        self.tol_l = WithinTolerance(lo=-tol, hi=math.inf, need=s.recovery_strides)

    def arm(self, s: AnalyzerSettings, last_lt: float, last_ll: float) -> None:
        """Baseline learnt: build the whiteners and detectors for this athlete's spread."""
        if s.goal_sets_stride_length and s.goal_400m_s and s.target_stride_length_m is None:
            # the stride length that holds goal pace at this rhythm: speed x stride time
            self.bl.set_target(400.0 / s.goal_400m_s * math.exp(self.bt.mean))
        self.st.refresh()
        self.sl.refresh()
        self.wt = Ar1Whitener(phi=self.st.phi, sd=self.st.sd)
        self.wl = Ar1Whitener(phi=self.sl.phi, sd=self.sl.sd)
        self.wt.prev = last_lt - self.bt.mean
        self.wl.prev = last_ll - self.bl.mean
        self.up = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.down = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.var = VarianceCusum(ratio=s.irregular_cv_ratio, h=s.irregular_h, clip=s.clip_sd)
        self.sc = Cusum(k=0.0, h=0.0, clip=s.clip_sd)
        self.design_t = s.drift_design_pct / 100.0
        self.design_l = s.shortening_design_pct / 100.0
        self.arl_t = s.drift_false_alarm_strides
        self.arl_l = s.shortening_false_alarm_strides
        self.doubt = s.baseline_uncertainty_weight
        self.retune()
        self.ready = True

    def retune(self) -> None:
        """Follow the athlete's learnt spread: rescale residuals and CUSUM allowances.

        While the baseline rests on few strides its own error is part of every deviation,
        so the spread is widened by ``sqrt(1 + c V / n)`` (``V = (1 + phi) / (1 - phi)``,
        the variance of a mean of ``n`` AR(1) strides, relative to one stride's).
        """
        self.st.refresh()
        self.sl.refresh()
        w = self.wt
        w.phi = phi = self.st.phi
        sd = self.st.sd * _doubt(phi, self.bt.n, self.doubt)
        w.inv_sigma_e = inv = 1.0 / (sd * math.sqrt(1.0 - phi * phi))
        self.up.k = self.down.k = k = 0.5 * self.design_t * (1.0 - phi) * inv
        self.up.h = self.down.h = threshold(k, self.arl_t)
        w = self.wl
        w.phi = phi = self.sl.phi
        sd = self.sl.sd * _doubt(phi, self.bl.n, self.doubt)
        w.inv_sigma_e = inv = 1.0 / (sd * math.sqrt(1.0 - phi * phi))
        self.sc.k = k = 0.5 * self.design_l * (1.0 - phi) * inv
        self.sc.h = threshold(k, self.arl_l)

    design_t: float
    design_l: float
    arl_t: float
    arl_l: float
    doubt: float
    wt: Ar1Whitener
    wl: Ar1Whitener
    up: Cusum
    down: Cusum
    var: VarianceCusum
    sc: Cusum


class Analyzer:
    """Streaming, causal analysis of one athlete's strides.

    ``feed(stride)`` (or the allocation-free ``feed_values(...)``) returns the events
    that stride caused, usually none; ``finish()`` closes an open rep at end of stream.
    Rejected strides are counted in ``rejected`` (by reason) and never analysed.
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
        self._recent: deque[tuple[float, float, float, float, int]] = deque(
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
        )

    def feed_values(
        self,
        t_s: float,
        stride_time_s: float,
        stride_length_m: float,
        contact_time_s: float = _NAN,
        seq: int = -1,
    ) -> tuple[Event, ...]:
        if self.validator.check(t_s, stride_time_s, stride_length_m, contact_time_s, seq):
            return _NONE
        i = self.n_accepted
        self.n_accepted = i + 1
        self._last_t = t_s
        reps = self.reps
        fast = reps.is_fast(stride_time_s, stride_length_m)
        rep = self.rep
        if rep is not None and fast:
            out = self._rep_stride(rep, t_s, stride_time_s, stride_length_m, contact_time_s, i)
            if reps.streak:
                reps.streak = 0
            return out
        self._recent.append((t_s, stride_time_s, stride_length_m, contact_time_s, i))
        change = reps.update(fast)
        if change == 0:
            if rep is not None:
                # a slow stride inside a rep still covers ground, but is not judged
                rep.splits.distance_m += stride_length_m
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
        for t, st, sl, ct, i in self._recent:
            events.extend(self._rep_stride(rep, t, st, sl, ct, i))
        self._recent.clear()
        return tuple(events)

    def _end_rep(self, t_s: float, i: int) -> tuple[Event, ...]:
        rep = self.rep
        assert rep is not None
        self.rep = None
        self._recent.clear()
        summary = rep.stats.summary()
        # distance includes the odd slow stride inside the rep (not judged, still run)
        summary["distance_m"] = round(rep.splits.distance_m, 1)
        if rep.stats.alerts == 0:
            summary["form_held_m"] = summary["distance_m"]
        fi = rep.splits.fatigue_index()
        summary["fatigue_index"] = None if math.isnan(fi) else round(fi, 4)
        summary["splits_s"] = [round(x, 3) for x in rep.splits.splits_s]
        self.summaries.append(summary)
        return (
            Event(t_s, i, EventKind.REP_SUMMARY, summary),
            Event(t_s, i, EventKind.REP_END, {"rep": rep.stats.index}),
        )

    def _rep_stride(
        self, rep: _RepState, t: float, st: float, sl: float, ct: float, i: int
    ) -> tuple[Event, ...]:
        s = self.settings
        k = rep.k
        rep.k = k + 1
        rep.stats.add(st, sl, ct)
        split = rep.splits.add(t, st, sl)
        events: list[Event] | None = None
        if split is not None:
            events = [Event(t, i, EventKind.SPLIT, split)]
        if k < s.settle_strides:
            return _NONE if events is None else tuple(events)
        lt = _log(st)
        ll = _log(sl)
        if not rep.ready:
            rep.bt.add(lt)
            rep.bl.add(ll)
            if rep.bt.ready:
                rep.arm(s, lt, ll)
            return _NONE if events is None else tuple(events)
        yt = lt - rep.bt.mean
        yl = ll - rep.bl.mean
        zt = rep.wt.residual(yt)
        zl = rep.wl.residual(yl)
        # rhythm: slower, faster, irregular (all three always updated)
        up = rep.up.update(zt)
        down = rep.down.update(-zt)
        var = rep.var.update(zt)
        shorter = rep.sc.update(-zl)
        if rep.rhythm:
            if rep.tol_t.update(yt):
                events = self._recovered(rep, events, t, i, EventKind.RHYTHM_LOSS, yt)
        elif up or down or var:
            events = self._rhythm_alarm(rep, events, t, i, st, yt, up, down)
        if rep.short:
            if rep.tol_l.update(yl):
                events = self._recovered(rep, events, t, i, EventKind.STRIDE_SHORTENING, yl)
        elif shorter:
            events = self._short_alarm(rep, events, t, i, sl, yl)
        if not (rep.rhythm or rep.short):
            rep.bt.add(lt)
            if rep.bl.add(ll):
                j = rep.joined = rep.joined + 1
                if not j & 7:
                    rep.retune()
        return _NONE if events is None else tuple(events)

    def _rhythm_alarm(
        self,
        rep: _RepState,
        events: list[Event] | None,
        t: float,
        i: int,
        st: float,
        yt: float,
        up: bool,
        down: bool,
    ) -> list[Event]:
        if up:
            by, stat, h = "cusum_slower", rep.up.s, rep.up.h
        elif down:
            by, stat, h = "cusum_faster", rep.down.s, rep.down.h
        else:
            by, stat, h = "variance_cusum", rep.var.s, rep.var.h
        rep.rhythm = True
        rep.rhythm_by = by
        rep.tol_t.reset()
        self._alarm_common(rep)
        detail = {
            "detector": by,
            "statistic": round(stat, 3),
            "threshold": round(h, 3),
            "stride_time_s": round(st, 4),
            "baseline_stride_time_s": round(math.exp(rep.bt.mean), 4),
            "deviation_pct": round(100.0 * math.expm1(yt), 2),
            "distance_m": round(rep.splits.distance_m, 1),
        }
        return _append(events, Event(t, i, EventKind.RHYTHM_LOSS, detail))

    def _short_alarm(
        self, rep: _RepState, events: list[Event] | None, t: float, i: int, sl: float, yl: float
    ) -> list[Event]:
        rep.short = True
        rep.tol_l.reset()
        self._alarm_common(rep)
        detail = {
            "detector": "cusum_shorter",
            "statistic": round(rep.sc.s, 3),
            "threshold": round(rep.sc.h, 3),
            "stride_length_m": round(sl, 3),
            "baseline_stride_length_m": round(math.exp(rep.bl.mean), 3),
            "deviation_pct": round(100.0 * math.expm1(yl), 2),
            "distance_m": round(rep.splits.distance_m, 1),
        }
        return _append(events, Event(t, i, EventKind.STRIDE_SHORTENING, detail))

    def _alarm_common(self, rep: _RepState) -> None:
        rep.stats.alert(rep.splits.distance_m)
        # the strides waiting to join the baseline may already carry the change
        rep.bt.forget_recent()
        rep.bl.forget_recent()

    def _recovered(
        self,
        rep: _RepState,
        events: list[Event] | None,
        t: float,
        i: int,
        problem: str,
        y: float,
    ) -> list[Event]:
        if problem == EventKind.RHYTHM_LOSS:
            rep.rhythm = False
            rep.up.reset()
            rep.down.reset()
            rep.var.reset()
        else:
            rep.short = False
            rep.sc.reset()
        detail = {
            "problem": problem,
            "within_pct": self.settings.recovery_tolerance_pct,
            "for_strides": self.settings.recovery_strides,
            "deviation_pct": round(100.0 * math.expm1(y), 2),
        }
        return _append(events, Event(t, i, EventKind.RECOVERED, detail))


def _doubt(phi: float, n: int, c: float) -> float:
    return math.sqrt(1.0 + c * (1.0 + phi) / ((1.0 - phi) * max(n, 1)))


def _append(events: list[Event] | None, e: Event) -> list[Event]:
    if events is None:
        return [e]
    events.append(e)
    return events
