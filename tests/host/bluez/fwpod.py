"""The pod's own service code (firmware/stridepod/service.py) on CPython, behind the stand-in.

Strides go in through ``Pod.on_stride`` (what the gait engine calls), and the
firmware numbers, stores (ring + session file in a temp folder), answers
control requests (TIME_SYNC, BACKFILL, GET_STATUS, ...), plays cues on its real
haptics driver over a fake PWM pin, and refuses what it refuses on an unbonded
link. Only the clock and the PWM pin are stand-ins (the hardware edge).
"""

import time
from pathlib import Path

from stridecue import firmware
from stridecue.protocol import Cue, StrideEvent

service = firmware.load("service")
store = firmware.load("store")
haptics = firmware.load("haptics")


class Pwm:
    """The motor's PWM pin: records every duty written."""

    def __init__(self) -> None:
        self.duties: list[int] = []

    def duty_u16(self, duty: int) -> None:
        self.duties.append(duty)


class FirmwarePod:
    def __init__(self, store_dir: Path, battery: int = 87) -> None:
        self.t0 = time.monotonic()
        self.battery = battery
        self.pwm = Pwm()
        self.pod = service.Pod(
            self.clock_ms,
            store.Store(str(store_dir)).open(),
            haptics.Haptics(self.pwm, self.clock_ms),
            battery=lambda: self.battery,
        )
        self.links = self.pod.links
        self.strides: dict[int, bytes] = {}  # what the pod made, by seq
        self.cues: list[Cue] = []  # cues the firmware accepted and played

    def clock_ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000)

    def stride(self, stride_ms: int = 700, length_mm: int = 2400) -> int:
        t = self.clock_ms()
        seq: int = self.pod.on_stride(t, stride_ms, 210, length_mm, 0)
        self.strides[seq] = bytes(StrideEvent(seq, t, stride_ms, 210, length_mm))
        return seq

    @property
    def first_seq(self) -> int:
        return min(self.strides) if self.strides else self.pod.store.next_seq

    def status_record(self) -> bytes:
        return bytes(self.pod.status()[:20])

    def cue(self, data: bytes, permitted: bool = True) -> bool:
        played: bool = self.pod.cue(memoryview(data), permitted)
        if played:
            self.cues.append(Cue.from_bytes(data))
        return played

    def control(self, data: bytes, link: object, conn: int = 0, permitted: bool = True) -> int:
        result: int = self.pod.control(memoryview(data), link, conn, permitted)
        while self.pod.pump():  # follow-up records (backfill, status), as the app's task does
            pass
        return result
