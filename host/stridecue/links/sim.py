"""``sim:SCENARIO``: a simulated athlete on the pod firmware's simulation board.

The scenario (``stridecue.sim.scenarios``; parameters as ``sim:rep,speed_mps=6``,
and ``speed=10`` plays it ten times faster than real time)
is run through the IMU simulator, and the firmware's simulation board replays
that IMU on a pty (``stridecue.sim.pod.SimPod``); the host then talks to it with
the ordinary ``serial:`` link, exactly as to a pod on USB.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from stridecue.links.base import LinkState
from stridecue.links.options import SimOptions
from stridecue.links.serial import SerialLink


def parse_scenario(target: str) -> tuple[str, dict[str, float]]:
    """``rep,speed_mps=6,distance_m=400`` → ("rep", {...}); ConfigError names a bad field."""
    from stridecue.sim import scenarios

    name, *pairs = target.split(",")
    name = name.strip()
    params = scenarios.parse_params(pairs, "sim:rep,speed_mps=6")
    scenarios.check_params(name, params, also={"speed": "playback speed, e.g. speed=10"})
    return name, params


class SimLink(SerialLink):
    scheme = "sim"

    def __init__(self, spec: str, target: str, options: SimOptions | None = None) -> None:
        sim = options or SimOptions()
        super().__init__(spec, target, sim.serial())
        self.scenario, self.params = parse_scenario(target)
        # "speed" in the spec (sim:steady,speed=10) is the playback speed, not the scenario's
        self.speed = self.params.pop("speed", sim.speed)
        self.seed = sim.seed
        self.info.pod = self.info.name = "-".join(
            ["sim", self.scenario, *(f"{k}{v:g}" for k, v in self.params.items())]
        )  # one id per spec: two relay legs (seed=1, seed=2) are two athletes
        self.info.extra["simulated"] = "yes"
        self.simpod: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    async def connect(self) -> None:
        from stridecue.sim import scenarios
        from stridecue.sim.imu import ImuConfig, simulate
        from stridecue.sim.pod import SimPod, write_counts

        self._set_state(LinkState.CONNECTING)
        sc = scenarios.build(self.scenario, **self.params)
        self._tmp = tempfile.TemporaryDirectory(prefix="stridecue-sim-")
        work = Path(self._tmp.name)
        rec = await asyncio.to_thread(simulate, sc.bouts, ImuConfig(), seed=self.seed, tail_s=3.0)
        imu = write_counts(work / "imu.txt", rec)
        self.simpod = SimPod(imu, speed=self.speed, store_dir=work / "store")
        self.target = self.simpod.start()
        self.info.extra["scenario"] = sc.description
        try:
            await super().connect()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await super().close()
        if self.simpod is not None:
            self.simpod.close()
            self.simpod = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
