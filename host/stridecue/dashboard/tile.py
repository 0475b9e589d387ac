"""One athlete's tile: numbers, a scrolling chart, alerts and the coach's buttons (Bokeh)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Coroutine, Sequence
from typing import Any

from bokeh.layouts import column, row
from bokeh.model import Model
from bokeh.models import (
    ColumnDataSource,
    CustomJSTickFormatter,
    DataRange1d,
    LinearAxis,
    Range1d,
)
from bokeh.models.annotations import Label, Span
from bokeh.models.widgets import Button, Div, Spinner, TextInput, Toggle
from bokeh.plotting import figure

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets
from stridecue.dashboard.controls import Controls
from stridecue.dashboard.state import Alert, AthleteView, StridePoint
from stridecue.errors import ConfigError
from stridecue.training import targets_plan_words
from stridecue.words import mmss, pace

CHART_WINDOW_S = 180.0  # the chart scrolls to show the last three minutes
TILE_WIDTH = 430
_AXIS_PX = 48  # the chart's left axis (label and ticks)
ALERT_COLORS = {
    "rhythm_loss": "#d62728",
    "stride_shortening": "#ff7f0e",
    "recovered": "#2ca02c",
    "cue": "#9467bd",
    "split": "#1f77b4",
    "mark": "#7f7f7f",
}
LINK_COLORS = {"connected": "#2ca02c", "replay": "#1f77b4", "reconnecting": "#ff7f0e"}
# the tile's state badge: a coach tells them apart from across the track
ACTIVITY_COLORS = {
    "running": "#2ca02c",
    "resting": "#8c8c8c",
    "finished": "#555555",
    "waiting": "#1f77b4",
    "starting": "#1f77b4",
    "link lost": "#d62728",
}
# session seconds -> mm:ss on the chart's time axis
MMSS_JS = (
    "const t = Math.max(0, Math.floor(tick)); const m = Math.floor(t / 60), s = t % 60;"
    " return String(m).padStart(2, '0') + ':' + String(s).padStart(2, '0');"
)

# the tile's one message line: what was set, or why not (the whole of it on hover)
_MSG_STYLE = (
    f"display:block;width:{TILE_WIDTH - 14}px;font-size:10.5px;white-space:nowrap;"
    "overflow:hidden;text-overflow:ellipsis"
)

_tasks: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[object, object, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _set(model: Model, name: str, value: object) -> None:
    """Set a property only when it changes: every change costs the browser a redraw."""
    if getattr(model, name) != value:
        setattr(model, name, value)


def _label(x: float, y: float, text: str, size: str, name: str = "", bold: bool = False) -> Label:
    """Text at a fixed place (pixels) on a canvas."""
    return Label(
        x=x,
        y=y,
        x_units="screen",
        y_units="screen",
        text=text,
        text_font_size=size,
        text_font_style="bold" if bold else "normal",
        name=name or None,
    )


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "\u2013" if value is None else f"{value:{spec}}{unit}"


class Tile:
    """Bokeh models of one tile; ``push`` adds strides, ``refresh`` redraws the numbers."""

    def __init__(self, view: AthleteView, controls: Controls, window: int) -> None:
        self.pod = view.pod
        self.controls = controls
        self.window = window
        self._syncing = False
        self.source = ColumnDataSource(data=self._columns([]), name=f"strides-{view.pod}")
        self.alert_source = ColumnDataSource(data={"t": [], "y": [], "color": [], "text": []})
        # fixed sizes: a text change then redraws the Div without re-laying out the page
        inner = TILE_WIDTH - 14
        self.header = Div(text="", css_classes=["sc-head"], width=inner, height=54)
        # the column lines this canvas up with the chart's frame, after the chart's axis
        self.numbers = self._numbers(view.pod, inner - _AXIS_PX)
        self.alerts = Div(text="", css_classes=["sc-alerts"], width=inner, height=54)
        self.message = Div(text="", css_classes=["sc-message"], width=inner, height=16)
        self.chart = self._chart()
        self.cue_button = Button(
            label="Cue", button_type="warning", disabled=not controls.can_cue, width=70
        )
        live = controls.can_cue  # a replay has no pod: nothing to mark or set for it
        self.lap_button = Button(label="Lap", width=60, disabled=not live)
        self.rep_toggle = Toggle(
            label="Start rep", button_type="success", width=100, disabled=not live
        )
        # one row of targets; the tile keeps its height (four tiles fit a laptop screen)
        self.cadence_in = Spinner(
            title="cadence", low=100, high=260, step=1, width=62, disabled=not live
        )
        self.length_in = Spinner(
            title="stride m", low=0.5, high=5, step=0.05, width=58, disabled=not live
        )
        self.goal_in = Spinner(
            title="goal 400 s", low=40, high=120, step=0.5, width=64, disabled=not live
        )
        self.rep_in = Spinner(
            title="rep m", low=20, high=10000, step=50, width=62, disabled=not live
        )
        # empty: the athlete's roster plan for the rep distance (listed as the placeholder)
        roster = sorted(controls.plans(view.pod))
        self.plan_in = TextInput(
            title="plan",
            placeholder=f"roster {'/'.join(f'{m:g}' for m in roster)}" if roster else "even:50",
            width=120,
            disabled=not live,
        )
        self.set_button = Button(label="Set targets", width=90, align="end", disabled=not live)
        self._wire()
        self.layout = column(
            self.header,
            self.numbers,
            self.chart,
            self.alerts,
            row(self.cue_button, self.lap_button, self.rep_toggle, self.set_button),
            row(self.cadence_in, self.length_in, self.goal_in, self.rep_in, self.plan_in),
            self.message,
            width=TILE_WIDTH,
            css_classes=["sc-tile"],
            name=f"tile-{view.pod}",
            styles={"border": "1px solid #ccc", "border-radius": "6px", "padding": "6px"},
        )
        self.refresh(view)

    @staticmethod
    def _columns(points: Sequence[StridePoint]) -> dict[str, Any]:
        return {
            "t": [p.t_s for p in points],
            "cadence": [p.cadence_spm for p in points],
            "length": [p.stride_length_m for p in points],
            "contact": [p.contact_time_ms for p in points],
        }

    def _numbers(self, pod: str, width: int) -> figure:
        """The live numbers, drawn on a small canvas (a text change repaints only it)."""
        fig = figure(
            height=50,
            width=width,
            x_range=Range1d(start=0, end=1),
            y_range=Range1d(start=0, end=1),
            toolbar_location=None,
            min_border=0,
            min_border_left=0,
            min_border_right=0,
            outline_line_color=None,
            x_axis_type=None,
            y_axis_type=None,
            name=f"numbers-{pod}",
        )
        fig.grid.visible = False
        self.values: dict[str, Label] = {}
        columns = (
            (0, "cadence", "steps/min"),
            (72, "length", "stride m"),
            (142, "contact", "contact ms"),
            (214, "pace", "s /100 m"),
        )
        for x, key, caption in columns:
            fig.add_layout(_label(x, 33, caption, "9pt"))
            self.values[key] = _label(x, 2, "\u2013", "19pt", f"{key}-{pod}", bold=True)
            fig.add_layout(self.values[key])
        return fig

    def _chart(self) -> figure:
        fig = figure(
            height=112,
            width=TILE_WIDTH - 14,
            x_range=DataRange1d(follow="end", follow_interval=CHART_WINDOW_S, range_padding=0),
            y_range=Range1d(start=100, end=280),
            toolbar_location=None,
            x_axis_label="practice time (mm:ss)",
            y_axis_label="steps/min",
            output_backend="canvas",
        )
        fig.extra_y_ranges = {"length": Range1d(start=0.5, end=5.0)}
        fig.add_layout(LinearAxis(y_range_name="length", axis_label="stride m"), "right")
        fig.line("t", "cadence", source=self.source, color="#1f77b4", line_width=2)
        fig.line(
            "t", "length", source=self.source, color="#e377c2", line_width=2, y_range_name="length"
        )
        fig.scatter("t", "y", source=self.alert_source, color="color", size=9, marker="triangle")
        self.cadence_target = Span(
            dimension="width", line_color="#1f77b4", line_dash="dashed", visible=False
        )
        fig.add_layout(self.cadence_target)
        self.length_target = Span(
            dimension="width",
            line_color="#e377c2",
            line_dash="dashed",
            visible=False,
            y_range_name="length",
        )
        fig.add_layout(self.length_target)
        fig.xaxis.formatter = CustomJSTickFormatter(code=MMSS_JS)
        fig.yaxis[0].axis_label_text_color = "#1f77b4"
        fig.yaxis[1].axis_label_text_color = "#e377c2"
        fig.xaxis.axis_label_text_font_size = "9pt"
        fig.yaxis.axis_label_text_font_size = "9pt"
        return fig

    def _wire(self) -> None:
        c = self.controls
        pod = self.pod
        self.cue_button.on_click(lambda: _spawn(c.cue(pod)))
        self.lap_button.on_click(lambda: c.lap(pod))
        self.rep_toggle.on_change("active", lambda _a, _o, new: self._rep(bool(new)))
        self.set_button.on_click(self._set_targets)

    def _rep(self, active: bool) -> None:
        if self._syncing:
            return
        (self.controls.start_rep if active else self.controls.stop_rep)(self.pod)

    def _set_targets(self) -> None:
        text = (self.plan_in.value_input or "").strip()  # as typed, Enter or not
        try:
            targets = Targets(
                cadence_spm=self.cadence_in.value,
                stride_length_m=self.length_in.value,
                goal_400_s=self.goal_in.value,
                plan=Plan.for_rep(text, self.rep_in.value) if text else None,
                rep_distance_m=self.rep_in.value,
            )
        except ConfigError as e:
            self.message.text = (
                f'<span class="sc-msg" style="{_MSG_STYLE};color:#d62728" '
                f'title="{html.escape(str(e))}">{html.escape(str(e))}</span>'
            )
            return
        # with a rep distance and no plan, the practice runs the athlete's roster plan
        applied = self.controls.set_targets(self.pod, targets)
        roster = targets.plan is None and applied.plan is not None
        words = targets_plan_words(applied, from_roster=roster)
        shown = f"set: {html.escape(words)}" if words else "targets set"
        self.message.text = f'<span class="sc-msg" style="{_MSG_STYLE}">{shown}</span>'

    # --- updates from the state ---
    def push(self, points: Sequence[StridePoint]) -> None:
        self.source.stream(self._columns(points), rollover=self.window)

    def push_alerts(self, alerts: Sequence[Alert], view: AthleteView) -> None:
        last = view.last
        y = last.cadence_spm if last is not None else 180.0
        self.alert_source.stream(
            {
                "t": [a.t_s for a in alerts],
                "y": [min(max(y, 105.0), 275.0)] * len(alerts),
                "color": [ALERT_COLORS.get(a.kind, "#000") for a in alerts],
                "text": [a.text for a in alerts],
            },
            rollover=50,
        )

    def reload(self, view: AthleteView) -> None:
        self.source.data = self._columns(list(view.strides))
        self.alert_source.data = {"t": [], "y": [], "color": [], "text": []}
        if view.alerts:
            self.push_alerts(list(view.alerts), view)
        self.refresh(view)

    def refresh(self, view: AthleteView) -> None:
        last = view.last
        color = LINK_COLORS.get(view.link, "#d62728")
        badge = ACTIVITY_COLORS.get(view.activity, "#555555")
        battery = _fmt(view.battery_pct, "d", " %") if view.battery_pct is not None else "\u2013"
        rep = f"rep {view.rep}" if view.rep else "no rep"
        header = (
            f'<b style="font-size:15px">{html.escape(view.name)}</b> '
            f'<span class="sc-state" style="background:{badge};color:#fff;'
            f'padding:1px 7px;border-radius:9px;font-weight:bold">'
            f"{html.escape(view.activity)}</span> "
            f'<span class="sc-link" style="color:{color}">● {html.escape(view.link)}</span> '
            f'<span class="sc-battery">battery {battery}</span>'
        )
        split = "\u2013"
        if view.last_split_s is not None:
            split = f"{view.last_split_s:.1f} s"
            if view.last_split_plan_s is not None:
                diff = view.last_split_s - view.last_split_plan_s
                split += f" ({diff:+.1f} s on plan)"
        header += (
            f'<div class="sc-rep" style="font-size:12px;color:#444">{rep} \u00b7 '
            f'<span class="sc-distance">{view.distance_m:.0f} m</span> \u00b7 '
            f'<span class="sc-split">last split {split}</span></div>'
            # what the pod's own coach does (its status), or nothing when it runs none
            f'<div class="sc-pod" style="font-size:12px;color:#6a3d9a">'
            f"{html.escape(view.pod_coach)}</div>"
        )
        _set(self.header, "text", header)
        v = self.values
        _set(v["cadence"], "text", _fmt(last.cadence_spm if last else None, ".0f"))
        _set(v["length"], "text", _fmt(last.stride_length_m if last else None, ".2f"))
        _set(v["contact"], "text", _fmt(last.contact_time_ms if last else None, ".0f"))
        speed = view.speed_mps if view.speed_mps is not None else float("nan")
        _set(v["pace"], "text", pace(speed).removesuffix(" s/100 m"))
        # an alert stays on the tile until the athlete recovers; then the latest events
        standing = "".join(
            f'<div class="sc-active" style="color:#fff;background:#d62728;padding:0 4px;'
            f'font-weight:bold">\u26a0 {html.escape(a)}</div>'
            for a in view.active_alerts
        )
        recent = list(view.alerts)[-(3 - min(2, len(view.active_alerts))) :][::-1]
        events = "".join(
            f'<div class="sc-alert sc-{a.kind}" '
            f'style="color:{ALERT_COLORS.get(a.kind, "#000")}">'
            f"{mmss(a.t_s)}  {html.escape(a.text)}</div>"
            for a in recent
        )
        alerts = standing + events or '<div class="sc-alert" style="color:#999">no alerts</div>'
        _set(self.alerts, "text", alerts)
        for span, value in (
            (self.cadence_target, view.targets.cadence_spm),
            (self.length_target, view.targets.stride_length_m),
        ):
            _set(span, "visible", value is not None)
            if value is not None:
                _set(span, "location", value)
        if self.rep_toggle.active != view.running:
            self._syncing = True
            try:
                self.rep_toggle.active = view.running
            finally:
                self._syncing = False
        _set(self.rep_toggle, "label", "Stop rep" if view.running else "Start rep")
