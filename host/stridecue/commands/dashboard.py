"""``stridecue dashboard``: the coach's web page, live from pods, simulated, or replayed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import webbrowser
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stridecue.commands._practice import RosterUse, add_roster_args
from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.demo import SQUAD, Boards, squad
from stridecue.errors import ConfigError
from stridecue.links import Link, open_link
from stridecue.links.replay import resolve_session, sessions_root
from stridecue.practice import Practice
from stridecue.recorder import Recorder
from stridecue.timeline import SessionClock

DEMO_S = 120.0  # simulated practice of --demo without --duration: a rep each, then rest

if TYPE_CHECKING:
    from stridecue.dashboard import LiveState


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dashboard",
        help="serve the coach's web dashboard (live pods, --demo, or --replay SESSION)",
        description=(
            "A local web page with a tile per athlete: live cadence, stride length, contact "
            "time, a scrolling chart, link state, battery, rep, 100 m split vs plan, alerts; "
            "buttons to cue an athlete, mark a lap, start/stop a rep and set targets. Works "
            "offline: everything is served from this machine."
        ),
    )
    p.add_argument("links", nargs="*", metavar="LINK", help="pods, e.g. ble:NAME serial:PORT")
    p.add_argument("--replay", metavar="SESSION", help="replay a recorded session (1x-16x, seek)")
    p.add_argument(
        "--demo", type=int, metavar="N", help="N simulated athletes (1..8) on simulated pods"
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to serve on ({DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name or address tablets use to reach this machine (repeatable; a LAN "
        "bind already answers to its own addresses and host name)",
    )
    p.add_argument(
        "--speed", type=float, default=1.0, help="replay/simulation speed, 1..16 (1 = real time)"
    )
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    p.add_argument("--no-record", action="store_true", help="live/demo: do not record")
    p.add_argument("--sessions-dir", type=Path, help="where to record (default: sessions root)")
    add_roster_args(p)  # pods only: names and plans as `live` and `record` take them
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    modes = sum((bool(args.links), args.replay is not None, args.demo is not None))
    if modes != 1:
        raise ConfigError(
            "give pods to watch (stridecue dashboard ble:NAME ...), or --demo N, or "
            "--replay SESSION (exactly one of them)"
        )
    if args.demo is not None and not 1 <= args.demo <= len(SQUAD):
        raise ConfigError(f"--demo {args.demo} is out of range: allowed 1..{len(SQUAD)}")
    if not 1.0 <= args.speed <= 16.0:
        raise ConfigError(f"--speed {args.speed:g} is out of range: allowed 1..16")
    given = [
        opt
        for opt, value in (
            ("--roster", args.roster),
            ("--athlete", args.athlete),
            ("--plan", args.plan),
            ("--rep-distance", args.rep_distance),
        )
        if value is not None and value != []  # --rep-distance 0 is given too
    ]
    if given and not args.links:
        mode = (
            "--demo runs its own squad"
            if args.demo is not None
            else "a replay uses the names and plans kept in the session"
        )
        raise ConfigError(f"{given[0]} is for pods (stridecue dashboard ble:NAME ...): {mode}")


@contextlib.asynccontextmanager
async def _served(
    args: argparse.Namespace, state: LiveState, controls: Any, player: Any
) -> AsyncIterator[str]:
    """Serve the page while the block runs; stop listening (close the socket) after."""
    from stridecue.dashboard import Dashboard  # Bokeh loads only when a page is served

    dash = Dashboard(
        state, controls, player=player, host=args.host, port=args.port, allow_hosts=args.allow_host
    )
    url = dash.start()
    try:
        print(f"{dash.banner()}\n  (Ctrl-C to stop)", flush=True)
        if args.open:
            webbrowser.open(url)
        yield url
    finally:
        await dash.close()


async def _wait(duration_s: float | None) -> None:
    if duration_s is None:
        await asyncio.Event().wait()
    else:
        await asyncio.sleep(duration_s)


async def _replay(args: argparse.Namespace) -> None:
    from stridecue.dashboard import LiveState, ReplayPlayer, Timeline

    folder = resolve_session(args.replay)
    state = LiveState(f"StrideCue replay {folder.name}")
    player = ReplayPlayer(state, Timeline.load(folder), speed=args.speed)
    async with _served(args, state, player, player):
        player.play()
        await _wait(args.duration)


async def _live(args: argparse.Namespace) -> None:
    from stridecue.dashboard import LiveState, PracticeControls
    from stridecue.dashboard.feed import Feed
    from stridecue.dashboard.live import keep_time
    from stridecue.dashboard.relaypanel import attach as attach_relay

    roster = None if args.demo is not None else RosterUse.read(args, _root(args))
    names: dict[str, str] = {} if roster is None else roster.names
    boards: contextlib.AbstractContextManager[list[Link]]
    boards = contextlib.nullcontext([open_link(s) for s in args.links])
    if args.demo is not None:
        # the demo's squad on the demo's simulation boards, until --duration or Ctrl-C
        sim_s = DEMO_S if args.duration is None else max(20.0, args.duration * args.speed)
        plan = squad(args.demo, sim_s, seed=0)
        names = {a.pod: a.name for a, _ in plan}
        boards = Boards(plan, speed=args.speed, max_wall_s=sim_s / args.speed + 60.0)
    speed = args.speed if args.demo else 1.0

    def new_session() -> Recorder:  # made once the pods have connected, not before
        return Recorder.create(
            _root(args),
            label="demo" if args.demo else "practice",
            athletes=names,
            settings={"dashboard": True, "speed": speed},
        )

    practice: Practice | None = None
    try:
        with boards as links:
            practice = Practice(
                links,
                roster=names,
                record_to=None if args.no_record else new_session,
                clock=SessionClock(time.time_ns(), speed) if args.no_record else None,
            )
            if roster is not None:
                roster.apply(practice)  # calibrations, roster plans, --plan/--rep-distance
            state = LiveState("StrideCue demo" if args.demo else "StrideCue practice")
            feed = Feed(state)
            practice.subscribe(feed)
            attach_relay(state, practice)  # the relay panel, below the tiles
            print(f"connecting to {len(links)} pod(s)...", flush=True)
            await practice.connect()
            keep_time(feed, practice)
            async with _served(args, state, PracticeControls(practice), None):
                await practice.run(args.duration)
                if args.duration is None:
                    await _wait(None)  # the pods have stopped: the page stays until Ctrl-C
    finally:
        recorder = practice.recorder if practice is not None else None
        if recorder is not None:
            recorder.close()
            print(f"recorded session: {recorder.path}")
            print(f"  report: stridecue report {recorder.path}")


def _root(args: argparse.Namespace) -> Path:
    """The sessions folder: where sessions are recorded and roster.toml is looked for."""
    return Path(args.sessions_dir) if args.sessions_dir else sessions_root()


def run(args: argparse.Namespace) -> int:
    _check(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_replay(args) if args.replay else _live(args))
    return 0
