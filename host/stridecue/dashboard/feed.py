"""Turn received records and coach actions into :class:`LiveState` changes.

The same feed serves live links and replay: it is given each record with its host
time, and the coach's marks, reps and targets. Distance and the current 100 m split
are counted from stride lengths within the running rep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from stridecue.dashboard.state import LiveState
from stridecue.dashboard.targets import Targets
from stridecue.protocol import Cue, Status, StrideEvent
from stridecue.protocol.records import Pattern

SPLIT_M = 100.0


@dataclass(frozen=True, slots=True)
class AnalyzerAlert:
    """An analyzer event as the dashboard shows it (adapter target for any analyzer)."""

    kind: str
    text: str


# Called per stride: (pod, t_s, stride) -> alerts the analyzer raised on that stride.
StrideHook = Callable[[str, float, StrideEvent], list[AnalyzerAlert]]


class Feed:
    """Feeds one :class:`LiveState`; ``t0_ns`` is the session start in host time."""

    def __init__(self, state: LiveState, *, t0_ns: int, on_stride: StrideHook | None = None):
        self.state = state
        self.t0_ns = t0_ns
        self.on_stride = on_stride
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

    def stride(self, pod: str, t: float, ev: StrideEvent, arrived_ms: float | None = None) -> None:
        state = self.state
        view = state.athlete(pod)
        before = view.distance_m
        state.add_stride(
            pod,
            t,
            stride_time_s=ev.stride_time_s,
            stride_length_m=ev.stride_length_m,
            contact_time_s=ev.contact_time_s,
            arrived_ms=arrived_ms,
        )
        if view.running and int(view.distance_m // SPLIT_M) > int(before // SPLIT_M):
            self._split_done(pod, t)
        if self.on_stride is not None:
            for alert in self.on_stride(pod, t, ev):
                state.add_alert(pod, t, alert.kind, alert.text)

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
            self._split_done(pod, t, label="lap")
        else:
            self.state.add_alert(pod, t, "mark", text)

    def start_rep(self, pod: str, t: float) -> None:
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
        self.state.add_alert(pod, t, "mark", f"rep {view.rep} started")

    def stop_rep(self, pod: str, t: float) -> None:
        view = self.state.athlete(pod)
        if not view.running:
            return
        took = t - self._rep_start_s.get(pod, t)
        self.state.update(pod, running=False)
        self.state.add_alert(
            pod, t, "mark", f"rep {view.rep} stopped: {view.distance_m:.0f} m in {took:.1f} s"
        )

    def set_targets(self, pod: str, targets: Targets) -> None:
        self.state.update(pod, targets=targets)

    def _split_done(self, pod: str, t: float, label: str = "100 m") -> None:
        view = self.state.athlete(pod)
        start = self._split_start_s.get(pod, t)
        self._split_start_s[pod] = t
        plan = view.targets.plan_for_split(view.split_index)
        self.state.update(
            pod, split_index=view.split_index + 1, last_split_s=t - start, last_split_plan_s=plan
        )
        vs = f" (plan {plan:.1f} s)" if plan is not None else ""
        self.state.add_alert(pod, t, "split", f"{label} split {t - start:.1f} s{vs}")


def wall_ms() -> float:
    return time.time() * 1000.0
