"""``serial:PORT``: a pod on USB serial (or the simulation board on a pty).

Frames are COBS + CRC-16 (docs/protocol.md, "Serial framing"), decoded with
:class:`~stridecue.protocol.FrameDecoder`. On POSIX the event loop watches the
port's file descriptor and reads what is there the moment it is readable; where
that is not possible (Windows) a reader thread does blocking reads and hands the
bytes over. Either way each chunk is stamped with the host time it arrived.

A USB port cannot tell the pod whether anyone listens, so while connected the
link asks for the pod's status every ``keepalive`` seconds (default 10): the
pod counts a serial host as present for 30 s after its last frame, and only
cues on its own (fallback) once the host has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

import serial

from stridecue.errors import LinkError, ProtocolError
from stridecue.links.base import Channel, Link, LinkState, Received, decode_pod_frame
from stridecue.links.seqtrack import SeqTracker, backfill
from stridecue.protocol import (
    ControlReply,
    ControlRequest,
    Cue,
    FrameDecoder,
    LogLine,
    Status,
    StrideEvent,
    encode_frame,
)
from stridecue.protocol.records import Opcode

log = logging.getLogger(__name__)


class SerialLink(Link):
    scheme = "serial"

    def __init__(self, spec: str, target: str, **options: Any) -> None:
        super().__init__(spec, target)
        self.baudrate = int(options.get("baudrate", 115200))
        self.sync = bool(options.get("time_sync", True))
        # reopen the port when it comes back (a USB cable pulled and plugged in again);
        # off by default: a pty whose far end has gone never comes back
        self.auto_reconnect = bool(options.get("reconnect", False))
        self.keepalive_s = float(options.get("keepalive", 10.0))
        if not 0 < self.keepalive_s < 30:
            raise LinkError(
                f"{spec}: keepalive={self.keepalive_s:g} s is out of range: the pod "
                "forgets a silent host after 30 s, so use 0 < keepalive < 30"
            )
        self.reconnects = 0
        self.still_missing = 0
        self.info.name = target
        self.tracker = SeqTracker()
        self.decoder = FrameDecoder()
        self.bad_records = 0
        self._ser: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._status_seen = asyncio.Event()
        self._fd: int | None = None
        self._closing = False
        self._last_status: Status | None = None
        self._reopen_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        self._loop = asyncio.get_running_loop()
        try:
            self._open()
        except LinkError:
            self._set_state(LinkState.CLOSED)
            raise
        self._set_state(LinkState.CONNECTED)
        if self.sync:
            await self._handshake()
        self._keepalive_task = self._loop.create_task(
            self._keepalive(), name=f"keepalive {self.spec}"
        )

    async def _keepalive(self) -> None:
        """GET_STATUS every keepalive_s while connected: the pod knows a host is there."""
        while not self._closing and self.state is not LinkState.CLOSED:
            await asyncio.sleep(self.keepalive_s)
            if self.state is LinkState.CONNECTED:
                with contextlib.suppress(LinkError):  # a lost port is handled by _lost()
                    await self.control(ControlRequest(Opcode.GET_STATUS, self.token()))

    def _open(self) -> None:
        try:
            self._ser = serial.Serial(self.target, self.baudrate, timeout=0.1, write_timeout=2)
        except (serial.SerialException, OSError) as e:
            raise LinkError(
                f"cannot open serial port {self.target}: {e}; check the cable and the port "
                "name (Linux /dev/ttyACM0, macOS /dev/cu.usbmodem…, Windows COM3)"
            ) from None
        try:
            watched = self._watch_fd()
        except (serial.SerialException, OSError) as e:
            # the port opened but cannot be configured: the pod went away meanwhile
            self._ser.close()
            self._ser = None
            raise LinkError(
                f"serial port {self.target} stopped answering right after it opened: {e}; "
                "check that the pod is still connected (and not reset), then retry"
            ) from None
        if not watched:
            self._thread = threading.Thread(target=self._read_loop, name=self.spec, daemon=True)
            self._thread.start()

    async def _handshake(self) -> bool:
        """Clock offset, then the pod's status (firmware version, newest stride)."""
        try:
            if self.sync:
                offset, unc = await self.time_sync()
                log.info("%s: clock offset %.1f ms ± %.1f", self.spec, offset, unc)
            self._status_seen.clear()
            await self.control(ControlRequest(Opcode.GET_STATUS, self.token()))
            await asyncio.wait_for(self._status_seen.wait(), 1.0)
        except (LinkError, TimeoutError) as e:
            log.warning("%s: no time sync or status (%s); device times stay unmapped", self.spec, e)
            return False
        return True

    def _watch_fd(self) -> bool:
        """POSIX: read in the event loop when the port is readable (no thread hand-off)."""
        assert self._ser is not None and self._loop is not None
        try:
            fd = self._ser.fileno()
            self._ser.timeout = 0  # reads return what is there, never block
            self._loop.add_reader(fd, self._readable)
        except (NotImplementedError, AttributeError, OSError, ValueError):
            if self._ser.timeout == 0:
                self._ser.timeout = 0.1
            return False  # e.g. Windows: the reader thread does it
        self._fd = fd
        return True

    def _readable(self) -> None:
        ser = self._ser
        if ser is None:
            return
        try:
            data = ser.read(max(1, ser.in_waiting))
        except (serial.SerialException, OSError, TypeError) as e:
            self._unwatch()
            self._lost(str(e))
            return
        if data:
            self._on_bytes(data, time.time_ns())

    def _unwatch(self) -> None:
        if self._fd is not None and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None

    def _read_loop(self) -> None:
        ser = self._ser
        loop = self._loop
        assert ser is not None and loop is not None
        while not self._stop.is_set():
            try:
                data = ser.read(max(1, ser.in_waiting))
            except (serial.SerialException, OSError, TypeError) as e:
                if not self._stop.is_set():
                    loop.call_soon_threadsafe(self._lost, str(e))
                return
            if data:
                loop.call_soon_threadsafe(self._on_bytes, data, time.time_ns())

    def _lost(self, why: str) -> None:
        if self._closing:
            return
        self._unwatch()
        if self._ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._ser.close()
            self._ser = None
        if not self.auto_reconnect:
            log.error("%s: serial port lost (%s)", self.spec, why)
            self._set_state(LinkState.CLOSED)
            self._finish()
            return
        log.warning("%s: serial port lost (%s); reopening it when it is back", self.spec, why)
        self._set_state(LinkState.RECONNECTING)
        assert self._loop is not None
        self._reopen_task = self._loop.create_task(self._reopen(), name=f"reopen {self.spec}")

    async def _reopen(self) -> None:
        """Reopen the port (cable back in), resync, and fetch the strides made meanwhile."""
        delay = 0.1
        while not self._closing:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            try:
                self._open()
            except LinkError:
                continue
            old, self.decoder = self.decoder, FrameDecoder()  # drop a half frame from before
            self.decoder.drops.update(old.drops)
            self._set_state(LinkState.CONNECTED)
            if not await self._handshake():
                if self.state is LinkState.CONNECTED:  # the port opened, but no pod answers
                    self._unwatch()
                    if self._ser is not None:
                        self._ser.close()
                        self._ser = None
                    self._set_state(LinkState.RECONNECTING)
                    continue
                return  # lost again meanwhile: a new reopen task carries on
            self.reconnects += 1
            if self._last_status is not None:
                self.tracker.expect_up_to(self._last_status.last_seq)
            self.still_missing = await self.backfill()
            return

    def _on_bytes(self, data: bytes, host_ns: int) -> None:
        for raw in self.decoder.feed(data):
            try:
                record = decode_pod_frame(raw)
            except ProtocolError as e:
                self.bad_records += 1
                log.warning("%s: record dropped: %s", self.spec, e)
                continue
            if isinstance(record, ControlReply):
                self._deliver_reply(record)
            elif isinstance(record, StrideEvent) and not self.tracker.accept(record.seq):
                continue
            elif isinstance(record, LogLine):
                log.info("%s pod: %s", self.spec, record.text)
            elif isinstance(record, Status):
                self.info.firmware = ".".join(map(str, record.firmware))
                self._last_status = record
                self._status_seen.set()
            self._push(Received(self.pod, host_ns, Channel.POD, raw, record))

    def _write(self, record: bytes) -> None:
        if self._ser is None or self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: not connected; connect first")
        try:
            self._ser.write(encode_frame(record))
        except (serial.SerialException, OSError) as e:
            raise LinkError(f"{self.spec}: write failed ({e}); check the cable") from None

    async def write_cue(self, cue: Cue) -> None:
        self._write(bytes(cue))

    async def _send_control(self, data: bytes) -> None:
        self._write(data)

    async def backfill(self) -> int:
        """Ask for strides missed (gaps in the sequence); returns how many are still missing."""
        return await backfill(self.tracker, self.control, self.token)

    async def close(self) -> None:
        self._closing = True
        self._stop.set()
        if self._reopen_task is not None:
            self._reopen_task.cancel()
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
        self._unwatch()
        if self._ser is not None:
            if self._thread is not None:
                if hasattr(self._ser, "cancel_read"):
                    self._ser.cancel_read()
                await asyncio.to_thread(self._thread.join, 2.0)
            self._ser.close()
            self._ser = None
        if self.state is not LinkState.CLOSED:
            self._set_state(LinkState.CLOSED)
            self._finish()
