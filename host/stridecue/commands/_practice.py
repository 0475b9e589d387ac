"""What ``live``, ``record`` and ``replay`` share: their options, and how a practice is built."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from stridecue import roster as rosters
from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets
from stridecue.commands.relay import load_setup
from stridecue.demo import BoardWatch
from stridecue.errors import ConfigError
from stridecue.links import Link, SerialOptions, open_link
from stridecue.links.replay import sessions_root
from stridecue.links.sim import SimLink
from stridecue.liveview import run_practice, summary
from stridecue.practice import Practice
from stridecue.recorder import Recorder
from stridecue.relaywatch import desk_for
from stridecue.timeline import SessionClock


def add_practice_args(p: argparse.ArgumentParser, *, recording: bool) -> None:
    p.add_argument(
        "--sessions-dir",
        type=Path,
        default=None,
        help="where sessions are kept ($STRIDECUE_SESSIONS or ~/stridecue-sessions)",
    )
    if recording:
        add_roster_args(p)
        p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        p.add_argument(
            "--relay",
            type=Path,
            metavar="SETUP",
            help="a relay practice (TOML/JSON: team, legs, zones, marks; docs/relay.md): "
            "each exchange is measured as it ends, and kept with the session",
        )
        p.add_argument("--label", default="", help="added to the session folder's name")
    p.add_argument("--no-analysis", action="store_true", help="show and record strides only")
    p.add_argument("--no-cues", action="store_true", help="analyse but never buzz a pod")
    p.add_argument("--headless", action="store_true", help="no live table: events as lines")
    add_dashboard_args(p)


def add_roster_args(p: argparse.ArgumentParser) -> None:
    """Who wears which pod and the plans they run to (``live``, ``record``, ``dashboard``)."""
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
    p.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="[NAME=]SPEC",
        help="split plan for everyone, or NAME=SPEC for one athlete (repeatable): "
        "100:11.5,200:24,400:50 (metres:seconds), even:50 or shape:50 (with --rep-distance, "
        "even:S is S seconds over the rep); without it, an athlete's roster plan for the "
        "rep distance",
    )
    p.add_argument(
        "--rep-distance",
        type=float,
        metavar="M",
        help="each rep's true distance (its strides are scaled to it); picks each "
        "athlete's roster plan for that distance",
    )


@dataclass
class RosterUse:
    """What the roster options and the roster file give a practice: athletes' names,
    calibrations, plans per rep distance, and the targets each athlete starts with."""

    path: Path
    names: dict[str, str]
    scales: dict[str, float]
    plans: dict[str, dict[float, Plan]]
    targets: dict[str, Targets]

    @classmethod
    def read(cls, args: argparse.Namespace, root: Path) -> RosterUse:
        """Everything checked before a pod is asked (a bad roster or plan: one line)."""
        path = args.roster or rosters.default_path(root)
        names = rosters.load(path, required=bool(args.roster))
        names.update(rosters.parse_pairs(args.athlete))
        targets = start_targets(args.plan, args.rep_distance, names)
        return cls(path, names, rosters.scales(path), rosters.plans(path), targets)

    def apply(self, practice: Practice) -> None:
        practice.distance_scales = dict(self.scales)  # `stridecue calibrate`
        practice.plans = dict(self.plans)  # [plan."NAME"] tables
        practice.start_targets = dict(self.targets)


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


async def record_or_watch(args: argparse.Namespace, *, record: bool) -> int:
    if args.duration is not None and not 0 < args.duration <= 86400:
        raise ConfigError(
            f"--duration={args.duration:g} is out of range: allowed 0..86400 s (or leave it "
            "out and stop with Ctrl-C)"
        )
    root = sessions_dir(args)
    roster = RosterUse.read(args, root)
    names = roster.names
    # a USB pod whose cable comes out and back in is reopened (BLE links always reconnect)
    links: list[Link] = [
        open_link(spec, SerialOptions(reconnect=True) if spec.startswith("serial:") else None)
        for spec in args.links
    ]
    speed = sim_speed(links)
    relay_setup = load_setup(args.relay) if getattr(args, "relay", None) else None

    def new_session() -> Recorder:  # made once the pods have connected, not before
        root.mkdir(parents=True, exist_ok=True)
        return Recorder.create(
            root,
            label=args.label,
            settings={
                **({"relay": relay_setup.as_dict()} if relay_setup is not None else {}),
                "links": list(args.links),
                "analysis": not args.no_analysis,
                "cues": not (args.no_cues or args.no_analysis),
                "speed": speed,
            },
        )

    practice = Practice(
        links,
        roster=names,
        record_to=new_session if record else None,
        analyze=not args.no_analysis,
        cues=not args.no_cues,
        clock=None if record else SessionClock(time.time_ns(), speed),
    )
    roster.apply(practice)
    if relay_setup is not None:
        desk_for(practice).apply(relay_setup)  # the dashboard's relay panel may replace it
    sims = [ln.pod for ln in links if isinstance(ln, SimLink)]
    if sims and len(sims) == len(links):  # simulated athletes: done when every run is
        practice.subscribe(BoardWatch(practice, sims))
    pods = f"{len(links)} pod" + ("" if len(links) == 1 else "s")
    try:
        await run_practice(
            practice,
            f"StrideCue {'record' if record else 'live'}: {pods}",
            headless=args.headless,
            duration_s=args.duration,
            dashboard=dashboard_address(args),
            notes=() if record else ("not recording",),
            verbose=args.verbose,
        )
    finally:
        if practice.recorder is not None:
            practice.recorder.close()
    recorder = practice.recorder
    for line in summary(practice, verbose=args.verbose):
        print(line)
    if recorder is not None:
        print(f"session recorded: {recorder.path}")
    return 0


def start_targets(
    plans: list[str], rep_distance_m: float | None, names: dict[str, str]
) -> dict[str, Targets]:
    """Athlete ("" for everyone) -> targets from ``--plan [NAME=]SPEC`` and ``--rep-distance``."""
    given: dict[str, Plan] = {}
    for text in plans:
        name, sep, spec = text.rpartition("=")
        name = name.strip()
        if sep and not name:
            raise ConfigError(f"--plan {text!r}: write NAME=SPEC, e.g. Ana=100:11.5,200:24,400:50")
        if name and name not in names.values():
            known = ", ".join(sorted(set(names.values()))) or "none"
            raise ConfigError(
                f"--plan {text!r}: no athlete {name!r} in the roster or --athlete (known: {known})"
            )
        if name in given:
            who = name or "everyone"
            raise ConfigError(f"--plan {text!r}: a second plan for {who}; give one")
        given[name] = Plan.for_rep(spec, rep_distance_m)
    if not given and rep_distance_m is None:
        return {}
    everyone = given.pop("", None)
    out = {"": Targets(plan=everyone, rep_distance_m=rep_distance_m)}
    for name, plan in given.items():
        out[name] = Targets(plan=plan, rep_distance_m=rep_distance_m)
    return out


def sim_speed(links: list[Link]) -> float:
    """How much faster than real time the practice runs: 1, or the ``sim:`` links' speed."""
    sims = [ln for ln in links if isinstance(ln, SimLink)]
    speeds = {ln.speed for ln in sims}
    if not speeds:
        return 1.0
    if len(speeds) > 1:
        raise ConfigError("give every sim: link the same speed=, so they share one clock")
    speed = speeds.pop()
    if speed != 1.0 and len(sims) < len(links):
        raise ConfigError("a sim: link with speed= cannot run beside real pods; leave speed out")
    return speed
