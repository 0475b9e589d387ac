"""The demo practice: virtual athletes on simulated pods, coached live and recorded.

Each athlete is a scenario run through the IMU simulator, replayed by its own
simulation board (the pod firmware on MicroPython, or on CPython when the unix
port is not installed) on a pty. From there on it is an ordinary practice: the
host connects to every board with the ``serial:`` link, exactly as to a pod on USB,
and runs the one pipeline and view as ``stridecue record`` does
(:class:`stridecue.practice.Practice`, :func:`stridecue.liveview.run_practice`):
every frame recorded, each stride analysed, cues written back, which the firmware
plays on its (simulated) motor. The practice ends when every board has played its
whole file (its ``imu end`` log frame), or at a deadline.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stridecue.errors import ConfigError, LinkError
from stridecue.links import Link, Received, open_link
from stridecue.links.replay import sessions_root
from stridecue.liveview import run_practice
from stridecue.practice import Listener, Practice, Row
from stridecue.protocol import LogLine
from stridecue.recorder import Recorder
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, simulate
from stridecue.sim.pod import SimPod, write_counts

LIMITS = {
    "duration": (20.0, 3600.0),
    "athletes": (1, 8),
    "speed": (0.5, 100.0),
}

# name, pace (m/s), fades: the squad in order; more athletes repeat it
SQUAD = (
    ("Ada", 4.5, False),
    ("Ben", 6.5, True),
    ("Cleo", 5.5, False),
    ("Dev", 4.0, False),
    ("Eli", 6.0, True),
    ("Fay", 5.0, False),
    ("Gus", 3.5, False),
    ("Hana", 7.0, False),
)


def check(option: str, value: float) -> None:
    lo, hi = LIMITS[option]
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"--{option}={value:g} is out of range: allowed {lo:g}..{hi:g}")


@dataclass
class Athlete:
    """One virtual athlete: who, how fast, and how their run went."""

    name: str
    pace_mps: float
    fades: bool
    description: str = ""
    pod: str = ""
    strides: int = 0
    cues: int = 0
    motor_on: int = 0  # times the simulated motor switched on
    done: bool = False  # the board played its whole IMU file
    stopped: bool = False  # the practice was stopped (Ctrl-C) before the run ended
    error: str = ""  # why the simulated pod stopped early, if it did


@dataclass
class DemoResult:
    session: Path
    athletes: list[Athlete]
    wall_s: float
    interpreter: str
    practice: Practice


def squad(n: int, duration_s: float, seed: int = 0) -> list[tuple[Athlete, scenarios.Scenario]]:
    """``n`` athletes, each with a scenario that fills ``duration_s`` of practice."""
    out = []
    for k in range(n):
        name, pace, fades = SQUAD[k % len(SQUAD)]
        if k >= len(SQUAD):
            name = f"{name}{k // len(SQUAD) + 1}"
        run_s = duration_s - 2.0 - 6.0  # standing start, acceleration
        distance = max(50.0, min(2000.0, pace * run_s))
        sc = scenarios.rep(
            speed_mps=pace,
            distance_m=distance,
            fade_from=0.55 if fades else None,
            seed=seed + k,
            rest_s=2.0,
        )
        out.append((Athlete(name, pace, fades, sc.description, f"sim-{name.lower()}"), sc))
    return out


class BoardWatch(Listener):
    """Watches simulation boards' log frames: motor activity, and the end of each run.

    Each board says ``imu end`` when it has played its whole IMU file: the athlete's
    run is over ("run finished" for the coach), and once every watched board has
    said so the practice ends.
    """

    def __init__(
        self, practice: Practice, pods: Iterable[str], athletes: Iterable[Athlete] = ()
    ) -> None:
        self.practice = practice
        self.pods = set(pods)
        self.athletes = {a.pod: a for a in athletes}
        self.done: set[str] = set()

    def record(self, row: Row, item: Received, t_s: float) -> None:
        rec = item.record
        if row.pod not in self.pods or not isinstance(rec, LogLine):
            return
        a = self.athletes.get(row.pod)
        if rec.text.startswith("motor ") and rec.text != "motor 0":
            if a is not None:
                a.motor_on += 1
        elif rec.text.startswith("imu end") and row.pod not in self.done:
            self.done.add(row.pod)
            if a is not None:
                a.done = True
            self.practice.announce(row, "run finished")
            if self.done >= self.pods:
                self.practice.stop()


class Boards:
    """The squad's simulation boards, each reached over a pty with a ``serial:`` link.

    ``with Boards(plan, speed=10) as links:`` simulates every athlete's IMU, starts
    one board per athlete and gives the (unconnected) links; leaving the block stops
    the boards. :class:`Demo` and ``stridecue dashboard --demo`` both use it.
    """

    def __init__(
        self,
        plan: list[tuple[Athlete, scenarios.Scenario]],
        *,
        speed: float,
        seed: int = 0,
        interpreter: str | None = None,
        max_wall_s: float = 600.0,
    ) -> None:
        self.plan = plan
        self.speed = speed
        self.seed = seed
        self.interpreter = interpreter
        self.max_wall_s = max_wall_s
        self.pods: list[SimPod] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> list[Link]:
        self._tmp = tempfile.TemporaryDirectory(prefix="stridecue-demo-")
        work = Path(self._tmp.name)
        links: list[Link] = []
        try:
            for k, (a, sc) in enumerate(self.plan):
                rec = simulate(sc.bouts, ImuConfig(), seed=self.seed + k, tail_s=3.0)
                pod = SimPod(
                    write_counts(work / f"athlete{k}.txt", rec),
                    speed=self.speed,
                    store_dir=work / f"store{k}",
                    max_wall_s=self.max_wall_s,
                    interpreter=self.interpreter,
                )
                self.pods.append(pod)
                link = open_link(f"serial:{pod.start()}")
                link.info.pod = a.pod
                link.info.extra["simulated"] = "yes"
                links.append(link)
        except BaseException:
            self.__exit__()
            raise
        return links

    def __exit__(self, *exc: object) -> None:
        for pod in self.pods:
            pod.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def interpreter_used(self) -> str:
        return self.pods[0].interpreter if self.pods else ""

    @staticmethod
    def last_words(pod: SimPod) -> str:
        lines = [ln for ln in pod.stderr().splitlines() if ln.strip()]
        return lines[-1] if lines else "no message"

    def why_dead(self) -> None:
        """Raise LinkError with the board's own words when a simulated pod has exited."""
        time.sleep(0.2)  # let a dying board finish writing stderr
        for (a, _), pod in zip(self.plan, self.pods, strict=False):
            if not pod.alive():
                raise LinkError(
                    f"the simulated pod of {a.name} stopped ({pod.interpreter}): "
                    f"{self.last_words(pod)}; reinstall stridecue, or run `stridecue -v demo`"
                )


