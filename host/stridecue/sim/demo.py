"""The demo practice: virtual athletes on simulated pods, coached live and recorded.

Each athlete is a scenario run through the IMU simulator, replayed by its own
simulation board (the pod firmware on MicroPython, or on CPython when the unix
port is not installed) on a pty. The host connects to every board with the real
``serial:`` link, exactly as to a pod on USB, records every frame, feeds each
stride to that athlete's analyzer and cue policy, and writes the cues back, which
the firmware plays on its (simulated) motor.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stridecue.analysis import Analyzer, CuePolicy, Event
from stridecue.errors import ConfigError, LinkError
from stridecue.links import Channel, Link, open_link
from stridecue.protocol import LogLine, StrideEvent
from stridecue.recorder import Recorder
from stridecue.sim import scenarios
from stridecue.sim.imu import ImuConfig, simulate
from stridecue.sim.pod import SimPod, write_counts

LIMITS = {
    "duration_s": (20.0, 3600.0),
    "athletes": (1, 8),
    "speed": (0.5, 100.0),
}

# name, pace (m/s), fades: the first athletes of the squad; more repeat the paces
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


def check(name: str, value: float) -> None:
    lo, hi = LIMITS[name]
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(
            f"--{name.replace('_s', '').replace('_', '-')}={value:g} is out of "
            f"range: allowed {lo:g}..{hi:g}"
        )


@dataclass
class AthleteState:
    """What the view shows for one athlete; updated as records arrive."""

    name: str
    pace_mps: float
    fades: bool
    pod: str = ""
    link: str = ""
    state: str = "starting"
    strides: int = 0
    distance_m: float = 0.0
    last: StrideEvent | None = None
    alerts: list[str] = field(default_factory=list)
    cues_sent: int = 0
    motor_on: int = 0
    done: bool = False
    error: str = ""  # why the simulated pod stopped early, if it did

    @property
    def cadence_spm(self) -> float:
        return self.last.cadence_spm if self.last else math.nan

    @property
    def speed_mps(self) -> float:
        s = self.last
        return s.stride_length_m / s.stride_time_s if s and s.stride_time_ms else math.nan


@dataclass
class DemoResult:
    session: Path
    athletes: list[AthleteState]
    wall_s: float
    interpreter: str


def squad(
    n: int, duration_s: float, seed: int = 0
) -> list[tuple[AthleteState, scenarios.Scenario]]:
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
        out.append((AthleteState(name, pace, fades), sc))
    return out


class Demo:
    """Runs the practice; ``on_update`` is called whenever something changed."""

    def __init__(
        self,
        *,
        duration_s: float = 60.0,
        athletes: int = 3,
        speed: float = 10.0,
        sessions_dir: Path = Path("sessions"),
        seed: int = 0,
        interpreter: str | None = None,
        on_event: Callable[[AthleteState, str], None] | None = None,
    ) -> None:
        check("duration_s", duration_s)
        check("athletes", athletes)
        check("speed", speed)
        self.duration_s = duration_s
        self.n = athletes
        self.speed = speed
        self.sessions_dir = sessions_dir
        self.seed = seed
        self.interpreter = interpreter
        self.on_event = on_event or (lambda a, text: None)
        self.athletes: list[AthleteState] = []

    async def run(self) -> DemoResult:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="stridecue-demo-") as tmp:
            work = Path(tmp)
            plan = squad(self.n, self.duration_s, self.seed)
            self.athletes = [a for a, _ in plan]
            files = []
            for k, (a, sc) in enumerate(plan):
                rec = simulate(sc.bouts, ImuConfig(), seed=self.seed + k, tail_s=3.0)
                files.append(write_counts(work / f"athlete{k}.txt", rec))
                a.state = "simulated"
            rec_names = {f"sim-{a.name.lower()}": a.name for a in self.athletes}
            recorder = Recorder.create(
                self.sessions_dir,
                label="demo",
                athletes=rec_names,
                settings={
                    "demo": True,
                    "speed": self.speed,
                    "duration_s": self.duration_s,
                    "scenarios": {a.name: sc.description for a, sc in plan},
                },
            )
            pods: list[SimPod] = []
            links: list[Link] = []
            interp = ""
            try:
                max_wall = self.duration_s / self.speed + 60.0
                for k, a in enumerate(self.athletes):
                    pod = SimPod(
                        files[k],
                        speed=self.speed,
                        store_dir=work / f"store{k}",
                        max_wall_s=max_wall,
                        interpreter=self.interpreter,
                    )
                    pods.append(pod)
                    interp = pod.interpreter
                    device = pod.start()
                    link = open_link(f"serial:{device}")
                    link.info.pod = f"sim-{a.name.lower()}"
                    a.pod, a.link = link.info.pod, link.spec
                    links.append(link)
                try:
                    await asyncio.gather(*(ln.connect() for ln in links))
                except LinkError:
                    self._why_dead(pods)
                    raise
                for a, link in zip(self.athletes, links, strict=True):
                    link.info.extra["simulated"] = "yes"
                    recorder.add_pod(link.info, link=link.spec, athlete=a.name)
                    a.state = "live"
                deadline = self.duration_s / self.speed + 20.0
                tasks = [
                    self._follow(a, ln, pod, recorder)
                    for a, ln, pod in zip(self.athletes, links, pods, strict=True)
                ]
                done = asyncio.gather(*tasks)
                try:
                    await asyncio.wait_for(done, deadline)
                except TimeoutError:
                    for a in self.athletes:
                        if not a.done:
                            a.state = "timed out"
                            self.on_event(a, "no end of run within the demo's time; stopped")
            finally:
                for link in links:
                    with contextlib.suppress(Exception):
                        await link.close()
                for pod in pods:
                    pod.close()
                recorder.close()
        return DemoResult(recorder.path, self.athletes, time.monotonic() - t0, interp)

    def _why_dead(self, pods: list[SimPod]) -> None:
        """Raise LinkError with the board's own words when a simulated pod has exited."""
        time.sleep(0.2)  # let a dying board finish writing stderr
        for a, pod in zip(self.athletes, pods, strict=False):
            if not pod.alive():
                lines = [ln for ln in pod.stderr().splitlines() if ln.strip()]
                why = lines[-1] if lines else "no message"
                raise LinkError(
                    f"the simulated pod of {a.name} stopped ({pod.interpreter}): {why}; "
                    "reinstall stridecue, or run `stridecue -v demo` for details"
                )

    async def _follow(self, a: AthleteState, link: Link, pod: SimPod, recorder: Recorder) -> None:
        analyzer = Analyzer()
        policy = CuePolicy()
        async for item in link.records():
            recorder.write(item)
            rec = item.record
            if isinstance(rec, StrideEvent):
                a.strides += 1
                a.distance_m += rec.stride_length_m
                a.last = rec
                t_s = rec.t_contact_ms / 1000.0
                events = analyzer.feed_values(
                    t_s, rec.stride_time_s, rec.stride_length_m, rec.contact_time_s, rec.seq
                )
                for e in events:
                    self._event(a, e)
                for d in policy.update(t_s, events):
                    if d.action == "send" and d.cue is not None:
                        await link.write_cue(d.cue)
                        recorder.write_sent(a.pod, Channel.CUE, bytes(d.cue))
                        a.cues_sent += 1
                        self.on_event(a, f"cue {d.cue.pattern.name.lower()}: {d.reason}")
            elif isinstance(rec, LogLine):
                text = rec.text
                if text.startswith("motor "):
                    if text != "motor 0":
                        a.motor_on += 1
                elif text.startswith("imu end"):
                    for e in analyzer.finish():
                        self._event(a, e)
                    a.done = True
                    a.state = "finished"
                    self.on_event(a, "run finished")
                    return
        # the link ended before the run did: the simulated pod stopped
        a.state = "lost"
        await asyncio.sleep(0.2)  # let the board's exit and its stderr land
        lines = [ln for ln in pod.stderr().splitlines() if ln.strip()]
        a.error = lines[-1] if lines else f"link {link.state.value}, board alive={pod.alive()}"
        self.on_event(a, f"simulated pod stopped: {a.error}")

    def _event(self, a: AthleteState, e: Event) -> None:
        if e.kind in ("rhythm_loss", "stride_shortening", "recovered"):
            a.alerts.append(e.kind)
            self.on_event(a, f"{e.kind.replace('_', ' ')} at stride {e.stride_index}")
        elif e.kind == "rep_summary":
            d = e.detail
            self.on_event(
                a,
                f"rep summary: {d.get('strides')} strides, {d.get('distance_m')} m, "
                f"{d.get('mean_cadence_spm')} spm, form held {d.get('form_held_m')} m",
            )
