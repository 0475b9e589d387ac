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
import signal
import sys
import threading
import time
from collections import deque
from typing import TextIO

from stridecue.analysis import Event, EventKind
from stridecue.practice import ALERTS, CueSent, Listener, Practice, Row, latency_ms

_CLEAR = "\x1b[H\x1b[J"


def _num(x: float, digits: int) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


class View(Listener):
    """The terminal view of a practice: a table redrawn 4x a second, or event lines."""

    def __init__(self, practice: Practice, title: str, out: TextIO, live: bool) -> None:
        self.practice = practice
        self.title = title
        self.out = out
        self.live = live
        self.events: deque[str] = deque(maxlen=8)
        self.t0 = time.monotonic()
        practice.subscribe(self)

    def line(self, row: Row, text: str) -> None:
        line = f"[{row.name}] {text}"
        self.events.append(line)
        if not self.live:
            print(line, file=self.out, flush=True)

    # --- what the practice publishes ---
    def event(self, row: Row, event: Event) -> None:
        if event.kind in ALERTS:
            self.line(row, ALERTS[EventKind(event.kind)])
        elif event.kind == EventKind.RECOVERED:
            problem = str(event.detail.get("problem", ""))
            text = ALERTS[EventKind(problem)] if problem in ALERTS else ""
            self.line(row, f"recovered ({text})" if text else "recovered")

    def cue(self, row: Row, sent: CueSent) -> None:
        self.line(row, f"cue {sent.cue.pattern.name.lower()}: {sent.reason}")

    def note(self, row: Row, text: str) -> None:
        self.line(row, text)

    def table(self) -> list[str]:
        head = (
            f"{'athlete':<12} {'pod':<18} {'link':<12} {'strides':>7} {'cadence':>7} "
            f"{'stride m':>8} {'contact':>8} {'cues':>4}  alerts"
        )
        lines = [head]
        for r in self.practice.rows.values():
            contact = "RSC only" if r.rsc_only else f"{_num(r.contact_ms, 0)} ms"
            lines.append(
                f"{r.name[:12]:<12} {r.pod[:18]:<18} {r.state:<12} {r.strides:>7} "
                f"{_num(r.cadence_spm, 1):>7} {_num(r.stride_length_m, 2):>8} {contact:>8} "
                f"{r.cues:>4}  {', '.join(sorted(r.alerts))}"
            )
        return lines

    def draw(self) -> None:
        el = time.monotonic() - self.t0
        clock = f"{int(el // 3600):02d}:{int(el % 3600 // 60):02d}:{int(el % 60):02d}"
        lines = [f"{self.title}   {clock}", "", *self.table(), "", "events:"]
        lines += [f"  {e}" for e in self.events]
        lines += ["", "type `cue NAME` + Enter to buzz an athlete, any other line to mark"]
        self.out.write(_CLEAR + "\n".join(lines) + "\n")
        self.out.flush()

    def progress(self) -> None:
        p = self.practice
        parts = [f"{r.name} {r.strides}" for r in p.rows.values()]
        el = time.monotonic() - self.t0
        print(f"{el:7.1f} s: {p.frames} frames; strides: {', '.join(parts)}", file=sys.stderr)

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
) -> None:
    """Run ``practice`` with the terminal view, and the web dashboard when asked."""
    dash = None
    if dashboard is not None:
        from stridecue.dashboard.live import serve_practice  # Bokeh loads only here

        dash = serve_practice(practice, title=title, host=dashboard[0], port=dashboard[1])
        print(dash.banner(), flush=True)
    try:
        await _run_view(practice, title, headless=headless, duration_s=duration_s)
    finally:
        if dash is not None:
            dash.stop()


async def _run_view(
    practice: Practice, title: str, *, headless: bool, duration_s: float | None
) -> None:
    out = sys.stdout
    view = View(practice, title, out, live=not headless and out.isatty())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, practice.stop)
    await practice.connect()
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


def summary(practice: Practice) -> list[str]:
    lines = []
    for r in practice.rows.values():
        lines.append(
            f"{r.name}: {r.strides} strides, {r.cues} cues"
            + (f", alerts open: {', '.join(sorted(r.alerts))}" if r.alerts else "")
            + (" (RSC only)" if r.rsc_only else "")
        )
    p50, p99 = latency_ms(practice.latencies_ns)
    if not math.isnan(p50):
        lines.append(f"frame arrival -> cue write: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return lines