class Demo:
    """Simulates the squad, starts the boards, and runs the practice."""

    def __init__(
        self,
        *,
        duration_s: float = 60.0,
        athletes: int = 3,
        speed: float = 10.0,
        sessions_dir: Path | None = None,
        seed: int = 0,
        interpreter: str | None = None,
        headless: bool = True,
        dashboard_port: int | None = None,
        dashboard_host: str = "127.0.0.1",
        verbose: bool = False,
    ) -> None:
        check("duration", duration_s)
        check("athletes", athletes)
        check("speed", speed)
        self.duration_s = duration_s
        self.n = athletes
        self.speed = speed
        self.sessions_dir = sessions_dir or sessions_root()
        self.seed = seed
        self.interpreter = interpreter
        self.headless = headless
        self.dashboard_port = dashboard_port
        self.dashboard_host = dashboard_host
        self.verbose = verbose

    async def run(self) -> DemoResult:
        t0 = time.monotonic()
        plan = squad(self.n, self.duration_s, self.seed)
        athletes = [a for a, _ in plan]
        boards = Boards(
            plan,
            speed=self.speed,
            seed=self.seed,
            interpreter=self.interpreter,
            max_wall_s=self.duration_s / self.speed + 60.0,
        )

        def new_session() -> Recorder:  # once the boards answer: the practice starts then
            self.sessions_dir.mkdir(parents=True, exist_ok=True)
            return Recorder.create(
                self.sessions_dir,
                label="demo",
                settings={
                    "demo": True,
                    "speed": self.speed,
                    "duration_s": self.duration_s,
                    "scenarios": {a.name: a.description for a in athletes},
                },
            )

        practice: Practice | None = None
        try:
            with boards as links:
                practice = Practice(
                    links, roster={a.pod: a.name for a in athletes}, record_to=new_session
                )
                practice.subscribe(BoardWatch(practice, [a.pod for a in athletes], athletes))
                title = f"StrideCue demo: {self.n} virtual athletes, {self.speed:g}x real time"
                dashboard = None
                if self.dashboard_port is not None:
                    dashboard = (self.dashboard_host, self.dashboard_port)
                try:
                    await run_practice(
                        practice,
                        title,
                        headless=self.headless,
                        duration_s=self.duration_s / self.speed + 20.0,
                        dashboard=dashboard,
                        verbose=self.verbose,
                    )
                except LinkError:
                    boards.why_dead()
                    raise
                self._collect(practice, athletes, boards)
        finally:
            if practice is not None and practice.recorder is not None:
                practice.recorder.close()
        assert practice.recorder is not None  # the boards connected, or LinkError above
        return DemoResult(
            practice.recorder.path,
            athletes,
            time.monotonic() - t0,
            boards.interpreter_used,
            practice,
        )

    @staticmethod
    def _collect(practice: Practice, athletes: list[Athlete], boards: Boards) -> None:
        time.sleep(0.1)
        for a, pod in zip(athletes, boards.pods, strict=True):
            row = practice.rows.get(a.pod)
            if row is not None:
                a.strides, a.cues = row.strides, row.cues
            if not a.done:
                if not pod.alive():
                    a.error = f"board exited: {Boards.last_words(pod)}"
                elif practice.stop_requested:
                    a.stopped = True  # Ctrl-C: the coach ended the practice early
                else:
                    a.error = "run not finished by the deadline"
