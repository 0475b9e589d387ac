"""``serial:PORT``: a pod on USB serial (or the simulation board on a pty).

Frames are COBS + CRC-16 (docs/protocol.md, "Serial framing"), decoded with
:class:`~stridecue.protocol.FrameDecoder`. On POSIX the event loop watches the
port's file descriptor and reads what is there the moment it is readable; where
that is not possible (Windows) a reader thread does blocking reads and hands the
bytes over. Either way each chunk is stamped with the host time it arrived, and
each frame in it goes to the shared intake of :class:`~stridecue.links.podlink.PodLink`
(a frame that does not decode is skipped alone). Settings:
:class:`~stridecue.links.options.SerialOptions`.

A USB port cannot tell the pod whether anyone listens, so while connected the
link asks for the pod's status every ``keepalive_s`` seconds (default 10): the
pod counts a serial host as present for 30 s after its last frame, and only
cues on its own (fallback) once the host has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

import serial

from stridecue.errors import LinkError
from stridecue.links.base import Channel, LinkState
from stridecue.links.options import SerialOptions
from stridecue.links.podlink import PodLink
from stridecue.protocol import ControlRequest, Cue, FrameDecoder, encode_frame
from stridecue.protocol.records import Opcode

log = logging.getLogger(__name__)

#: What a port that vanished raises. On POSIX pyserial configures the port with termios,
#: whose error is not an OSError: a pty whose far end closed while it opened raises it.
PORT_ERRORS: tuple[type[Exception], ...] = (serial.SerialException, OSError)
try:
    import termios

    PORT_ERRORS += (termios.error,)
except ImportError:  # Windows
    pass
#: pyserial raises TypeError from a read on a port closed under it
_READ_ERRORS: tuple[type[Exception], ...] = (*PORT_ERRORS, TypeError)


class SerialLink(PodLink):
    """The serial transport: pyserial moves framed bytes, frames go to the shared intake."""

    scheme = "serial"

    def __init__(self, spec: str, target: str, options: SerialOptions | None = None) -> None:
        self.options = options or SerialOptions()
        super().__init__(spec, target, time_sync_rounds=self.options.time_sync_rounds)
        self.info.name = target
        self.decoder = FrameDecoder()
        self._ser: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd: int | None = None
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
        await self._after_connect(reconnected=False)
        self._keepalive_task = self._loop.create_task(
            self._keepalive(), name=f"keepalive {self.spec}"
        )

    async def _keepalive(self) -> None:
        """GET_STATUS every keepalive_s while connected: the pod knows a host is there."""
        while not self._closing and self.state is not LinkState.CLOSED:
            await asyncio.sleep(self.options.keepalive_s)
            if self.state is LinkState.CONNECTED:
                with contextlib.suppress(LinkError):  # a lost port is handled by _port_lost()
                    await self.control(ControlRequest(Opcode.GET_STATUS, self.token()))

    def _open(self) -> None:
        try:
            self._ser = serial.Serial(
                self.target, self.options.baudrate, timeout=0.1, write_timeout=2
            )
        except PORT_ERRORS as e:
            raise LinkError(
                f"cannot open serial port {self.target}: {e}; check the cable and the port "
                "name (Linux /dev/ttyACM0, macOS /dev/cu.usbmodem…, Windows COM3)"
            ) from None
        try:
            watched = self._watch_fd()
        except PORT_ERRORS as e:
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

    def _close_port(self) -> None:
        self._unwatch()
        if self._ser is not None:
            with contextlib.suppress(*PORT_ERRORS):
                self._ser.close()
            self._ser = None

    def _watch_fd(self) -> bool:
        """POSIX: read in the event loop when the port is readable (no thread hand-off).

        A port that vanished meanwhile raises one of PORT_ERRORS, for the caller to report."""
        assert self._ser is not None and self._loop is not None
        try:
            fd = self._ser.fileno()
        except (NotImplementedError, AttributeError):
            return False  # e.g. Windows: the reader thread does it
        self._ser.timeout = 0  # reads return what is there, never block
        try:
            self._loop.add_reader(fd, self._readable)
        except (NotImplementedError, ValueError):
            self._ser.timeout = 0.1
            return False  # a loop that cannot watch descriptors
        self._fd = fd
        return True

    def _readable(self) -> None:
        ser = self._ser
        if ser is None:
            return
        try:
            data = ser.read(max(1, ser.in_waiting))
        except _READ_ERRORS as e:
            self._port_lost(str(e))
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
            except _READ_ERRORS as e:
                if not self._stop.is_set():
                    loop.call_soon_threadsafe(self._port_lost, str(e))
                return
            if data:
                loop.call_soon_threadsafe(self._on_bytes, data, time.time_ns())

    def _port_lost(self, why: str) -> None:
        if self._closing:
            return
        self._close_port()
        self._lost(f"serial port lost ({why})", reconnect=self.options.reconnect)

    async def _reconnect(self) -> None:
        """Reopen the port (cable back in), then resync and fetch the strides made meanwhile."""
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
            if await self._after_connect(reconnected=True):
                return
            if self.state is not LinkState.CONNECTED:
                return  # lost again meanwhile: a new reconnect task carries on
            self._close_port()  # the port opened, but no pod answers
            self._set_state(LinkState.RECONNECTING)

    def _on_bytes(self, data: bytes, host_ns: int) -> None:
        for raw in self.decoder.feed(data):
            self._intake(raw, Channel.POD, host_ns)

    def _write(self, record: bytes) -> None:
        if self._ser is None or self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: not connected; connect first")
        try:
            self._ser.write(encode_frame(record))
        except PORT_ERRORS as e:
            raise LinkError(f"{self.spec}: write failed ({e}); check the cable") from None

    async def write_cue(self, cue: Cue) -> None:
        self._write(bytes(cue))

    async def _send_control(self, data: bytes) -> None:
        self._write(data)

    async def close(self) -> None:
        self._begin_close()
        self._stop.set()
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
        self._end()
