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

from stridecue.dashboard import DEFAULT_HOST, DEFAULT_PORT
from stridecue.errors import ConfigError
from stridecue.links import Link, open_link
from stridecue.links.base import start_sessions, stop_sessions
from stridecue.links.replay import resolve_session, sessions_root
from stridecue.recorder import Recorder

if TYPE_CHECKING:
    from stridecue.dashboard import LiveState

# the simulated squad of --demo: (name, pace m/s, fades over the last part of the rep);
# each athlete runs one 400 m rep on a simulated pod (the pod firmware on a pty)
DEMO_SQUAD = (
    ("Ada", 4.5, False),
    ("Ben", 6.5, True),
    ("Cleo", 5.5, False),
    ("Dev", 4.0, True),
    ("Eli", 6.0, False),
    ("Fay", 5.0, True),
    ("Gus", 3.5, False),
    ("Hana", 7.0, True),
)
DEMO_DISTANCE_M = 400.0


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
        "--speed", type=float, default=1.0, help="replay/simulation speed, 1..16 (1 = real time)"
    )
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    p.add_argument("--no-record", action="store_true", help="live/demo: do not record")
    p.add_argument("--sessions-dir", type=Path, help="where to record (default: sessions root)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    modes = sum((bool(args.links), args.replay is not None, args.demo is not None))
    if modes != 1:
        raise ConfigError(
            "give pods to watch (stridecue dashboard ble:NAME ...), or --demo N, or "
            "--replay SESSION (exactly one of them)"
        )
    if args.demo is not None and not 1 <= args.demo <= len(DEMO_SQUAD):
        raise ConfigError(f"--demo {args.demo} is out of range: allowed 1..{len(DEMO_SQUAD)}")
    if not 1.0 <= args.speed <= 16.0:
        raise ConfigError(f"--speed {args.speed:g} is out of range: allowed 1..16")


@contextlib.asynccontextmanager
async def _served(
    args: argparse.Namespace, state: LiveState, controls: Any, player: Any
) -> AsyncIterator[str]:
    """Serve the page while the block runs; stop listening (close the socket) after."""
    from stridecue.dashboard import Dashboard  # Bokeh loads only when a page is served

    dash = Dashboard(state, controls, player=player, host=args.host, port=args.port)
    url = dash.start()
    try:
        print(f"dashboard: {url}  (Ctrl-C to stop)", flush=True)
        if args.host in ("0.0.0.0", "::"):
            print(f"  from a tablet on this network: http://THIS-LAPTOP'S-ADDRESS:{dash.port}/")
        if args.open:
            webbrowser.open(url)
        yield url
    finally:
        dash.stop()


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
    from stridecue.dashboard import LiveHub, LiveState

    names: dict[str, str] = {}
    links: list[Link] = []
    if args.demo is not None:
        for k, (name, pace, fades) in enumerate(DEMO_SQUAD[: args.demo]):
            spec = f"sim:rep,speed_mps={pace},distance_m={DEMO_DISTANCE_M:g},seed={k}"
            link = open_link(spec + (",fade_from=0.6" if fades else "") + f",speed={args.speed:g}")
            link.info.pod = f"sim-{name.lower()}"  # one id per athlete (all run "rep")
            names[link.info.pod] = name
            links.append(link)
    else:
        links = [open_link(s) for s in args.links]
    print(f"connecting to {len(links)} pod(s)...", flush=True)
    await asyncio.gather(*(ln.connect() for ln in links))
    try:
        await start_sessions(links)  # a pod measures only in a session
    except BaseException:
        for ln in links:
            with contextlib.suppress(Exception):
                await ln.close()
        raise
    recorder = None
    if not args.no_record:
        root = args.sessions_dir or sessions_root()  # where `stridecue sessions` looks
        recorder = Recorder.create(
            root,
            label="demo" if args.demo else "practice",
            athletes=names,
            settings={"dashboard": True, "speed": args.speed if args.demo else 1.0},
        )
        for ln in links:
            recorder.add_pod(ln.info, link=ln.spec, athlete=names.get(ln.pod, ""))
    state = LiveState("StrideCue demo" if args.demo else "StrideCue practice")
    hub = LiveHub(state, links, t0_ns=time.time_ns(), names=names, recorder=recorder)
    hub.start()
    try:
        async with _served(args, state, hub, None):
            await _wait(args.duration)
    finally:
        await hub.stop()
        with contextlib.suppress(Exception):
            await stop_sessions(links)
        for ln in links:
            with contextlib.suppress(Exception):
                await ln.close()
        if recorder is not None:
            recorder.close()
            print(f"recorded session: {recorder.path}")
            print(f"  report: stridecue report {recorder.path}")


def run(args: argparse.Namespace) -> int:
    _check(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_replay(args) if args.replay else _live(args))
    return 0
