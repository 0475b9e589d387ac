"""``replay:SESSION``: a recorded session played back as a link.

The frames come out byte for byte as they were recorded, with their recorded
host times, in host time order over all pods; paced at ``speed`` x real time
(``speed=0`` plays as fast as possible). A damaged tail in a frame file is
reported (``bad_tails``, and a warning) and everything before it plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from stridecue.errors import LinkError
from stridecue.links.base import Channel, Link, LinkState, PodInfo, Received
from stridecue.links.options import ReplayOptions
from stridecue.protocol import ControlRequest, Cue, RscMeasurement, decode_record
from stridecue.protocol.fastdecode import fast_stride
from stridecue.session import BadTail, Session

log = logging.getLogger(__name__)


def sessions_root() -> Path:
    """Where sessions are recorded by default ($STRIDECUE_SESSIONS or ~/stridecue-sessions)."""
    return Path(os.environ.get("STRIDECUE_SESSIONS", Path.home() / "stridecue-sessions"))


def resolve_session(name: str) -> Path:
    """A session folder from a path, or a folder name under the sessions root."""
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    q = sessions_root() / name
    if q.is_dir():
        return q
    raise LinkError(
        f"no session {name!r} (looked in . and {sessions_root()}); "
        "`stridecue sessions` lists the recorded ones"
    )


def replay_items(session: Session, *, include_sent: bool = False) -> Iterator[Received]:
    """Every stored frame as a Received, decoded, in host time order (no pacing).

    The hot loop of ``replay --fast``: stride records take the fast decoder, the
    frames of all pods are put in time order by one stable sort.
    """
    pods, channels, times, raws = session.columns()
    pod_ch, rsc_ch = int(Channel.POD), int(Channel.RSC)
    as_channel = {int(c): c for c in Channel}
    new = tuple.__new__  # Received is a NamedTuple: skip its Python-level __new__
    for i in session.order(times):
        ch = channels[i]
        raw = raws[i]
        if ch == pod_ch:
            if len(raw) == 18 and raw[0] == 1 and raw[1] == 1:
                record: Any = fast_stride(raw)
            else:
                record = decode_record(raw)
        elif ch == rsc_ch:
            record = RscMeasurement.from_bytes(raw)
        elif not include_sent:
            continue
        elif ch == Channel.CUE:
            record = Cue.from_bytes(raw)
        elif ch == Channel.CONTROL:
            record = ControlRequest.from_bytes(raw)
        else:
            log.warning("%s: frame of unknown channel %d skipped", pods[i], ch)
            continue
        yield new(Received, (pods[i], times[i], as_channel[ch], raw, record))


class ReplayLink(Link):
    has_pod = False
    scheme = "replay"

    def __init__(self, spec: str, target: str, options: ReplayOptions | None = None) -> None:
        super().__init__(spec, target)
        opts = options or ReplayOptions()
        self.speed = opts.speed
        self.include_sent = opts.include_sent
        self.session: Session | None = None
        self.cues_dropped = 0
        self._closed = asyncio.Event()

    @property
    def bad_tails(self) -> list[BadTail]:
        return self.session.bad_tails if self.session else []

    def pod_infos(self) -> list[PodInfo]:
        assert self.session is not None
        out = []
        for pod, meta in self.session.meta.get("pods", {}).items():
            out.append(
                PodInfo(
                    pod=pod,
                    name=str(meta.get("name", "")),
                    address=str(meta.get("address", "")),
                    firmware=str(meta.get("firmware", "")),
                    rsc_only=bool(meta.get("rsc_only", False)),
                )
            )
        return out

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        path = resolve_session(self.target)
        self.session = await asyncio.to_thread(Session.open, path)
        for tail in self.bad_tails:
            log.warning("replay %s: %s", path.name, tail)
        self.info = PodInfo(pod=path.name, name=path.name)
        self._set_state(LinkState.CONNECTED)

    async def records(self) -> AsyncIterator[Received]:
        """The recorded frames, paced; no queue in between (one consumer, as for any link)."""
        if self.session is None:
            raise LinkError(f"{self.spec}: not connected; connect first")
        closed = self._closed
        speed = self.speed
        t0_wall = time.monotonic()
        t0_rec: int | None = None
        try:
            for n, item in enumerate(replay_items(self.session, include_sent=self.include_sent)):
                if closed.is_set():
                    return
                if speed > 0:
                    if t0_rec is None:
                        t0_rec = item.host_ns
                    delay = t0_wall + (item.host_ns - t0_rec) / 1e9 / speed - time.monotonic()
                    if delay > 0.001:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(closed.wait(), delay)
                        if closed.is_set():
                            return
                elif n & 1023 == 0:
                    await asyncio.sleep(0)  # let the rest of the program run
                yield item
        finally:
            self._set_state(LinkState.CLOSED)

    async def write_cue(self, cue: Cue) -> None:
        # nothing to buzz in a replay; the pipeline still runs the same way
        self.cues_dropped += 1

    async def _send_control(self, data: bytes) -> None:
        raise LinkError(
            f"{self.spec}: a replay has no pod to control; connect with ble: or serial:"
        )

    async def close(self) -> None:
        self._closed.set()
        self._set_state(LinkState.CLOSED)
