"""What the dashboard shows: one :class:`AthleteView` per athlete, kept in a :class:`LiveState`.

The state is fed by the live pipeline or by replay (strides, analyzer alerts, link
state, battery, reps, splits) and tells its listeners about every change, so each
open browser page can push only what is new. Everything runs on the event loop
thread; nothing here blocks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stridecue.analysis.targets import Targets

WINDOW_STRIDES = 600  # points kept per athlete for the scrolling chart (minutes of running)
ALERTS_KEPT = 20


@dataclass(frozen=True, slots=True)
class StridePoint:
    """One stride as the tile plots it."""

    t_s: float  # session time of the foot contact
    cadence_spm: float
    stride_length_m: float
    contact_time_ms: float
    arrived_ms: float  # host wall clock (ms since epoch) when the stride reached the host


@dataclass(frozen=True, slots=True)
class Alert:
    t_s: float
    kind: str  # rhythm_loss | stride_shortening | recovered | cue | mark | ...
    text: str


@dataclass(slots=True)
class AthleteView:
    """Everything one tile shows about one athlete."""

    pod: str
    name: str
    link: str = "idle"
    activity: str = "starting"  # running | resting | waiting | link lost | finished (Activity)
    active_alerts: tuple[str, ...] = ()  # shown until the athlete recovers
    speed_mps: float | None = None  # over the last few strides
    battery_pct: int | None = None
    rep: int = 0
    running: bool = False
    distance_m: float = 0.0  # in the current rep
    split_index: int = 0  # the 100 m segment being run (0-based)
    last_split_s: float | None = None
    last_split_plan_s: float | None = None
    targets: Targets = field(default_factory=Targets)
    strides: deque[StridePoint] = field(default_factory=lambda: deque(maxlen=WINDOW_STRIDES))
    alerts: deque[Alert] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    cues_sent: int = 0
    pod_coach: str = ""  # what the pod's own coach does ("pod: pacing"), "" without one

    @property
    def last(self) -> StridePoint | None:
        return self.strides[-1] if self.strides else None


@dataclass(frozen=True, slots=True)
class Change:
    """What changed: ``what`` is ``stride``, ``alert``, ``tile``, ``athlete``, ``reset`` or
    ``relay`` (the relay panel's board)."""

    what: str
    pod: str = ""
    stride: StridePoint | None = None
    alert: Alert | None = None


Listener = Callable[[Change], None]


class LiveState:
    """All athletes' views plus the session clock; notifies listeners of each change."""

    def __init__(self, title: str = "StrideCue") -> None:
        self.title = title
        self.athletes: dict[str, AthleteView] = {}
        self.clock_s = 0.0  # session time of the newest data
        self.duration_s: float | None = None  # known for replay
        self.mode = "live"
        self.relay: Any = None  # a live practice's relay board (dashboard.relaypanel)
        self._listeners: list[Listener] = []

    # --- listeners ---
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def notify(self, what: str) -> None:
        """Tell the pages that something beside the tiles changed (``relay``)."""
        self._emit(Change(what))

    # --- feeding ---
    def athlete(self, pod: str, name: str = "") -> AthleteView:
        """The view of ``pod``, created (and announced) on first use."""
        view = self.athletes.get(pod)
        if view is None:
            view = self.athletes[pod] = AthleteView(pod=pod, name=name or pod)
            self._emit(Change("athlete", pod))
        return view

    def add_stride(
        self,
        pod: str,
        t_s: float,
        *,
        stride_time_s: float,
        stride_length_m: float,
        contact_time_s: float,
        arrived_ms: float | None = None,
    ) -> StridePoint:
        view = self.athlete(pod)
        point = StridePoint(
            t_s=t_s,
            cadence_spm=120.0 / stride_time_s if stride_time_s > 0 else 0.0,
            stride_length_m=stride_length_m,
            contact_time_ms=contact_time_s * 1000.0,
            arrived_ms=time.time() * 1000.0 if arrived_ms is None else arrived_ms,
        )
        view.strides.append(point)
        if view.running:
            view.distance_m += stride_length_m
        self.clock_s = max(self.clock_s, t_s)
        self._emit(Change("stride", pod, stride=point))
        return point

    def add_alert(self, pod: str, t_s: float, kind: str, text: str) -> None:
        alert = Alert(t_s, kind, text)
        self.athlete(pod).alerts.append(alert)
        self._emit(Change("alert", pod, alert=alert))

    def update(self, pod: str, **fields: object) -> None:
        """Set tile fields (``link``, ``battery_pct``, ``rep``, ``running``, ...)."""
        view = self.athlete(pod)
        for key, value in fields.items():
            if not hasattr(view, key) or key in ("pod", "strides", "alerts"):
                raise AttributeError(f"AthleteView has no settable field {key!r}")
            setattr(view, key, value)
        self._emit(Change("tile", pod))

    def tick(self, clock_s: float) -> None:
        """Advance the session clock without data (replay, quiet moments)."""
        self.clock_s = clock_s
        self._emit(Change("tile", ""))

    def reset(self) -> None:
        """Forget all data but keep athletes, names and targets (replay seek)."""
        for view in self.athletes.values():
            view.strides.clear()
            view.alerts.clear()
            view.rep = 0
            view.running = False
            view.distance_m = 0.0
            view.pod_coach = ""
            view.split_index = 0
            view.last_split_s = None
            view.last_split_plan_s = None
            view.cues_sent = 0
            view.active_alerts = ()
            view.speed_mps = None
        self.clock_s = 0.0
        self._emit(Change("reset"))
