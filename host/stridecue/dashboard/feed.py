"""Turn received records, analyzer events and coach actions into :class:`LiveState` changes.

The same feed serves live links and replay: it is given each record with its host
time. Each athlete has a :class:`stridecue.analysis.Analyzer` (causal, the same code
live and in replay), whose events become the tile's rep, 100 m splits and alerts.
The coach's marks (lap, rep start/stop) and targets act on the same state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stridecue.analysis import Analyzer, AnalyzerSettings, Event
from stridecue.analysis.targets import Targets
from stridecue.dashboard.state import LiveState
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent
from stridecue.protocol.records import Pattern


def alert_text(e: Event) -> str:
    """One line a coach reads, for an analyzer alert."""
    d: dict[str, Any] = e.detail
    if e.kind == "rhythm_loss":
        return f"rhythm lost: stride time {d.get('deviation_pct', 0):+.1f} % ({d.get('detector')})"
    if e.kind == "stride_shortening":
        return f"strides shortening: {d.get('deviation_pct', 0):+.1f} % at {d.get('distance_m')} m"
    if e.kind == "recovered":
        return f"recovered from {str(d.get('problem', '')).replace('_', ' ')}"
    return e.kind.replace("_", " ")


class Feed:
    """Feeds one :class:`LiveState`; ``t0_ns`` is the session start in host time."""

    def __init__(
        self,
        state: LiveState,
        *,
        t0_ns: int,
        analyze: bool = True,
        settings: AnalyzerSettings | None = None,
    ) -> None:
        self.state = state
        self.t0_ns = t0_ns
        self.analyze = analyze
        self.settings = settings or AnalyzerSettings()
        self.analyzers: dict[str, Analyzer] = {}
        self.events: dict[str, list[Event]] = {}
        self._rep_start_s: dict[str, float] = {}
        self._split_start_s: dict[str, float] = {}

    def t_s(self, host_ns: int) -> float:
        return (host_ns - self.t0_ns) / 1e9

    # --- records ---
    def record(
        self, pod: str, host_ns: int, record: object, arrived_ms: float | None = None
    ) -> None:
        t = self.t_s(host_ns)
        if isinstance(record, StrideEvent):
            self.stride(pod, t, record, arrived_ms)
        elif isinstance(record, Status):
            if record.battery_pct != 255:
                self.state.update(pod, battery_pct=record.battery_pct)
        elif isinstance(record, Cue):
            self.cue_sent(pod, t, record)
        elif isinstance(record, RscMeasurement) and record.cadence_spm > 0:
            # a standard foot pod (no StrideCue service): cadence and stride length only,
            # one measurement at a time rather than per stride, so it is not analysed
            self.state.add_stride(
                pod,
                t,
                stride_time_s=120.0 / record.cadence_spm,
                stride_length_m=record.stride_length_m or 0.0,
                contact_time_s=0.0,
                arrived_ms=arrived_ms,
            )

    def stride(self, pod: str, t: float, ev: StrideEvent, arrived_ms: float | None = None) -> None:
        self.state.add_stride(
            pod,
            t,
            stride_time_s=ev.stride_time_s,
            stride_length_m=ev.stride_length_m,
            contact_time_s=ev.contact_time_s,
            arrived_ms=arrived_ms,
        )
        if self.analyze:
            analyzer = self._analyzer(pod)
            # the analyzer runs on the pod's own clock (stride times and contact times
            # agree with it even when a simulation runs faster than real time)
            for e in analyzer.feed_values(
                ev.t_contact_ms / 1000.0,
                ev.stride_time_s,
                ev.stride_length_m,
                ev.contact_time_s,
                ev.seq,
            ):
                self.analyzer_event(pod, e, t)

    def _analyzer(self, pod: str) -> Analyzer:
        a = self.analyzers.get(pod)
        if a is None:
            a = self.analyzers[pod] = Analyzer(self.settings_for(self.state.athlete(pod).targets))
        return a

    def settings_for(self, targets: Targets) -> AnalyzerSettings:
        return dataclasses.replace(
            self.settings,
            target_cadence_spm=targets.cadence_spm,
            target_stride_length_m=targets.stride_length_m,
            goal_400m_s=targets.goal_400_s,
        )

    def analyzer_event(self, pod: str, e: Event, t: float) -> None:
        """Show one analyzer event on the athlete's tile at session time ``t``."""
        self.events.setdefault(pod, []).append(e)
        d = e.detail
        if e.kind == "rep_start":
            self.start_rep(pod, t, who="detected")
        elif e.kind == "rep_end":
            self.stop_rep(pod, t)
        elif e.kind == "split":
            view = self.state.athlete(pod)
            plan = view.targets.plan_for_split(view.split_index)
            split = float(d.get("split_s", 0.0))
            self.state.update(
                pod, split_index=view.split_index + 1, last_split_s=split, last_split_plan_s=plan
            )
            proj = d.get("projected_400m_s")
            more = f", 400 m on pace for {proj:.1f} s" if proj is not None else ""
            self.state.add_alert(
                pod, t, "split", f"{d.get('at_m'):.0f} m split {split:.1f} s{more}"
            )
        elif e.kind == "rep_summary":
            fi = d.get("fatigue_index")
            self.state.add_alert(
                pod,
                t,
                "mark",
                f"rep {int(d.get('rep', 0)) + 1}: {d.get('distance_m')} m, "
                f"{d.get('mean_cadence_spm')} spm, form held {d.get('form_held_m')} m"
                + (f", fatigue {100 * fi:.0f} %" if fi is not None else ""),
            )
        else:
            self.state.add_alert(pod, t, e.kind, alert_text(e))

    def cue_sent(self, pod: str, t: float, cue: Cue) -> None:
        view = self.state.athlete(pod)
        self.state.update(pod, cues_sent=view.cues_sent + 1)
        who = "coach" if cue.pattern is Pattern.PULSE else "auto"
        self.state.add_alert(pod, t, "cue", f"cue sent: {cue.pattern.name.lower()} ({who})")

    def link_state(self, pod: str, link: str) -> None:
        self.state.update(pod, link=link)

    # --- coach actions (also replayed from recorded marks) ---
    def mark(self, pod: str, t: float, text: str) -> None:
        low = text.lower()
        if low.startswith("rep start"):
            self.start_rep(pod, t)
        elif low.startswith("rep stop"):
            self.stop_rep(pod, t)
        elif low.startswith("lap"):
            self._lap(pod, t)
        else:
            self.state.add_alert(pod, t, "mark", text)

    def start_rep(self, pod: str, t: float, who: str = "coach") -> None:
        view = self.state.athlete(pod)
        self._rep_start_s[pod] = t
        self._split_start_s[pod] = t
        self.state.update(
            pod,
            rep=view.rep + 1,
            running=True,
            distance_m=0.0,
            split_index=0,
            last_split_s=None,
            last_split_plan_s=None,
        )
        self.state.add_alert(pod, t, "mark", f"rep {view.rep} started ({who})")

    def stop_rep(self, pod: str, t: float) -> None:
        view = self.state.athlete(pod)
        if not view.running:
            return
        took = t - self._rep_start_s.get(pod, t)
        self.state.update(pod, running=False)
        self.state.add_alert(
            pod, t, "mark", f"rep {view.rep} ended: {view.distance_m:.0f} m in {took:.1f} s"
        )

    def set_targets(self, pod: str, targets: Targets) -> None:
        """New targets show at once and reach the analyzer's baseline from the next rep."""
        self.state.update(pod, targets=targets)
        if pod in self.analyzers:
            self.analyzers[pod].settings = self.settings_for(targets)

    def _lap(self, pod: str, t: float) -> None:
        start = self._split_start_s.get(pod, self._rep_start_s.get(pod, 0.0))
        self._split_start_s[pod] = t
        self.state.update(pod, last_split_s=t - start, last_split_plan_s=None)
        self.state.add_alert(pod, t, "split", f"lap marked: {t - start:.1f} s since the last mark")
