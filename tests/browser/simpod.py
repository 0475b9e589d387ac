"""A simulated pod behind the real ``stridecue.links.Link`` interface, for dashboard tests.

Strides are encoded by the firmware's own encoder (``stridepod.proto``), so the host
decodes real wire bytes. A cue written to the pod is decoded by the firmware's
``decode_cue`` and played by the firmware's ``Haptics`` on a PWM stand-in that
rejects duties a real PWM would reject: "the cue reached the pod" means the
firmware's motor driver switched the motor on.
"""

from __future__ import annotations

import asyncio
import math
import time

from stridecue import firmware
from stridecue.errors import LinkError
from stridecue.links.base import Channel, Link, LinkState, Received, decode_pod_frame
from stridecue.protocol import Cue


class FakePwm:
    """A PWM output: duty_u16 accepts 0..65535 only, like machine.PWM."""

    def __init__(self) -> None:
        self.duties: list[int] = []

    def duty_u16(self, duty: int) -> None:
        if not 0 <= duty <= 65535:
            raise ValueError(f"duty {duty} out of range 0..65535")
        self.duties.append(duty)

    @property
    def ever_on(self) -> bool:
        return any(d > 0 for d in self.duties)


class SimPod(Link):
    """One runner: cadence and stride length wobble a little; a fade shortens strides."""

    scheme = "simpod"
    has_pod = False  # no control requests (START/STOP): it streams from the start

    def __init__(
        self,
        name: str,
        *,
        cadence_spm: float = 184.0,
        stride_length_m: float = 2.1,
        fade_per_min: float = 0.0,
        speedup: float = 1.0,
        battery_pct: int = 87,
    ) -> None:
        super().__init__(f"simpod:{name}", name)
        self.cadence_spm = cadence_spm
        self.stride_length_m = stride_length_m
        self.fade_per_min = fade_per_min
        self.speedup = speedup
        self.battery_pct = battery_pct
        self.proto = firmware.load("proto")
        self.rt = firmware.load("rt")
        self.pwm = FakePwm()
        self.motor = firmware.load("haptics").Haptics(self.pwm, self.rt.ticks_ms)
        self.cues: list[tuple[int, int, int, int]] = []
        self._buf = bytearray(32)
        self._task: asyncio.Task[None] | None = None
        self._seq = 0

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        self._set_state(LinkState.CONNECTED)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _emit(self, raw: bytes) -> None:
        rec = decode_pod_frame(raw, Channel.POD)
        self._push(Received(self.pod, time.time_ns(), Channel.POD, raw, rec))

    async def _run(self) -> None:
        t_ms = 0.0
        n = self.proto.encode_status(self._buf, self.battery_pct, 0, 3, 5, 0, 0, (1, 0, 0), 1)
        self._emit(bytes(self._buf[:n]))
        while True:
            minutes = t_ms / 60000.0
            wobble = 1.0 + 0.02 * math.sin(self._seq * 0.9)
            stride_ms = 120000.0 / self.cadence_spm * wobble
            length = self.stride_length_m * (1.0 - self.fade_per_min * minutes) / wobble
            await asyncio.sleep(stride_ms / 1000.0 / self.speedup)
            n = self.proto.encode_stride(
                self._buf,
                self._seq,
                int(t_ms),
                int(stride_ms),
                int(stride_ms * 0.3),
                int(length * 1000),
                0,
            )
            self._emit(bytes(self._buf[:n]))
            self._seq += 1
            t_ms += stride_ms

    async def write_cue(self, cue: Cue) -> None:
        if self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: not connected")
        decoded = self.proto.decode_cue(bytes(cue))
        if decoded is None:
            raise LinkError(f"{self.spec}: pod ignored a malformed cue {bytes(cue).hex()}")
        if not self.motor.play(*decoded):
            raise LinkError(f"{self.spec}: pod refused cue {decoded}")
        self.cues.append(tuple(decoded))
        self.motor.step(self.rt.ticks_ms())  # the firmware's haptics task runs it at once

    async def _send_control(self, data: bytes) -> None:
        raise LinkError(f"{self.spec}: control is not simulated")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._set_state(LinkState.CLOSED)
        self._finish()
