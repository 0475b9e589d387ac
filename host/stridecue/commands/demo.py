"""``stridecue demo``: virtual athletes on simulated pods, coached live and recorded."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from stridecue.sim.demo import Demo, DemoResult

_CLEAR = "\x1b[H\x1b[J"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="virtual athletes on simulated pods: live analysis, cues, a recorded session",
        description=(
            "Start N virtual athletes (different paces; one fades), each on a simulated pod "
            "that runs the pod firmware and is reached over a pty exactly like a pod on USB. "
            "Shows the live analysis, sends cues, and records the session for "
            "`stridecue replay`."
        ),
    )
    p.add_argument(
        "--duration", type=float, default=60.0, help="seconds of practice to simulate (60)"
    )
    p.add_argument("--athletes", type=int, default=3, help="number of athletes, 1..8 (3)")
    p.add_argument(
        "--speed", type=float, default=10.0, help="time acceleration: 10 = ten times real time"
    )
    p.add_argument("--headless", action="store_true", help="no live view: events and a summary")
    p.add_argument(
        "--sessions-dir", type=Path, default=Path("sessions"), help="where to record (./sessions)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the athletes (0)")
    p.set_defaults(func=run)


class _View:
    def __init__(self, demo: Demo, out: TextIO, live: bool) -> None:
        self.demo = demo
        self.out = out
        self.live = live
        self.events: deque[str] = deque(maxlen=8)

    def event(self, athlete: Any, text: str) -> None:
        line = f"[{athlete.name}] {text}"
        self.events.append(line)
        if not self.live:
            print(line, file=self.out, flush=True)

    def draw(self) -> None:
        d = self.demo
        lines = [
            f"StrideCue demo: {d.n} virtual athletes, {d.speed:g}x real time "
            f"({d.duration_s:g} s of practice)",
            "",
            f"{'athlete':<8} {'pace':>5} {'state':<10} {'strides':>7} {'dist m':>7} "
            f"{'cadence':>7} {'stride m':>8} {'contact':>8} {'m/s':>5} {'cues':>4}  alerts",
        ]
        for a in d.athletes:
            s = a.last
            lines.append(
                f"{a.name:<8} {a.pace_mps:>5.1f} {a.state:<10} {a.strides:>7} "
                f"{a.distance_m:>7.0f} {_num(a.cadence_spm, 0):>7} "
                f"{_num(s.stride_length_m if s else math.nan, 2):>8} "
                f"{_num(s.contact_time_ms if s else math.nan, 0):>6}ms "
                f"{_num(a.speed_mps, 1):>5} {a.cues_sent:>4}  {', '.join(a.alerts[-3:])}"
            )
        lines += ["", "events:", *(f"  {e}" for e in self.events)]
        self.out.write(_CLEAR + "\n".join(lines) + "\n")
        self.out.flush()


def _num(v: float, digits: int) -> str:
    return "-" if math.isnan(v) else f"{v:.{digits}f}"


async def _run(demo: Demo, view: _View) -> DemoResult:
    task = asyncio.ensure_future(demo.run())
    while not task.done():
        if view.live:
            view.draw()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 0.25)
    if view.live:
        view.draw()
    return task.result()


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    demo = Demo(
        duration_s=args.duration,
        athletes=args.athletes,
        speed=args.speed,
        sessions_dir=args.sessions_dir,
        seed=args.seed,
    )
    view = _View(demo, out, live=not args.headless and out.isatty())
    demo.on_event = view.event
    result = asyncio.run(_run(demo, view))
    print(f"\nrecorded session: {result.session}", file=out)
    for a in result.athletes:
        print(
            f"  {a.name}: {a.strides} strides, {a.distance_m:.0f} m, "
            f"{len(a.alerts)} alerts, {a.cues_sent} cues, motor ran {a.motor_on}x ({a.state})",
            file=out,
        )
    print(
        f"  {result.wall_s:.1f} s wall; pods ran on {Path(result.interpreter).name}; "
        f"replay it with: stridecue replay {result.session}",
        file=out,
    )
    return 0 if all(a.done for a in result.athletes) else 1
