"""The pod protocol, written once for every transport that reaches a real pod.

A :class:`PodLink` is a :class:`~stridecue.links.base.Link` with a pod behind it.
Its transports (``ble:``, ``serial:``) only move bytes: they open and close, write
records, notice when the pod is lost and reopen, and hand every received frame to
:meth:`PodLink._intake` with its host receive time. Everything the bytes mean is
here:

- intake: each frame is decoded on its own; one that does not decode (any
  StrideCueError: bad bytes, or a field out of range) is counted in
  ``bad_records``, logged in one warning line, and skipped, and the frames around
  it pass as if it had not been there;
- stride sequence numbers go through a :class:`~stridecue.links.seqtrack.SeqTracker`,
  so a repeated stride is dropped;
- control replies go to the request waiting for their token;
- a Status is kept (``last_status``) and names the firmware, unless the transport
  read the Device Information firmware revision string, which then wins;
- a LogLine from the pod is logged;
- after each (re)connect: time sync, the pod's status (its newest stride), then
  BACKFILL of every stride missed while away;
- the pod's settings (GET_CONFIG, SET_CONFIG) and its stored sessions (LIST_SESSIONS,
  SESSION_INFO, READ_SESSION, MARK_SYNCED: what ``stridecue pod sync`` uses). The
  strides a session read brings go to that read, not to ``records()``: they are
  not live, and their sequence numbers may lie below the live ones.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import struct
import time

from stridecue.errors import LinkError, StrideCueError
from stridecue.links import seqtrack
from stridecue.links.base import Channel, Link, LinkState, Received, check_reply, decode_pod_frame
from stridecue.protocol import ControlReply, ControlRequest, LogLine, Status, StrideEvent
from stridecue.protocol.records import (
    BondAddress,
    BondEntry,
    ConfigKey,
    Opcode,
    Result,
    StoredSession,
    StrideFlag,
)

log = logging.getLogger(__name__)


class PodLink(Link):
    """A link to one pod; subclasses are transports (see the module docstring)."""

    def __init__(self, spec: str, target: str, *, time_sync_rounds: int) -> None:
        super().__init__(spec, target)
        #: clock exchanges after each connect; 0: the first connect sends nothing
        self.time_sync_rounds = time_sync_rounds
        self.tracker = seqtrack.SeqTracker()
        self.reconnects = 0  # times the pod was back, and answered, after a loss
        self.bad_records = 0  # received frames that did not decode
        self.still_missing = 0  # strides the last backfill could not fetch
        self.last_status: Status | None = None
        self._firmware_revision = ""  # Device Information, when the transport read it
        self._status_seen = asyncio.Event()
        self._reading: _SessionRead | None = None  # a READ_SESSION under way
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None

    # --- receiving ---
    def _intake(self, raw: bytes, channel: Channel, host_ns: int) -> None:
        """One received frame: decode it, act on it, and queue it for ``records()``."""
        try:
            record = decode_pod_frame(raw, channel)
        except StrideCueError as e:
            self.bad_records += 1
            log.warning("%s: %s frame dropped (%s): %s", self.spec, channel.name, raw.hex(), e)
            return
        if isinstance(record, StrideEvent):
            reading = self._reading
            if reading is not None and reading.take(
                Received(self.pod, host_ns, channel, raw, record)
            ):
                return
            if not self.tracker.accept(record.seq):
                return
        elif isinstance(record, ControlReply):
            self._deliver_reply(record)
        elif isinstance(record, Status):
            self._on_status(record)
        elif isinstance(record, LogLine):
            log.info("%s pod: %s", self.spec, record.text)
        self._push(Received(self.pod, host_ns, channel, raw, record))

    def _firmware_read(self, revision: str) -> None:
        """The transport read the Device Information firmware revision string."""
        self._firmware_revision = revision
        self.info.firmware = revision

    def _on_status(self, status: Status) -> None:
        self.last_status = status
        self.info.firmware = self._firmware_revision or ".".join(map(str, status.firmware))
        self._status_seen.set()

    # --- asking ---
    async def fetch_status(self, timeout_s: float = 1.0) -> Status:
        """The pod's status now: GET_STATUS, whose Status record follows the reply."""
        self._status_seen.clear()
        check_reply(self.spec, await self.control(ControlRequest(Opcode.GET_STATUS, self.token())))
        try:
            await asyncio.wait_for(self._status_seen.wait(), timeout_s)
        except TimeoutError:
            raise LinkError(
                f"{self.spec}: GET_STATUS answered but no status followed within {timeout_s} s; "
                "update the pod firmware"
            ) from None
        assert self.last_status is not None
        return self.last_status

    async def list_bonds(self) -> list[BondAddress]:
        """The hosts the pod keeps BLE bonds for (LIST_BONDS, index by index).

        Over BLE only a bonded host may ask (the pod answers NOT_PERMITTED: LinkError).
        """
        bonds: list[BondAddress] = []
        while True:
            reply = await self.control(ControlRequest.list_bonds(self.token(), len(bonds)))
            if reply.result is Result.NOT_FOUND:
                return bonds
            check_reply(self.spec, reply)
            entry = BondEntry.from_payload(reply.payload)
            bonds.append(entry.bond)
            if len(bonds) >= entry.count:
                return bonds

    async def forget_bond(self, bond: BondAddress | None) -> int:
        """Make the pod forget one bonded host, or (None) every one; returns how many.

        The host forgotten gets no StrideCue data until it pairs again in the pod's
        pairing window; a forgotten host that is connected keeps only the open services.
        """
        reply = await self.control(ControlRequest.forget_bond(self.token(), bond))
        if reply.result is Result.NOT_FOUND and bond is not None:
            raise LinkError(
                f"{self.spec}: the pod has no bond with {bond.address}; "
                f"`stridecue pod bonds {self.spec}` lists the ones it has"
            )
        check_reply(self.spec, reply)
        return reply.payload[0] if reply.payload else 0

    async def backfill(self) -> int:
        """Ask for strides missed (gaps in the sequence); returns how many are still missing."""
        return await seqtrack.backfill(self.tracker, self.control, self.token)

    async def time_sync(self, rounds: int = 5) -> tuple[float, float]:
        """Offset host - device (ms) and its uncertainty, best of ``rounds`` exchanges.

        docs/protocol.md "Time sync": offset = (h0 + h1) / 2 - d, ± (h1 - h0) / 2.
        """
        best: tuple[float, float] | None = None
        for _ in range(rounds):
            h0 = time.time_ns()
            reply = await self.control(ControlRequest(Opcode.TIME_SYNC, self.token()))
            h1 = time.time_ns()
            check_reply(self.spec, reply)
            if len(reply.payload) < 4:
                raise LinkError(f"{self.spec}: TIME_SYNC reply too short; update the pod firmware")
            (d,) = struct.unpack_from("<I", reply.payload)
            offset = (h0 + h1) / 2e6 - d
            half_rtt = (h1 - h0) / 2e6
            if best is None or half_rtt < best[1]:
                best = (offset, half_rtt)
        assert best is not None
        self.info.clock_offset_ms, self.info.clock_uncertainty_ms = best
        return best

    async def _after_connect(self, *, reconnected: bool) -> bool:
        """Time sync, then the pod's status, then the strides missed; False if no answer.

        After a reconnect always (time sync only with ``time_sync_rounds`` > 0); on
        the first connect only with time sync on: a link opened with 0 rounds speaks
        only when spoken to. An RSC-only pod has none of this.
        """
        if self.info.rsc_only or not (reconnected or self.time_sync_rounds):
            self.reconnects += 1 if reconnected else 0
            return True
        try:
            if self.time_sync_rounds:
                offset, unc = await self.time_sync(self.time_sync_rounds)
                log.info("%s: clock offset %.1f ms ± %.1f", self.spec, offset, unc)
            status = await self.fetch_status()
        except (LinkError, TimeoutError) as e:
            log.warning("%s: no time sync or status (%s); device times stay unmapped", self.spec, e)
            return False
        self.reconnects += 1 if reconnected else 0
        self.tracker.expect_up_to(status.last_seq)
        try:
            self.still_missing = await self.backfill()
        except LinkError as e:
            log.warning("%s: backfill stopped: %s", self.spec, e)
        return True

    # --- settings and stored sessions ---
    async def get_config(self, key: ConfigKey) -> int:
        reply = await self.control(ControlRequest.get_config(self.token(), key))
        check_reply(self.spec, reply)
        return int(struct.unpack_from("<I", reply.payload, 1)[0])

    async def set_config(self, key: ConfigKey, value: int) -> int:
        """SET_CONFIG; returns the value as the pod applied (and keeps) it."""
        reply = await self.control(ControlRequest.set_config(self.token(), key, value))
        check_reply(self.spec, reply)
        return int(struct.unpack_from("<I", reply.payload, 1)[0])

    async def list_sessions(self) -> list[StoredSession]:
        """Every session stored on the pod, oldest first (LIST_SESSIONS by index)."""
        out: list[StoredSession] = []
        for index in range(256):
            reply = await self.control(ControlRequest.list_sessions(self.token(), index))
            if reply.result is Result.NOT_FOUND:
                break
            check_reply(self.spec, reply)
            out.append(StoredSession.from_list_reply(reply.payload))
        return out

    async def session_info(self, session: int) -> StoredSession:
        reply = await self.control(ControlRequest.session_info(self.token(), session))
        check_reply(self.spec, reply)
        return StoredSession.from_info_reply(reply.payload)

    async def read_session(
        self, session: StoredSession, *, chunk: int = 2000, idle_s: float = 2.0
    ) -> list[Received]:
        """Every stored stride of ``session`` (from SESSION_INFO), in sequence order.

        READ_SESSION in chunks; the records come back flagged BACKFILLED. A chunk
        ends when all its records are in or none came for ``idle_s``; what is
        still missing is asked for once more. Returns what arrived (a caller
        compares its length with ``session.records``).
        """
        if session.first_seq is None:
            raise LinkError(f"{self.spec}: session {session.session_id}: first seq unknown")
        got: dict[int, Received] = {}
        first, end = session.first_seq, session.first_seq + session.records
        for _ in range(2):
            wanted = [s for s in range(first, end) if s not in got]
            for start in range(0, len(wanted), chunk):
                part = wanted[start : start + chunk]
                await self._read_span(session.session_id, part[0], part[-1], got, idle_s)
        return [got[s] for s in sorted(got)]

    async def _read_span(
        self, session: int, first: int, last: int, got: dict[int, Received], idle_s: float
    ) -> None:
        reading = _SessionRead(first, last, got)
        self._reading = reading
        try:
            request = ControlRequest.read_session(self.token(), session, first, last - first + 1)
            reply = await self.control(request)
            if reply.result is Result.NOT_FOUND:
                return
            check_reply(self.spec, reply)
            _, _, n = struct.unpack_from("<HIH", reply.payload)
            reading.left -= min(reading.left, last - first + 1 - n)  # gone for good: no wait
            await reading.wait(idle_s)
        finally:
            self._reading = None

    async def mark_synced(self, session: int, records: int) -> None:
        """Tell the pod the host stored all ``records`` of ``session`` (it may delete it)."""
        reply = await self.control(ControlRequest.mark_synced(self.token(), session, records))
        check_reply(self.spec, reply)

    # --- losing and closing ---
    def _lost(self, why: str, *, reconnect: bool) -> None:
        """The transport lost the pod: reconnect in the background, or end the link."""
        if self._closing:
            return
        if not reconnect:
            log.error("%s: %s", self.spec, why)
            self._end()
            return
        log.warning("%s: %s; reconnecting when it is back", self.spec, why)
        self._set_state(LinkState.RECONNECTING)
        self._reconnect_task = asyncio.get_running_loop().create_task(
            self._reconnect(), name=f"reconnect {self.spec}"
        )

    @abc.abstractmethod
    async def _reconnect(self) -> None:
        """Reopen until the pod is back (then :meth:`_after_connect`) or the link closes."""

    def _begin_close(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()

    def _end(self) -> None:
        """CLOSED, and ``records()`` ends after what was already received (once)."""
        if self.state is not LinkState.CLOSED:
            self._set_state(LinkState.CLOSED)
            self._finish()


class _SessionRead:
    """The strides of one READ_SESSION span, taken from the intake as they arrive."""

    def __init__(self, first: int, last: int, got: dict[int, Received]) -> None:
        self.first = first
        self.last = last
        self.got = got
        self.left = sum(1 for s in range(first, last + 1) if s not in got)
        self._arrived = asyncio.Event()

    def take(self, item: Received) -> bool:
        """Keep ``item`` if it is a stride of this span sent again (BACKFILLED)."""
        rec = item.record
        assert isinstance(rec, StrideEvent)
        if not (rec.flags & StrideFlag.BACKFILLED and self.first <= rec.seq <= self.last):
            return False
        if rec.seq not in self.got:
            self.got[rec.seq] = item
            self.left -= 1
        self._arrived.set()
        return True

    async def wait(self, idle_s: float) -> None:
        """Until every record of the span is in, or none came for ``idle_s``."""
        while self.left > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), idle_s)
            except TimeoutError:
                return
