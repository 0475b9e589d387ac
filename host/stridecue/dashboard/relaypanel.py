"""The dashboard's relay panel: set a relay up, see each exchange and the team plan.

Below the athletes' tiles (they stay in view on a laptop; the coach scrolls down to
the relay). :class:`RelayBoard` is the panel's data, one per dashboard: it turns the
coach's form into a :class:`~stridecue.relay.RelaySetup` (one line when an entry is
wrong) and puts it in force on the practice's :class:`~stridecue.relaywatch.RelayDesk`
(which measures the exchanges, buzzes when asked, and keeps the setup in the
session); it listens to the desk and keeps, per exchange, the newest attempt
measured and both runners' positions through the zone, and the team plan leg by
leg. :class:`RelayPanel` draws it on one page (Bokeh), like a tile.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Range1d
from bokeh.models.annotations import BoxAnnotation, Span
from bokeh.models.widgets import Button, Checkbox, Div, Select, TextInput
from bokeh.plotting import figure

from stridecue import relay
from stridecue.dashboard.state import LiveState
from stridecue.practice import Practice
from stridecue.relay import Attempt, Exchange, RelayError, RelaySetup, S
from stridecue.relaywatch import RelayDesk, RelayListener, desk_for

MAX_RUNNERS = 4
SAMPLE_S = 0.05  # the positions figure: one point per runner this often
BEFORE_START_S = 2.0  # the figure begins this long before the outgoing runner goes
NOBODY = ""  # a leg row with no runner picked


# --- the coach's entries ---


def parse_time(text: str, what: str) -> float | None:
    """A leg's target time: ``10.9`` (seconds), ``0:52.5`` or ``1:58`` (m:ss); blank: none."""
    t = text.strip().lower().removesuffix("s").strip()
    if not t:
        return None
    try:
        if ":" in t:
            m, _, sec = t.partition(":")
            value = int(m) * 60.0 + float(sec)
        else:
            value = float(t)
    except ValueError:
        raise RelayError(f"{what}: {text.strip()!r} is not a time; write 10.9 or 1:58.2") from None
    if not (math.isfinite(value) and value > 0):
        raise RelayError(f"{what}: {text.strip()!r} must be a positive time")
    return value


_FEET = ("foot lengths", "foot length", "feet", "foot", "ft", "f")


def parse_mark(text: str, foot_m: float, what: str) -> float:
    """A check mark in metres: ``11``, ``11 m``, or foot lengths ``36 feet`` / ``36 ft``."""
    t = text.strip().lower()
    if not t:
        raise RelayError(f"{what}: give the check mark, e.g. 11 m or 36 feet")
    scale = 1.0
    for unit in _FEET:
        if t.endswith(unit):
            t, scale = t.removesuffix(unit).strip(), foot_m
            break
    else:
        t = t.removesuffix("m").strip()
    try:
        value = float(t) * scale
    except ValueError:
        raise RelayError(f"{what}: {text.strip()!r} is not a mark; write 11 m or 36 feet") from None
    if not (math.isfinite(value) and value > 0):
        raise RelayError(f"{what}: {text.strip()!r} must be a positive distance")
    return value


def _metres(text: str, what: str, default: float | None = None) -> float:
    t = text.strip().lower().removesuffix("m").strip()
    if not t and default is not None:
        return default
    try:
        value = float(t)
    except ValueError:
        raise RelayError(f"{what}: {text.strip()!r} is not a distance in metres") from None
    if not (math.isfinite(value) and value > 0):
        raise RelayError(f"{what}: {text.strip()!r} must be a positive distance in metres")
    return value


@dataclass(frozen=True, slots=True)
class LegEntry:
    """One row of the form as typed: the runner, their leg, and the exchange after it."""

    runner: str = NOBODY
    leg_m: str = ""
    target: str = ""  # the leg's planned time (optional)
    zone_m: str = ""  # the exchange to the next runner (blank: the usual zone)
    mark: str = ""  # metres or foot lengths
    approach_m: str = ""  # a drill's run-up to that zone (blank: from the legs)


