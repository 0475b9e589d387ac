"""A rep whose strides carry the pod's flags, through the live pipeline (a practice recorded
to a folder): shared by the tests of flagged and clipped strides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cuepod import CuePod
from stridecue.analysis import Event
from stridecue.links import Channel, PodInfo
from stridecue.links.base import Received
from stridecue.practice import Listener, Practice, Row
from stridecue.protocol import StrideEvent, StrideFlag
from stridecue.recorder import Recorder
from stridecue.sim import strides as S
from stridecue.timeline import SessionClock

T0 = 1_700_000_000 * 10**9  # ns, the practice's start
_FIRST_MS = 5000  # pod time of the rep's start


def rep_records(
    strides: Sequence[S.StrideTruth],
    flags: Mapping[int, StrideFlag],
    length_scale: Mapping[int, float] | None = None,
) -> list[StrideEvent]:
    """The strides as the pod sends them: stride k flagged ``flags[k]`` and its length
    scaled by ``length_scale[k]`` (both default: none)."""
    scale = length_scale or {}
    out = []
    t_ms = _FIRST_MS
    for k, s in enumerate(strides):
        t_ms += round(s.stride_time_s * 1000)
        out.append(
            StrideEvent(
                k, t_ms, round(s.stride_time_s * 1000), round(s.contact_time_s * 1000),
                round(s.stride_length_m * scale.get(k, 1.0) * 1000),
                flags.get(k, StrideFlag(0)),
            )
        )  # fmt: skip
    return out


class EventLog(Listener):
    """Every analyzer event the practice publishes."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def event(self, row: Row, event: Event) -> None:
        self.events.append(event)


async def live_rep(
    folder: Path, records: Sequence[StrideEvent], watch: Callable[[Practice], None]
) -> tuple[list[Event], CuePod]:
    """``records`` from pod "pod" (athlete Ana) through a practice recorded to ``folder``;
    ``watch`` subscribes the views under test first. Returns its events and the pod (the
    cues written to it)."""
    now = [T0]
    recorder = Recorder(folder, athletes={"pod": "Ana"}, start_ns=T0)
    practice = Practice([], recorder=recorder, clock=SessionClock(T0, now_ns=lambda: now[0]))
    pod = CuePod()
    log = EventLog()
    practice.subscribe(log)
    watch(practice)
    recorder.add_pod(PodInfo(pod="pod"), "test:pod", athlete="Ana")
    practice.add_athlete("pod", "Ana", link=pod)
    for ev in records:
        now[0] = T0 + (ev.t_contact_ms - _FIRST_MS) * 10**6 + 60_000_000
        await practice.handle(Received("pod", now[0], Channel.POD, bytes(ev), ev), pod)
    practice.finish()
    recorder.close()
    return log.events, pod
