"""What a practice publishes, turned into :class:`LiveState` changes for the page.

The feed is a :class:`stridecue.practice.Listener`: the practice (live, or a replay
the player drives) analyses, cues and records; the feed only shows. Analyzer events
become the tile's rep, 100 m splits and alerts; the coach's marks (lap, rep
start/stop) and targets act on the same state. Times are the practice's session
seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from stridecue.analysis import Event, EventKind, Targets
from stridecue.analysis.types import PROBLEMS
from stridecue.dashboard.state import LiveState
from stridecue.links import LinkState, Received
from stridecue.practice import CueSent, Listener, Row
from stridecue.protocol import RscMeasurement, Status, StrideEvent, StrideFlag
from stridecue.protocol.records import PodCoach
from stridecue.training import clipped_words, distance_words, halves_words, splits_words
from stridecue.words import cue_line, event_line, pod_coach_line


def alert_text(e: Event) -> str:
    """One line a coach reads, for an analyzer alert."""
    return event_line(e)


class Feed(Listener):
    """Feeds one :class:`LiveState` from one practice."""

    def __init__(self, state: LiveState, *, link_name: str = "") -> None:
        self.state = state
        self.link_name = link_name  # shown as the link of rows without one ("replay")
        self._rep_start_s: dict[str, float] = {}
        self._split_start_s: dict[str, float] = {}

    # --- athletes and links ---
    def athlete_added(self, row: Row) -> None:
        self.state.athlete(row.pod, row.name)
        self.state.update(
            row.pod,
            link=row.link.state.value if row.link is not None else self.link_name,
            activity=row.activity(self.state.clock_s),
        )

    def link_changed(self, row: Row, state: LinkState) -> None:
        self.state.update(row.pod, link=state.value, activity=row.activity(self.state.clock_s))

    # --- records ---
    def record(self, row: Row, item: Received, t_s: float) -> None:
        rec = item.record
        pod = row.pod
        if isinstance(rec, StrideEvent):
            if rec.flags & StrideFlag.FIRST:
                return  # the first stride from standing: not running form, not plotted
            self._speed(row)
            self.state.add_stride(
                pod,
                t_s,
                stride_time_s=rec.stride_time_s,
                stride_length_m=rec.stride_length_m,
                contact_time_s=rec.contact_time_s,
            )
        elif isinstance(rec, Status):
            if rec.battery_pct != 255:
                self.state.update(pod, battery_pct=rec.battery_pct)
        elif isinstance(rec, RscMeasurement) and rec.cadence_spm > 0:
            # a standard foot pod (no StrideCue service): cadence and stride length only,
            # one measurement at a time rather than per stride, so it is not analysed
            self._speed(row)
            self.state.add_stride(
                pod,
                t_s,
                stride_time_s=120.0 / rec.cadence_spm,
                stride_length_m=rec.stride_length_m or 0.0,
                contact_time_s=0.0,
            )

    def pod_coach(self, row: Row, state: PodCoach) -> None:
        """What the pod's own coach does, one line on the tile (empty: no coach)."""
        self.state.update(row.pod, pod_coach=pod_coach_line(state))

    def _speed(self, row: Row) -> None:
        view = self.state.athlete(row.pod)
        speed = row.speed_mps
        view.speed_mps = None if math.isnan(speed) else speed
        view.activity = row.activity(row.last_stride_s)  # shown with the stride

    def tick(self, rows: Iterable[Row], now_s: float) -> None:
        """Advance the page's clock and each tile's state (running, resting, ...)."""
        for row in rows:
            activity = row.activity(now_s)
            if self.state.athlete(row.pod).activity != activity:
                self.state.update(row.pod, activity=activity)
        self.state.tick(now_s)

    def event(self, row: Row, event: Event) -> None:
        """Show one analyzer event on the athlete's tile."""
        pod, t, d = row.pod, event.t_s, event.detail
        if event.kind in (*PROBLEMS, EventKind.RECOVERED):
            self.state.update(pod, active_alerts=tuple(sorted(row.alerts)))
        if event.kind == EventKind.REP_START:
            self.start_rep(pod, t, who="detected")
        elif event.kind == EventKind.REP_END:
            self.stop_rep(pod, t)
        elif event.kind == EventKind.SPLIT:
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
        elif event.kind == EventKind.REP_SUMMARY:
            # after the rep: its one distance, its splits, first against last 200 m
            if d.get("distance_m") is not None:  # the rep's one distance, everywhere
                self.state.update(pod, distance_m=float(d["distance_m"]))
            rep = f"rep {int(d.get('rep', 0)) + 1}: "
            self.state.add_alert(pod, t, "mark", rep + distance_words(d) + ", " + splits_words(d))
            halves = halves_words(d)
            if halves:
                self.state.add_alert(pod, t, "mark", halves)
            clipped = clipped_words(d)  # the pod over its range on most strides
            if clipped:
                self.state.add_alert(pod, t, "mark", clipped)
        else:
            self.state.add_alert(pod, t, str(event.kind), alert_text(event))

    def cue(self, row: Row, sent: CueSent) -> None:
        view = self.state.athlete(row.pod)
        self.state.update(row.pod, cues_sent=view.cues_sent + 1)
        self.state.add_alert(row.pod, sent.t_s, "cue", cue_line(sent.cue.pattern, sent.by))

    def note(self, row: Row, text: str) -> None:
        self.state.add_alert(row.pod, self.state.clock_s, "mark", text)

    # --- coach actions (live, and replayed from recorded marks) ---
    def mark(self, row: Row | None, t_s: float, text: str) -> None:
        pods = [row.pod] if row is not None else list(self.state.athletes)
        for pod in pods:
            self._mark(pod, t_s, text)

    def _mark(self, pod: str, t: float, text: str) -> None:
        low = text.lower()
        if low.startswith("rep start"):
            self.start_rep(pod, t)
        elif low.startswith("rep stop"):
            self.stop_rep(pod, t)
        elif low.startswith("lap"):
            self._lap(pod, t)
        else:
            self.state.add_alert(pod, t, "mark", text)

    def targets_set(self, row: Row, targets: Targets, t_s: float) -> None:
        self.state.update(row.pod, targets=targets)

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

    def _lap(self, pod: str, t: float) -> None:
        start = self._split_start_s.get(pod, self._rep_start_s.get(pod, 0.0))
        self._split_start_s[pod] = t
        self.state.update(pod, last_split_s=t - start, last_split_plan_s=None)
        self.state.add_alert(pod, t, "split", f"lap marked: {t - start:.1f} s since the last mark")
