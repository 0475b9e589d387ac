"""One small interface for every way a pod's records reach the host.

A link is opened by a name string (``open_link("ble:StrideCue-1A2B")``), connected,
and then yields :class:`Received` items: the record bytes exactly as they crossed
the wire, decoded, with the host's receive time. Cues and control requests go the
other way. Recording wraps a link; replay is a link that plays a recording.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from stridecue.errors import LinkError
from stridecue.protocol import (
    ControlReply,
    ControlRequest,
    Cue,
    Record,
    RscMeasurement,
)
from stridecue.protocol.fastdecode import fast_decode
from stridecue.protocol.records import Opcode, Result
from stridecue.session import Channel as Channel  # re-exported: links speak in these
from stridecue.session import Received as Received

log = logging.getLogger(__name__)


class LinkState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(slots=True)
class PodInfo:
    """What the host learnt about a pod while connecting (kept in session metadata)."""

    pod: str
    name: str = ""
    address: str = ""
    firmware: str = ""
    rsc_only: bool = False
    clock_offset_ms: float | None = None  # host wall clock - device clock, ms
    clock_uncertainty_ms: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "address": self.address,
            "firmware": self.firmware,
            "rsc_only": self.rsc_only,
            "clock_offset_ms": self.clock_offset_ms,
            "clock_uncertainty_ms": self.clock_uncertainty_ms,
            **self.extra,
        }


def decode_pod_frame(raw: bytes, channel: Channel = Channel.POD) -> Record | RscMeasurement:
    """Decode a received frame.

    Raises a ProtocolError subclass on bad bytes, and ConfigError for a field out
    of its range (e.g. a Status with battery 150 %): a link catches StrideCueError.
    """
    if channel is Channel.RSC:
        return RscMeasurement.from_bytes(raw)
    return fast_decode(raw)


_END = object()


class Link(abc.ABC):
    """A connection to one pod (or, for replay, to a recording of several)."""

    scheme: str = ""
    #: False for links with no pod behind them (a replay): no control requests
    has_pod: bool = True

    def __init__(self, spec: str, target: str) -> None:
        self.spec = spec
        self.target = target
        self.state = LinkState.IDLE
        self.info = PodInfo(pod=target)
        self._queue: asyncio.Queue[Received | object] = asyncio.Queue()
        self._pending: dict[int, asyncio.Future[ControlReply]] = {}
        self._next_token = 0
        self.on_state: list[Callable[[Link, LinkState], None]] = []

    @property
    def pod(self) -> str:
        return self.info.pod

    # --- the interface ---
    @abc.abstractmethod
    async def connect(self) -> None:
        """Open the link; raises LinkError with what to do when it cannot."""

    async def records(self) -> AsyncIterator[Received]:
        """Every received record, in arrival order, until the link is closed."""
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, Received)
            yield item

    @abc.abstractmethod
    async def write_cue(self, cue: Cue) -> None:
        """Send a cue (written without response; the pod plays at most one at a time)."""

    async def control(self, request: ControlRequest, timeout_s: float = 2.0) -> ControlReply:
        """Send a control request and wait for the reply with its token."""
        if self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: not connected ({self.state.value}); connect first")
        fut: asyncio.Future[ControlReply] = asyncio.get_running_loop().create_future()
        self._pending[request.token] = fut
        try:
            await self._send_control(bytes(request))
            return await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            raise LinkError(
                f"{self.spec}: no reply to {Opcode(request.opcode).name} within {timeout_s} s; "
                "check the pod is on and in range"
            ) from None
        finally:
            self._pending.pop(request.token, None)

    async def start_session(self) -> bool:
        """Make the pod sample and store strides: START, unless a session runs already.

        A pod measures only in a session (docs/protocol.md, START). Returns True when
        this call started it, False when one was running (a reconnect, another host)
        or the pod has no sessions (RSC-only, a replay).
        """
        if not self.has_pod or self.info.rsc_only:
            return False
        reply = await self.control(ControlRequest.start(self.token(), int(time.time())))
        if reply.result is Result.BUSY:
            return False
        check_reply(self.spec, reply)
        return True

    async def stop_session(self) -> None:
        """STOP the pod's session (its strides stay stored); nothing if none runs."""
        if not self.has_pod or self.info.rsc_only or self.state is not LinkState.CONNECTED:
            return
        reply = await self.control(ControlRequest(Opcode.STOP, self.token()))
        if reply.result is not Result.NOT_FOUND:
            check_reply(self.spec, reply)

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop the link; ``records()`` ends after what was already received."""

    # --- helpers for implementations ---
    @abc.abstractmethod
    async def _send_control(self, data: bytes) -> None: ...

    def token(self) -> int:
        """A fresh control token (0-255) not waiting for a reply."""
        for _ in range(256):
            self._next_token = (self._next_token + 1) & 0xFF
            if self._next_token not in self._pending:
                return self._next_token
        raise LinkError(f"{self.spec}: 256 control requests waiting; the pod is not answering")

    def _set_state(self, state: LinkState) -> None:
        if state is not self.state:
            log.info("%s: %s -> %s", self.spec, self.state.value, state.value)
            self.state = state
            for cb in self.on_state:
                cb(self, state)

    def _deliver_reply(self, reply: ControlReply) -> None:
        fut = self._pending.get(reply.token)
        if fut is not None and not fut.done():
            fut.set_result(reply)
        else:
            log.warning("%s: reply with unknown token %d ignored", self.spec, reply.token)

    def _push(self, item: Received) -> None:
        self._queue.put_nowait(item)

    def _finish(self) -> None:
        self._queue.put_nowait(_END)


async def start_sessions(links: list[Link]) -> None:
    """START every pod's session, all at once; raises the first failure after all tried."""
    results = await asyncio.gather(*(ln.start_session() for ln in links), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


async def stop_sessions(links: list[Link]) -> None:
    """STOP every pod's session; a pod that does not answer is logged, not an error.

    (Its session goes on, storing strides, until a later STOP or the pod's reboot.)
    """
    results = await asyncio.gather(*(ln.stop_session() for ln in links), return_exceptions=True)
    for ln, r in zip(links, results, strict=True):
        if isinstance(r, LinkError):
            log.warning("%s: session not stopped: %s", ln.spec, r)
        elif isinstance(r, BaseException):
            raise r


def check_reply(spec: str, reply: ControlReply) -> None:
    """Raise LinkError with the pod's reason unless the reply is OK."""
    if reply.result is Result.OK:
        return
    hint = {
        Result.NOT_PERMITTED: "the link is not bonded: run `stridecue pair` first",
        Result.BAD_VERSION: "update the pod firmware or the host",
        Result.BUSY: "stop the running session first",
        Result.STORAGE: "free space on the pod (stridecue sessions on the pod, delete old ones)",
    }.get(reply.result, "see docs/protocol.md, control results")
    try:
        op = Opcode(reply.opcode).name
    except ValueError:
        op = f"opcode {reply.opcode:#04x}"
    raise LinkError(f"{spec}: pod refused {op}: {reply.result.name}; {hint}")
