"""``stridecue demo``: virtual athletes on simulated pods, coached live and recorded."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from stridecue.commands._practice import add_dashboard_args
from stridecue.demo import Demo
from stridecue.liveview import summary


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="virtual athletes on simulated pods: live analysis, cues, a recorded session",
        description=(
            "Start N virtual athletes (different paces; one fades), each on a simulated pod "
            "that runs the pod firmware and is reached over a pty exactly like a pod on USB. "
            "Shows the live analysis, sends cues, and records the session for "
            "`stridecue replay`. Ends by itself when every athlete has finished."
        ),
    )
    p.add_argument(
        "--duration", type=float, default=60.0, help="seconds of practice to simulate (60)"
    )
    p.add_argument("--athletes", type=int, default=3, help="number of athletes, 1..8 (3)")
    p.add_argument(
        "--speed", type=float, default=10.0, help="time acceleration: 10 = ten times real time"
    )
    p.add_argument("--headless", action="store_true", help="no live table: events as lines")
    p.add_argument(
        "--sessions-dir",
        type=Path,
        default=None,
        help="where to record ($STRIDECUE_SESSIONS or ~/stridecue-sessions)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the athletes (0)")
    add_dashboard_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    demo = Demo(
        duration_s=args.duration,
        athletes=args.athletes,
        speed=args.speed,
        sessions_dir=args.sessions_dir,
        seed=args.seed,
        headless=args.headless,
        dashboard_port=args.port if args.dashboard else None,
        dashboard_host=args.host,
        verbose=args.verbose,
    )
    result = asyncio.run(demo.run())
    print()
    for line in summary(result.practice, verbose=args.verbose):
        print(line)
    for a in result.athletes:
        state = (
            "finished"
            if a.done
            else "stopped before the end of the run"
            if a.stopped
            else f"NOT finished: {a.error}"
        )
        motor = f"; motor switched on {a.motor_on}x" if args.verbose else ""
        print(f"{a.name}: {a.description}; {state}{motor}")
    if args.verbose:
        print(f"{result.wall_s:.1f} s wall; simulated pods ran on {Path(result.interpreter).name}")
    print(f"session recorded: {result.session}\nreplay it with: stridecue replay {result.session}")
    return 0 if all(a.done or a.stopped for a in result.athletes) else 1