def setup_from_form(entries: Sequence[LegEntry], *, go_buzz: bool = False) -> RelaySetup:
    """The relay the coach typed; RelayError (one line, naming the entry) when it is wrong."""
    legs = [e for e in entries if e.runner != NOBODY]
    if len(legs) < 2:
        raise RelayError("pick at least two runners, in running order from leg 1")
    if any(e.runner == NOBODY for e in entries[: len(legs)]):
        raise RelayError("pick the runners in running order, from leg 1, with no gap")
    team = [e.runner for e in legs]
    twice = sorted({n for n in team if team.count(n) > 1})
    if twice:
        raise RelayError(f"{twice[0]} runs two legs; each leg needs a different runner")
    legs_m = [_metres(e.leg_m, f"leg {k + 1} distance") for k, e in enumerate(legs)]
    times = [parse_time(e.target, f"leg {k + 1} target") for k, e in enumerate(legs)]
    given = [t for t in times if t is not None]
    if given and len(given) != len(times):
        raise RelayError("give a target time for every leg, or for none")
    usual = relay.ZONE_SPRINT_M if max(legs_m) <= 100.0 else relay.ZONE_LONG_M
    zones = [_metres(e.zone_m, f"exchange {k + 1} zone", usual) for k, e in enumerate(legs[:-1])]
    marks = [
        parse_mark(e.mark, relay.FOOT_M, f"exchange {k + 1} check mark")
        for k, e in enumerate(legs[:-1])
    ]
    target_m = min(relay.TARGET_M, min(zones) * 2.0 / 3.0)
    setup = RelaySetup(
        team=tuple(team),
        legs_m=tuple(legs_m),
        zones_m=tuple(zones),
        marks_m=tuple(marks),
        targets_s=tuple(given),
        target_m=target_m,
        go_buzz=go_buzz,
    )
    approach = [
        _metres(e.approach_m, f"exchange {k + 1} run-up", setup.approach_m[k])
        for k, e in enumerate(legs[:-1])
    ]
    for k, (run_up, mark) in enumerate(zip(approach, marks, strict=True)):
        if mark >= run_up:
            raise RelayError(
                f"exchange {k + 1}: the check mark ({mark:.1f} m) must be closer to the zone "
                f"than the run-up ({run_up:g} m); lengthen the run-up or move the mark in"
            )
    return replace(setup, approach_m=tuple(approach))


def form_of(setup: RelaySetup) -> list[LegEntry]:
    """The form rows that give ``setup`` back (the page shows the setup in force); a
    run-up is shown only when it is not the one the legs give."""
    usual = replace(setup, approach_m=()).approach_m
    out = []
    for i, name in enumerate(setup.team):
        last = i == len(setup.team) - 1
        out.append(
            LegEntry(
                runner=name,
                leg_m=f"{setup.legs_m[i]:g}",
                target=f"{setup.targets_s[i]:g}" if setup.targets_s else "",
                zone_m="" if last else f"{setup.zones_m[i]:g}",
                mark="" if last else f"{setup.marks_m[i]:.2f}".rstrip("0").rstrip(".") + " m",
                approach_m=""
                if last or setup.approach_m[i] == usual[i]
                else f"{setup.approach_m[i]:g}",
            )
        )
    return out


# --- what the panel shows ---


def watch_time(t_s: float) -> str:
    """A leg or team time as a coach's stopwatch shows it: ``10.9 s``, ``3:21.4``."""
    if t_s < 60.0:
        return f"{t_s:.1f} s"
    m, s = divmod(round(t_s, 1), 60.0)
    return f"{int(m)}:{s:04.1f}"


def against_plan(diff_s: float) -> str:
    """``0.4 s behind plan`` / ``0.4 s ahead of plan`` / ``on plan``."""
    if abs(diff_s) < 0.05:
        return "on plan"
    return f"{abs(diff_s):.1f} s {'behind' if diff_s > 0 else 'ahead of'} plan"


@dataclass(frozen=True, slots=True)
class ExchangeShown:
    """The newest measured attempt at one exchange, in the panel's terms."""

    leg: int  # 0: leg 1 hands to leg 2
    attempt: int  # 1, 2, ... this exchange's attempts since the setup was applied
    incoming: str
    outgoing: str
    exchange: Exchange
    lines: tuple[str, ...]
    t: tuple[float, ...]  # seconds from the outgoing runner's start
    x_in: tuple[float, ...]  # metres from the start of the zone
    x_out: tuple[float, ...]


