"""The terminal side of a practice: the live table, the coach's typed lines, the run.

On a terminal the view redraws one row per athlete four times a second (cadence,
stride length, contact time, link state, alerts); elsewhere (a pipe, a log file,
``--headless``) it prints each event as a line and a progress line now and then.
Lines typed while it runs are the coach's: ``cue NAME`` buzzes that athlete,
anything else is stored as a mark in the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import signal
import sys
import textwrap
import threading
from collections import deque
from typing import TextIO

from stridecue.analysis import Event, EventKind, Targets
from stridecue.practice import ALERTS, CueSent, Listener, Practice, Row, latency_ms
from stridecue.protocol.records import PodCoach
from stridecue.training import clipped_count_words, doubtful_words, rep_words, targets_plan_words
from stridecue.words import cue_line, event_line, mmss, pace, pod_coach_line

_CLEAR = "\x1b[H\x1b[J"


def _num(x: float, digits: int, unit: str = "") -> str:
    return "\u2013" if math.isnan(x) else f"{x:.{digits}f}{unit}"


# the table: (header, width, align); 80 columns with the alerts column
_COLUMNS = (
    ("athlete", 10, "<"),
    ("state", 9, "<"),
    ("strides", 7, ">"),
    ("cadence", 7, ">"),
    ("stride", 6, ">"),
    ("contact", 8, ">"),
    ("/100 m", 7, ">"),
)


_SHORT = {"rhythm lost": "rhythm", "strides shortening": "shortening"}  # both at once


def _cells(values: tuple[str, ...]) -> str:
    return " ".join(f"{v[:w]:{a}{w}}" for v, (_, w, a) in zip(values, _COLUMNS, strict=True))


class View(Listener):
    """The terminal view of a practice: a table redrawn 4x a second, or event lines.

    Fits 80x24. Says what happened in the coach's words at the practice's time
    (mm:ss); statistics and latencies only with ``verbose``.
    """

    def __init__(
        self,
        practice: Practice,
        title: str,
        out: TextIO,
        live: bool,
        *,
        verbose: bool = False,
        interactive: bool = True,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.practice = practice
        self.title = title
        self.notes = notes  # where it records, the dashboard's URL
        self.out = out
        self.live = live
        self.verbose = verbose
        self.interactive = interactive  # the coach can type (not in a replay)
        self.events: deque[str] = deque(maxlen=16)
        practice.subscribe(self)

    def line(self, row: Row, text: str, t_s: float | None = None) -> None:
        t = self.practice.now_s() if t_s is None else t_s
        line = f"{mmss(t)} {row.name}: {text}"
        self.events.append(line)
        if not self.live:
            print(line, file=self.out, flush=True)

    # --- what the practice publishes ---
    def event(self, row: Row, event: Event) -> None:
        if event.kind in ALERTS or event.kind == EventKind.RECOVERED:
            self.line(row, event_line(event, verbose=self.verbose), event.t_s)
        elif event.kind == EventKind.REP_SUMMARY:
            # rep_words says it when the pod was over its range on most strides
            parts = [rep_words(event.detail)]
            if self.verbose:
                parts += [doubtful_words(event.detail), clipped_count_words(event.detail)]
            self.line(row, "; ".join(p for p in parts if p), event.t_s)

    def cue(self, row: Row, sent: CueSent) -> None:
        self.line(row, cue_line(sent.cue.pattern, sent.by, sent.reason, verbose=self.verbose))

    def note(self, row: Row, text: str) -> None:
        self.line(row, text)

    def targets_set(self, row: Row, targets: Targets, t_s: float) -> None:
        """Which plan the athlete runs to (at the start, and whenever it changes)."""
        plan = self.practice.plans.get(row.athlete, {}).get(targets.rep_distance_m or 0.0)
        roster = plan is not None and plan == targets.plan
        words = targets_plan_words(targets, from_roster=roster)
        if words:
            self.line(row, words, t_s)

    def pod_coach(self, row: Row, state: PodCoach) -> None:
        text = pod_coach_line(state)
        if text:
            self.line(row, text)

    # --- drawing ---
    def table(self, now_s: float) -> list[str]:
        lines = [_cells(tuple(h for h, _, _ in _COLUMNS)) + "  alerts"]
        for r in self.practice.rows.values():
            contact = "RSC only" if r.rsc_only else _num(r.contact_ms, 0, " ms")
            alerts = sorted(r.alerts)
            shown = alerts[0] if len(alerts) == 1 else ", ".join(_SHORT.get(a, a) for a in alerts)
            lines.append(
                _cells(
                    (
                        r.name,
                        r.activity(now_s),
                        str(r.strides),
                        _num(r.cadence_spm, 0),
                        _num(r.stride_length_m, 2, " m"),
                        contact,
                        pace(r.speed_mps).replace(" s/100 m", " s"),
                    )
                )
                + f"  {shown}"
            )
        return lines

    def screen(self, width: int = 80, height: int = 24) -> list[str]:
        """The whole screen, every line at most ``width`` long."""
        now = self.practice.now_s()
        clock = mmss(now)
        head = [self.title[: width - len(clock) - 2].ljust(width - len(clock)) + clock]
        if self.practice.recorder is not None:
            head.append(f"recording to {self.practice.recorder.path}")
        head += list(self.notes)
        table = self.table(now)
        foot = ["", "type cue NAME + Enter to buzz an athlete; any other line is a mark"]
        foot = foot if self.interactive else []
        room = max(2, height - len(head) - 1 - len(table) - 2 - len(foot))
        # the newest events that fit, each wrapped (a rep's summary is long: its splits
        # and last 200 m are what the coach reads, not to be cut off)
        events: list[str] = []
        for e in reversed(self.events):
            wrapped = textwrap.wrap(
                e, width, initial_indent="  ", subsequent_indent="        "
            ) or ["  "]
            if events and len(events) + len(wrapped) > room:
                break
            events[:0] = wrapped
        events = events[-room:] or ["  (nothing yet)"]
        lines = [*head, "", *table, "", *events, *foot]
        return [ln if len(ln) <= width else ln[: width - 1] + "\u2026" for ln in lines]

    def draw(self) -> None:
        size = shutil.get_terminal_size((80, 24))
        lines = self.screen(max(40, size.columns), max(10, size.lines))
        self.out.write(_CLEAR + "\n".join(lines) + "\n")
        self.out.flush()

    def progress(self) -> None:
        p = self.practice
        parts = [f"{r.name} {r.strides} strides" for r in p.rows.values()]
        print(f"{mmss(p.now_s())} {', '.join(parts)}", file=sys.stderr)

    async def run(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(0.25)
            n += 1
            if self.live:
                self.draw()
            elif n % 40 == 0:
                self.progress()


def _read_coach(loop: asyncio.AbstractEventLoop, practice: Practice) -> None:
    """Lines from stdin (a daemon thread: a blocked read never holds up exit)."""

    pending: set[asyncio.Task[bool]] = set()

    def on_line(line: str) -> None:
        text = line.strip()
        if text.startswith("cue "):
            task = asyncio.ensure_future(practice.manual_cue(text[4:].strip()))
            pending.add(task)
            task.add_done_callback(pending.discard)
        elif text:
            practice.mark(text)

    def reader() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(on_line, line)
        except (OSError, ValueError, RuntimeError):
            return  # no usable stdin (closed, or the loop has ended)

    if sys.stdin is not None and not sys.stdin.closed:
        threading.Thread(target=reader, name="coach input", daemon=True).start()


async def run_practice(
    practice: Practice,
    title: str,
    *,
    headless: bool,
    duration_s: float | None = None,
    dashboard: tuple[str, int] | None = None,
    notes: tuple[str, ...] = (),
    verbose: bool = False,
    interactive: bool = True,
) -> None:
    """Run ``practice`` with the terminal view, and the web dashboard when asked.

    ``notes`` are shown under the title (where it records); the dashboard's URL
    joins them, so the first screen clear does not wipe it.
    """
    dash = None
    if dashboard is not None:
        from stridecue.dashboard.live import serve_practice  # Bokeh loads only here

        dash = serve_practice(practice, title=title, host=dashboard[0], port=dashboard[1])
        print(dash.banner(), flush=True)
        notes = (*notes, *dash.banner().splitlines())
    out = sys.stdout
    view = View(
        practice,
        title,
        out,
        live=not headless and out.isatty(),
        verbose=verbose,
        interactive=interactive,
        notes=notes,
    )
    try:
        await _run_view(practice, view, duration_s=duration_s)
    finally:
        if dash is not None:
            await dash.close()


async def _run_view(practice: Practice, view: View, *, duration_s: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, practice.stop)
    await practice.connect()
    if view.interactive:
        _read_coach(loop, practice)
    drawer = asyncio.create_task(view.run())
    try:
        await practice.run(duration_s)
    finally:
        drawer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drawer
        if view.live:
            view.draw()


def summary(practice: Practice, *, verbose: bool = False) -> list[str]:
    """What the coach reads when the practice ends (latencies only with ``verbose``)."""
    lines = []
    for r in practice.rows.values():
        buzzes = f"{r.cues} buzz" + ("" if r.cues == 1 else "es")
        lines.append(
            f"{r.name}: {r.strides} strides, {buzzes}"
            + (f"; still open: {', '.join(sorted(r.alerts))}" if r.alerts else "")
            + (" (RSC only: cadence and stride length, no contact time)" if r.rsc_only else "")
        )
    p50, p99 = latency_ms(practice.latencies_ns)
    if verbose and not math.isnan(p50):
        lines.append(f"frame arrival -> cue write: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return lines
