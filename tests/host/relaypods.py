"""Simulated relay pods: each plays one runner of ``stridecue.sim.strides.relay`` live.

Both pods share one origin (the host's clock when the first connects), so their
strides keep the relay's exact timing; each stride is encoded by the firmware's own
encoder and reaches the host ``report_s`` after its contact (the pod decides the
stride, then the link carries it). The pods announce their clock offset as a real
pod does after a time sync, so the practice maps their contacts exactly. A cue
written to a pod is decoded by the firmware's ``decode_cue`` and kept with the
session second it arrived at.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from stridecue import firmware
from stridecue.errors import LinkError
from stridecue.links.base import Channel, Link, LinkState, Received, decode_pod_frame
from stridecue.protocol import Cue
from stridecue.sim.strides import StrideTruth

REPORT_S = 0.157  # stride decided on the pod (~137 ms) + the link (~20 ms)


class Origin:
    """The relay's t = 0 on the host's clock, ``lead_s`` after the first pod connects
    (a moment for the others to connect, or for the coach to set the relay up)."""

    def __init__(self, lead_s: float = 0.3) -> None:
        self.wall_ns = 0
        self.lead_s = lead_s

    def fix(self) -> int:
        if not self.wall_ns:
            self.wall_ns = time.time_ns() + round(self.lead_s * 1e9)
        return self.wall_ns

    def sim_s(self, wall_ns: int) -> float:
        return (wall_ns - self.wall_ns) / 1e9


class RelayPod(Link):
    """One runner's strides, played in real time from the shared origin."""

    scheme = "relaypod"
    has_pod = False  # streams from the start: nothing to START

    def __init__(
        self, name: str, strides: Sequence[StrideTruth], origin: Origin, report_s: float = REPORT_S
    ) -> None:
        super().__init__(f"relaypod:{name}", name)
        self.strides = list(strides)
        self.origin = origin
        self.report_s = report_s
        self.proto = firmware.load("proto")
        self.cues: list[tuple[float, tuple[int, ...]]] = []  # (relay seconds, decoded cue)
        self._buf = bytearray(32)
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        self.info.clock_offset_ms = self.origin.fix() / 1e6  # device ms 0 = the origin
        self._set_state(LinkState.CONNECTED)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        for seq, s in enumerate(self.strides):
            due_ns = self.origin.wall_ns + round((s.t_s + self.report_s) * 1e9)
            await asyncio.sleep(max(0.0, (due_ns - time.time_ns()) / 1e9))
            n = self.proto.encode_stride(
                self._buf,
                seq,
                round(s.t_s * 1000),
                round(s.stride_time_s * 1000),
                round(s.contact_time_s * 1000),
                round(s.stride_length_m * 1000),
                0,
            )
            raw = bytes(self._buf[:n])
            self._push(
                Received(
                    self.pod, time.time_ns(), Channel.POD, raw, decode_pod_frame(raw, Channel.POD)
                )
            )
        self._set_state(LinkState.CLOSED)
        self._finish()

    async def write_cue(self, cue: Cue) -> None:
        if self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: not connected")
        decoded = self.proto.decode_cue(bytes(cue))
        if decoded is None:
            raise LinkError(f"{self.spec}: pod ignored a malformed cue {bytes(cue).hex()}")
        self.cues.append((self.origin.sim_s(time.time_ns()), tuple(decoded)))

    async def _send_control(self, data: bytes) -> None:
        raise LinkError(f"{self.spec}: control is not simulated")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.state is not LinkState.CLOSED:
            self._set_state(LinkState.CLOSED)
            self._finish()