def exchange_lines(ex: Exchange, incoming: str, outgoing: str) -> tuple[str, ...]:
    """The exchange in short lines: hand-off, speeds, slowing, zone time, mark advice."""
    out = []
    if ex.handoff_zone_m is None:
        out.append(f"No hand-off: {incoming} never got within {ex.reach_m:g} m")
    else:
        x = ex.handoff_zone_m
        where = (
            f"{x:.1f} m into the {ex.zone_m:g} m zone"
            if ex.in_zone
            else f"{-x:.1f} m BEFORE the zone"
            if x < 0
            else f"{x - ex.zone_m:.1f} m PAST the zone"
        )
        out.append(f"Hand-off {where}{'' if ex.in_zone else ' (outside it)'}")
        out.append(
            f"{incoming} {ex.incoming_speed_mps or 0:.1f} m/s, "
            f"{outgoing} {ex.outgoing_speed_mps or 0:.1f} m/s"
        )
    if ex.incoming_slowed and ex.incoming_last_mps is not None:
        out.append(
            f"{incoming} slowed: {ex.incoming_last_mps:.1f} m/s at the end, "
            f"{ex.incoming_pace_mps:.1f} m/s in the leg"
        )
    elif ex.incoming_last_mps is not None:
        out.append(f"{incoming} did not slow")
    if ex.zone_time_s is not None:
        out.append(f"Baton through the zone in {ex.zone_time_s:.2f} s")
    a = ex.mark_advice_m
    if a is None:
        out.append(f"No mark gives a hand-off at {ex.target_m:g} m at these speeds")
    elif ex.mark_is_right:
        out.append(f"Check mark right at {ex.mark_m:.1f} m ({ex.mark_m / ex.foot_m:.0f} feet)")
    else:
        to = ex.mark_m + a
        out.append(
            f"Move the mark {abs(a):.1f} m ({abs(a) / ex.foot_m:.0f} feet) "
            f"{'further out' if a > 0 else 'closer'}: {to:.1f} m ({to / ex.foot_m:.0f} feet)"
        )
    return tuple(out)


def positions(at: Attempt) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Both runners' positions through the zone: (t from the outgoing start, x_in, x_out)."""
    ex = at.exchange
    inc = relay.Path(at.incoming_strides, -ex.approach_m)
    out = relay.Path(at.outgoing_strides, 0.0)
    t0 = ex.start_t_s
    ends = [out.time_at(ex.zone_m + 5.0) or out.t1, (ex.handoff_t_s or t0) + 1.0]
    t1 = min(max(ends), max(inc.t1, out.t1))
    n = max(2, int((t1 - (t0 - BEFORE_START_S)) / SAMPLE_S) + 1)
    ts = [t0 - BEFORE_START_S + k * SAMPLE_S for k in range(n)]
    return (
        tuple(round(t - t0, 3) for t in ts),
        tuple(round(inc.at(t), 2) for t in ts),
        tuple(round(out.at(t), 2) for t in ts),
    )


@dataclass(frozen=True, slots=True)
class LegShown:
    """One leg of the team plan: what the runner ran (or is on pace for) against plan."""

    runner: str
    leg_m: float
    target_s: float | None
    status: str  # "ran" | "running" | "to run"
    time_s: float | None  # ran: measured; running: projected; to run: None
    diff_s: float | None  # time - target (+: behind plan)


@dataclass(frozen=True, slots=True)
class PlanShown:
    legs: tuple[LegShown, ...]
    planned_s: float | None  # the team's total plan
    projected_s: float | None  # ran + running's projection + plan for legs to run
    summary: str


def leg_span(setup: RelaySetup, i: int) -> tuple[float, float]:
    """Where leg ``i`` begins and ends, metres from the runner's own first stride.

    The first runner starts on their line; the others from the start of the zone
    before their leg (their line is ``zone_before_line_m`` in); every leg but the last
    ends on the line in the next zone, ``approach_m`` + that zone's part before it."""
    n = len(setup.team)
    start = 0.0 if i == 0 else relay.zone_before_line_m(setup.zones_m[i - 1])
    if i < n - 1:
        end = setup.approach_m[i] + relay.zone_before_line_m(setup.zones_m[i])
    else:
        end = start + setup.legs_m[i]
    return start, end


