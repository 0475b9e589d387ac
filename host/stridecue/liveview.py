"""The terminal side of ``live``, ``record`` and ``replay``: options, the view, the run.

On a terminal the view redraws one row per athlete four times a second (cadence,
stride length, contact time, link state, alerts); elsewhere (a pipe, a log file,
``--headless``) it prints each event as a line and a progress line now and then.
Lines typed while it runs are the coach's: ``cue NAME`` buzzes that athlete,
anything else is stored as a mark in the recording.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import TextIO

from stridecue import roster as rosters
from stridecue.errors import ConfigError
from stridecue.links import Link, SerialOptions, open_link
from stridecue.links.replay import sessions_root
from stridecue.practice import Practice, Row, latency_ms
from stridecue.recorder import Recorder

_CLEAR = "\x1b[H\x1b[J"


def add_practice_args(p: argparse.ArgumentParser, *, recording: bool) -> None:
    p.add_argument(
        "--sessions-dir",
        type=Path,
        default=None,
        help="where sessions are kept ($STRIDECUE_SESSIONS or ~/stridecue-sessions)",
    )
    if recording:
        p.add_argument(
            "--roster", type=Path, default=None, help="pod → athlete file (SESSIONS/roster.toml)"
        )
        p.add_argument(
            "--athlete",
            action="append",
            default=[],
            metavar="POD=NAME",
            help="name the athlete wearing POD (repeatable; overrides the roster)",
        )
        p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        p.add_argument("--label", default="", help="added to the session folder's name")
    p.add_argument("--no-analysis", action="store_true", help="show and record strides only")
    p.add_argument("--no-cues", action="store_true", help="analyse but never buzz a pod")
    p.add_argument("--headless", action="store_true", help="no live table: events as lines")
    add_dashboard_args(p)


def add_dashboard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dashboard", action="store_true", help="also serve the coach dashboard (prints its URL)"
    )
    p.add_argument("--port", type=int, default=8765, help="dashboard port (8765; 0: any free)")
    p.add_argument(
        "--host", default="127.0.0.1", help="dashboard address (0.0.0.0 for a tablet on the LAN)"
    )


def dashboard_address(args: argparse.Namespace) -> tuple[str, int] | None:
    """(host, port) when --dashboard was given, else None."""
    return (args.host, args.port) if getattr(args, "dashboard", False) else None


def sessions_dir(args: argparse.Namespace) -> Path:
    return Path(args.sessions_dir) if args.sessions_dir else sessions_root()


def _num(x: float, digits: int) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


class View:
    def __init__(self, practice: Practice, title: str, out: TextIO, live: bool) -> None:
        self.practice = practice
        self.title = title
        self.out = out
        self.live = live
        self.events: deque[str] = deque(maxlen=8)
        self.t0 = time.monotonic()

    def event(self, row: Row, text: str) -> None:
        line = f"[{row.name}] {text}"
        self.events.append(line)
        if not self.live:
            print(line, file=self.out, flush=True)

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
        from stridecue.dashboard.practice import serve_practice  # Bokeh loads only here

        dash = serve_practice(practice, title=title, host=dashboard[0], port=dashboard[1])
        print(f"dashboard: {dash.url}", flush=True)
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
    practice.on_event = view.event
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


async def record_or_watch(args: argparse.Namespace, *, record: bool) -> int:
    if args.duration is not None and not 0 < args.duration <= 86400:
        raise ConfigError(
            f"--duration={args.duration:g} is out of range: allowed 0..86400 s (or leave it "
            "out and stop with Ctrl-C)"
        )
    root = sessions_dir(args)
    names = rosters.load(args.roster or rosters.default_path(root), required=bool(args.roster))
    names.update(rosters.parse_pairs(args.athlete))
    # a USB pod whose cable comes out and back in is reopened (BLE links always reconnect)
    links: list[Link] = [
        open_link(spec, SerialOptions(reconnect=True) if spec.startswith("serial:") else None)
        for spec in args.links
    ]
    recorder: Recorder | None = None
    if record:
        root.mkdir(parents=True, exist_ok=True)
        recorder = Recorder.create(
            root,
            label=args.label,
            settings={
                "links": list(args.links),
                "analysis": not args.no_analysis,
                "cues": not (args.no_cues or args.no_analysis),
            },
        )
    practice = Practice(
        links,
        roster=names,
        recorder=recorder,
        analyze=not args.no_analysis,
        cues=not args.no_cues,
    )
    where = f"recording to {recorder.path}" if recorder else "not recording"
    try:
        await run_practice(
            practice,
            f"StrideCue {'record' if record else 'live'}: {len(links)} link(s), {where}",
            headless=args.headless,
            duration_s=args.duration,
            dashboard=dashboard_address(args),
        )
    finally:
        if recorder is not None:
            recorder.close()
    for line in summary(practice):
        print(line)
    if recorder is not None:
        print(f"session recorded: {recorder.path}")
    return 0
