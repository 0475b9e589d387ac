"""``replay:SESSION``: a recorded session played back as a link.

The frames come out byte for byte as they were recorded, with their recorded
host times, in host time order over all pods; paced at ``speed`` x real time
(``speed=0`` plays as fast as possible). The frames are read by the session's
one reader (:meth:`stridecue.session.Session.items`): a damaged tail in a frame
file is reported (``bad_tails``, and a warning) and everything before it plays; a
frame that does not decode is skipped and reported (``problems``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from stridecue.errors import LinkError
from stridecue.links.base import Link, LinkState, PodInfo, Received
from stridecue.links.options import ReplayOptions
from stridecue.protocol import Cue
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

    @property
    def problems(self) -> list[str]:
        """Damaged file ends, then the frames skipped so far because they do not decode."""
        return self.session.problems if self.session else []

    def pod_infos(self) -> list[PodInfo]:
        """The pods as recorded, with their time sync (a replay places strides as live did)."""
        assert self.session is not None
        out = []
        for pod, meta in self.session.meta.get("pods", {}).items():
            offset_ms, uncertainty_ms = self.session.time_sync(pod)
            out.append(
                PodInfo(
                    pod=pod,
                    name=str(meta.get("name", "")),
                    address=str(meta.get("address", "")),
                    firmware=str(meta.get("firmware", "")),
                    rsc_only=bool(meta.get("rsc_only", False)),
                    clock_offset_ms=offset_ms,
                    clock_uncertainty_ms=uncertainty_ms,
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
            items = self.session.items(include_sent=self.include_sent)
            for n, item in enumerate(items):
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