def leg_time(setup: RelaySetup, i: int, strides: Sequence[S]) -> tuple[str, float | None]:
    """("ran" | "running" | "to run", seconds) for leg ``i`` from the runner's newest run.

    Ran: line to line on their strides (a drill shorter or longer than the leg is
    scaled to the leg at that speed); running: elapsed plus the rest at their last
    stride's speed."""
    if not strides:
        return "to run", None
    run = relay.runs(strides)[-1]
    path = relay.Path(run, 0.0)
    start, end = leg_span(setup, i)
    span = end - start
    scale = setup.legs_m[i] / span if span > 0 else 1.0
    t_start = path.time_at(start)
    if t_start is None or span <= 0:
        return "to run", None
    t_end = path.time_at(end)
    if t_end is not None:
        return "ran", (t_end - t_start) * scale
    covered = path.x[-1] - start
    v = path.last_speed_mps
    if covered <= 0 or not v > 0:
        return "to run", None
    return "running", ((path.t1 - t_start) + (span - covered) / v) * scale


def team_plan_shown(setup: RelaySetup, strides: dict[str, list[S]]) -> PlanShown:
    """The plan leg by leg (:func:`stridecue.relay.team_plan` for the differences) and the
    team's projected total against the planned one."""
    done = [leg_time(setup, i, strides.get(name, [])) for i, name in enumerate(setup.team)]
    speeds = [setup.legs_m[i] / t if t else None for i, (_, t) in enumerate(done)]
    rows = relay.team_plan(setup, speeds)
    legs = tuple(
        LegShown(r.runner, r.leg_m, r.target_s, status, t, r.diff_s)
        for r, (status, t) in zip(rows, done, strict=True)
    )
    planned = rows[-1].team_target_s
    parts = [leg.time_s if leg.time_s is not None else leg.target_s for leg in legs]
    known = [p for p in parts if p is not None]
    projected = sum(known) if len(known) == len(parts) else None
    if not any(leg.time_s is not None for leg in legs):
        summary = "No leg run yet" + (f"; plan {watch_time(planned)}" if planned else "")
    elif planned is None:
        ran = sum(leg.time_s for leg in legs if leg.time_s is not None)
        summary = f"Legs so far {watch_time(ran)} (give target times for a plan)"
    else:
        assert projected is not None
        summary = (
            f"Team: {watch_time(projected)} projected against {watch_time(planned)} planned, "
            f"{against_plan(projected - planned)}"
        )
    return PlanShown(legs, planned, projected, summary)


@dataclass
class RelayBoard(RelayListener):
    """The relay panel's data on one dashboard, fed by the practice's relay desk."""

    state: LiveState
    desk: RelayDesk
    exchanges: dict[int, ExchangeShown] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    plan: PlanShown | None = None
    version: int = 0  # bumped on every change the pages draw
    read_only: bool = False  # a replay: the setups come from the session, not the page

    def __post_init__(self) -> None:
        self.desk.listeners.append(self)
        if self.desk.setup is not None:
            self.relay_set(self.desk.setup)

    @property
    def setup(self) -> RelaySetup | None:
        return self.desk.setup

    def follow(self, desk: RelayDesk) -> None:
        """Show ``desk`` from now on (a replay's fresh practice after a seek back)."""
        if self.desk is not desk:
            if self in self.desk.listeners:
                self.desk.listeners.remove(self)
            self.desk = desk
            desk.listeners.append(self)
        self.exchanges.clear()
        self.attempts.clear()
        self.plan = None
        if desk.setup is not None:
            self.relay_set(desk.setup)
        else:
            self._changed()

    def apply(self, entries: Sequence[LegEntry], *, go_buzz: bool = False) -> RelaySetup:
        """Put the coach's form in force; RelayError (one line) and nothing changes if wrong."""
        if self.read_only:
            raise RelayError(
                "a replay shows the relay as it was set up; set a relay up during a practice"
            )
        known = {v.name for v in self.state.athletes.values()}
        setup = setup_from_form(entries, go_buzz=go_buzz)
        missing = [n for n in setup.team if n not in known]
        if missing:
            raise RelayError(f"{missing[0]} is not on this dashboard; pick a runner from the list")
        self.desk.apply(setup)
        return setup

    def _changed(self) -> None:
        self.version += 1
        self.state.notify("relay")

    # --- from the desk ---
    def relay_set(self, setup: RelaySetup) -> None:
        self.exchanges.clear()
        self.attempts.clear()
        self.plan = team_plan_shown(setup, {})
        self._changed()

    def relay_exchange(self, attempt: Attempt) -> None:
        n = self.attempts[attempt.leg] = self.attempts.get(attempt.leg, 0) + 1
        t, x_in, x_out = positions(attempt)
        self.exchanges[attempt.leg] = ExchangeShown(
            attempt.leg,
            n,
            attempt.incoming,
            attempt.outgoing,
            attempt.exchange,
            exchange_lines(attempt.exchange, attempt.incoming, attempt.outgoing),
            t,
            x_in,
            x_out,
        )
        self._changed()

    def relay_stride(self, runner: str, t_s: float) -> None:
        setup, watch = self.desk.setup, self.desk.watch
        if setup is None or watch is None:
            return
        plan = team_plan_shown(setup, watch.strides)
        if plan != self.plan:
            self.plan = plan
            self._changed()


def attach(state: LiveState, practice: Practice, *, read_only: bool = False) -> RelayBoard:
    """Give ``state``'s pages a relay panel for ``practice`` (its relay desk); read-only
    (a replay): no setup form, the setups are the session's."""
    board = RelayBoard(state, desk_for(practice), read_only=read_only)
    state.relay = board
    return board


# --- the panel on one page ---


def _set(model: Any, name: str, value: object) -> None:
    if getattr(model, name) != value:
        setattr(model, name, value)


FIG_W, FIG_H = 330, 200
_IN_COLOR, _OUT_COLOR = "#1f77b4", "#d62728"


class RelayPanel:
    """Bokeh models of the relay panel on one page; ``refresh`` redraws from the board."""

    def __init__(self, board: RelayBoard) -> None:
        self.board = board
        self._drawn = -1
        self.toggle = Button(label="Set up a relay", width=140, name="relay-toggle")
        self.rows: list[tuple[Select, TextInput, TextInput, TextInput, TextInput, TextInput]] = []
        lines = []
        for k in range(MAX_RUNNERS):
            runner = Select(title=f"Leg {k + 1} runner", width=130, name=f"relay-runner-{k + 1}")
            leg = TextInput(title="leg m", value="100", width=70, name=f"relay-leg-{k + 1}")
            target = TextInput(
                title="target time", placeholder="10.9 or 0:52.5", width=110,
                name=f"relay-target-{k + 1}",
            )  # fmt: skip
            zone = TextInput(
                title=f"zone {k + 1}\u2192{k + 2} m", placeholder="30", width=90,
                name=f"relay-zone-{k + 1}", visible=k < MAX_RUNNERS - 1,
            )  # fmt: skip
            mark = TextInput(
                title="check mark", placeholder="11 m or 36 feet", width=120,
                name=f"relay-mark-{k + 1}", visible=k < MAX_RUNNERS - 1,
            )  # fmt: skip
            run_up = TextInput(
                title="run-up m", placeholder="from legs", width=80,
                name=f"relay-approach-{k + 1}", visible=k < MAX_RUNNERS - 1,
            )  # fmt: skip
            self.rows.append((runner, leg, target, zone, mark, run_up))
            lines.append(row(runner, leg, target, zone, mark, run_up))
        self.go_buzz = Checkbox(
            label="Go buzz (experimental): buzz the outgoing runner as the incoming one "
            "reaches the mark",
            active=False,
            name="relay-go-buzz",
        )
        self.apply_button = Button(
            label="Apply relay", button_type="primary", width=120, name="relay-apply"
        )
        self.message = Div(text="", css_classes=["sc-relay-msg"], name="relay-message", width=760)
        self.form = column(*lines, row(self.go_buzz), row(self.apply_button, self.message))
        self.form.visible = board.setup is None and not board.read_only
        self.toggle.visible = not board.read_only
        self.heading = Div(text="", css_classes=["sc-relay-head"], width=760, name="relay-head")
        self.figures: list[Any] = []
        self.sources: list[ColumnDataSource] = []
        self.handoffs: list[ColumnDataSource] = []
        self.texts: list[Div] = []
        self.zone_boxes: list[BoxAnnotation] = []
        self.mark_lines: list[Span] = []
        cells = []
        for k in range(MAX_RUNNERS - 1):
            text = Div(text="", width=FIG_W, name=f"relay-exchange-{k + 1}",
                       css_classes=["sc-relay-exchange"])  # fmt: skip
            fig, src, hand, box, mark = self._figure(k)
            self.texts.append(text)
            self.figures.append(fig)
            self.sources.append(src)
            self.handoffs.append(hand)
            self.zone_boxes.append(box)
            self.mark_lines.append(mark)
            cells.append(column(text, fig, visible=False))
        self.cells = cells
        self.plan = Div(text="", css_classes=["sc-relay-plan"], name="relay-plan", width=760)
        self.layout = column(
            row(Div(text="<b style='font-size:16px'>Relay</b>", width=60), self.toggle,
                self.heading),
            self.form,
            row(*cells, styles={"gap": "8px"}),
            self.plan,
            name="relay-panel",
            css_classes=["sc-relay"],
            styles={"border-top": "1px solid #ccc", "padding-top": "6px", "margin-top": "8px"},
        )  # fmt: skip
        self.toggle.on_click(self._toggle)
        self.apply_button.on_click(self._apply)
        self.runners_changed()
        self.refresh()

    def _figure(self, k: int) -> tuple[Any, ColumnDataSource, ColumnDataSource, Any, Any]:
        src = ColumnDataSource(
            data={"t": [], "x_in": [], "x_out": []}, name=f"relay-positions-{k + 1}"
        )
        hand = ColumnDataSource(data={"t": [], "x": []})
        fig = figure(
            width=FIG_W,
            height=FIG_H,
            toolbar_location=None,
            x_axis_label="s from the outgoing runner's start",
            y_axis_label="m from the zone",
            y_range=Range1d(start=-20, end=35),
            output_backend="canvas",
            name=f"relay-figure-{k + 1}",
        )
        box = BoxAnnotation(bottom=0, top=30, fill_color="#2ca02c", fill_alpha=0.1)
        mark = Span(dimension="width", location=-11, line_dash="dotted", line_color="#555")
        fig.add_layout(box)
        fig.add_layout(mark)
        fig.line("t", "x_in", source=src, color=_IN_COLOR, line_width=2, legend_label="incoming")
        fig.line("t", "x_out", source=src, color=_OUT_COLOR, line_width=2, legend_label="outgoing")
        fig.scatter("t", "x", source=hand, size=10, color="black", marker="diamond")
        fig.legend.location = "bottom_right"
        fig.legend.label_text_font_size = "8pt"
        fig.xaxis.axis_label_text_font_size = "8pt"
        fig.yaxis.axis_label_text_font_size = "8pt"
        return fig, src, hand, box, mark

    # --- the coach's actions ---
    def _toggle(self) -> None:
        if self.board.read_only:
            return  # a replay: nothing to set up
        self.form.visible = not self.form.visible
        self._label_toggle()

    def _label_toggle(self) -> None:
        if self.form.visible:
            label = "Hide relay setup"
        else:
            label = "Change relay" if self.board.setup is not None else "Set up a relay"
        _set(self.toggle, "label", label)

    def entries(self) -> list[LegEntry]:
        return [
            LegEntry(
                str(r.value or NOBODY),
                leg.value,
                target.value,
                zone.value,
                mark.value,
                run_up.value,
            )
            for r, leg, target, zone, mark, run_up in self.rows
        ]

    def _apply(self) -> None:
        try:
            setup = self.board.apply(self.entries(), go_buzz=bool(self.go_buzz.active))
        except RelayError as e:
            self.message.text = (
                f'<span class="sc-msg" style="color:#d62728">{html.escape(str(e))}</span>'
            )
            return
        self.message.text = (
            f"<span class='sc-msg'>relay set: {html.escape(', '.join(setup.team))}</span>"
        )
        self.form.visible = False
        self._label_toggle()

    # --- updates ---
    def runners_changed(self) -> None:
        """The athletes on the page changed: the runner lists follow."""
        names = sorted(v.name for v in self.board.state.athletes.values())
        options: list[str | tuple[str, str]] = [(NOBODY, "\u2013"), *names]
        for r, *_ in self.rows:
            _set(r, "options", options)

    def _fill_form(self, setup: RelaySetup) -> None:
        entries = form_of(setup)
        entries += [LegEntry()] * (MAX_RUNNERS - len(entries))
        for (r, leg, target, zone, mark, run_up), e in zip(self.rows, entries, strict=True):
            _set(r, "value", e.runner)
            if e.runner != NOBODY:
                _set(leg, "value", e.leg_m)
                _set(target, "value", e.target)
                _set(zone, "value", e.zone_m)
                _set(mark, "value", e.mark)
                _set(run_up, "value", e.approach_m)
        _set(self.go_buzz, "active", setup.go_buzz)

    def refresh(self) -> None:
        """Redraw from the board when it changed since the last time."""
        b = self.board
        if b.version == self._drawn:
            return
        self._drawn = b.version
        setup = b.setup
        self._label_toggle()
        replay = "replay, as set up then: " if b.read_only else ""
        if setup is None:
            none = (
                "not set up yet at this point of the replay" if b.read_only else "no relay set up"
            )
            _set(self.heading, "text", f"<i>{none}</i>")
            _set(self.plan, "text", "")
            for cell in self.cells:
                _set(cell, "visible", False)
            return
        self._fill_form(setup)
        buzz = " &middot; go buzz on (experimental)" if setup.go_buzz else ""
        marks = ", ".join(f"{m:.1f} m" for m in setup.marks_m)
        team = html.escape(" \u2192 ".join(setup.team))
        _set(self.heading, "text", f"{replay}{team} &middot; check marks {marks}{buzz}")
        for k, cell in enumerate(self.cells):
            shown = b.exchanges.get(k)
            _set(cell, "visible", shown is not None)
            if shown is None:
                continue
            ex = shown.exchange
            title = (
                f"<b>Exchange {k + 1}: {html.escape(shown.incoming)} \u2192 "
                f"{html.escape(shown.outgoing)}</b> (attempt {shown.attempt})"
            )
            body = "<br>".join(html.escape(line) for line in shown.lines)
            _set(self.texts[k], "text", f"<div class='sc-relay-ex'>{title}<br>{body}</div>")
            self.sources[k].data = {"t": list(shown.t), "x_in": list(shown.x_in),
                                    "x_out": list(shown.x_out)}  # fmt: skip
            hand = ex.handoff_t_s
            self.handoffs[k].data = (
                {"t": [hand - ex.start_t_s], "x": [ex.handoff_zone_m]}
                if hand is not None
                else {"t": [], "x": []}
            )
            _set(self.zone_boxes[k], "top", ex.zone_m)
            _set(self.mark_lines[k], "location", -ex.mark_m)
            fig = self.figures[k]
            _set(fig.y_range, "start", -(ex.mark_m + 12.0))
            _set(fig.y_range, "end", ex.zone_m + 8.0)
        _set(self.plan, "text", _plan_html(b.plan))


def _plan_html(plan: PlanShown | None) -> str:
    if plan is None:
        return ""

    def t(v: float | None) -> str:
        return "\u2013" if v is None else watch_time(v)

    rows = []
    for i, leg in enumerate(plan.legs):
        status = {"ran": "ran", "running": "on pace for", "to run": "to run"}[leg.status]
        diff = "" if leg.diff_s is None else against_plan(leg.diff_s)
        rows.append(
            f"<tr><td>{i + 1}</td><td>{html.escape(leg.runner)}</td><td>{leg.leg_m:g} m</td>"
            f"<td>{t(leg.target_s)}</td><td>{status} {t(leg.time_s) if leg.time_s else ''}</td>"
            f"<td>{diff}</td></tr>"
        )
    head = (
        "<tr><th>leg</th><th>runner</th><th>distance</th><th>plan</th><th>time</th>"
        "<th>against plan</th></tr>"
    )
    return (
        "<div class='sc-relay-table'><b>Team plan</b>"
        "<table style='border-collapse:collapse' cellpadding='3'>"
        f"{head}{''.join(rows)}</table><div class='sc-relay-total'><b>"
        f"{html.escape(plan.summary)}</b></div></div>"
    )
