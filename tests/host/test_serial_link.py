"""serial: link over a real pty with real pyserial; the pod side frames with the firmware's code."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bluez.fwpod import FirmwarePod
from stridecue import firmware
from stridecue.errors import LinkError
from stridecue.links import LinkState, Received, SerialOptions, open_link
from stridecue.links.serial import SerialLink
from stridecue.protocol import ControlRequest, Cue, Status, StrideEvent, StrideFlag, encode_frame
from stridecue.protocol.records import Opcode, Pattern

framing = firmware.load("framing")  # the pod's own COBS + CRC framing
NO_SYNC = SerialOptions(time_sync_rounds=0)  # no clock exchange (nor status) at connect


class PtyPod:
    """The pod end of a pty: the firmware's framing and its Pod service behind it."""

    def __init__(self, pod: FirmwarePod) -> None:
        self.pod = pod
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        os.close(slave)  # pyserial opens the slave by name
        os.set_blocking(self.master, False)  # termios changes can wake the reader with no data
        self.out = bytearray(80)
        self.deframer = framing.Deframer(self._on_record)
        self.deliver = True  # False: strides are made but the cable "drops" them
        pod.links.append(self)
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        # nothing there after all (BlockingIOError), or the host closed the pty
        with contextlib.suppress(OSError):
            self.deframer.feed(os.read(self.master, 256))

    def _on_record(self, buf: bytearray, n: int) -> None:
        data = bytes(buf[:n])
        if data[0] == 0x04:
            self.pod.control(data, self)
        elif data[0] == 0x03:
            self.pod.cue(data)

    def _send(self, buf: bytes, n: int) -> bool:
        k = framing.encode(buf, n, self.out)
        os.write(self.master, bytes(self.out[:k]))
        return True

    def stride(self, rec: bytes, n: int, rsc: bytes, rn: int) -> None:
        if self.deliver:
            self._send(rec, n)

    def reply(self, conn: int, buf: bytes, n: int) -> None:
        self._send(buf, n)

    def record(self, conn: int, buf: bytes, n: int) -> bool:
        return self._send(buf, n)

    def status(self, buf: bytes, n: int) -> None:
        pass  # over serial, status goes out only in reply to GET_STATUS

    def hosts(self) -> int:
        return 1

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


@pytest.fixture
async def pty_pod(tmp_path: Path) -> AsyncIterator[PtyPod]:
    peer = PtyPod(FirmwarePod(tmp_path / "store"))
    yield peer
    peer.close()


async def take(
    it: AsyncIterator[Received], n: int, kind: type = StrideEvent, timeout_s: float = 5.0
) -> list[Received]:
    """The next ``n`` received records of type ``kind`` (replies and others skipped)."""
    out: list[Received] = []

    async def go() -> None:
        async for item in it:
            if isinstance(item.record, kind):
                out.append(item)
            if len(out) == n:
                return

    await asyncio.wait_for(go(), timeout_s)
    return out


async def test_strides_cue_and_control_over_a_pty(pty_pod: PtyPod) -> None:
    link = open_link(f"serial:{pty_pod.port}")
    assert isinstance(link, SerialLink)
    await link.connect()
    assert link.state is LinkState.CONNECTED
    assert link.info.clock_offset_ms is not None and link.info.clock_uncertainty_ms is not None
    assert 0 <= link.info.clock_uncertainty_ms < 100
    records = link.records()
    for _ in range(5):
        pty_pod.pod.stride()
    got = await take(records, 5)
    f = pty_pod.pod.first_seq
    assert [r.seq for r in got] == [f, f + 1, f + 2, f + 3, f + 4]
    assert all(isinstance(r.record, StrideEvent) and bytes(r.record) == r.raw for r in got)
    assert got[0].raw == pty_pod.pod.strides[f]
    assert got[0].host_ns <= got[-1].host_ns
    await link.write_cue(Cue(Pattern.STRIDE, 80, 2))
    reply = await link.control(ControlRequest(Opcode.GET_STATUS, link.token()))
    assert reply.result == 0
    (status,) = await take(records, 1, Status)
    assert isinstance(status.record, Status) and status.record.last_seq == f + 4
    assert pty_pod.pod.cues == [Cue(Pattern.STRIDE, 80, 2)]
    await link.close()
    assert link.state is LinkState.CLOSED
    assert [r async for r in records if isinstance(r.record, StrideEvent)] == []


async def test_dropped_strides_are_backfilled_once(pty_pod: PtyPod) -> None:
    link = open_link(f"serial:{pty_pod.port}", NO_SYNC)
    assert isinstance(link, SerialLink)
    await link.connect()
    records = link.records()
    pty_pod.pod.stride()
    pty_pod.deliver = False
    for _ in range(4):
        pty_pod.pod.stride()  # lost on the wire
    pty_pod.deliver = True
    pty_pod.pod.stride()
    got = await take(records, 2)
    f = pty_pod.pod.first_seq
    assert [r.seq for r in got] == [f, f + 5]
    assert sorted(link.tracker.missing) == [f + 1, f + 2, f + 3, f + 4]
    assert await link.backfill() == 0
    filled = await take(records, 4)
    assert [r.seq for r in filled] == [f + 1, f + 2, f + 3, f + 4]
    assert all(
        isinstance(r.record, StrideEvent) and r.record.flags & StrideFlag.BACKFILLED for r in filled
    )
    await link.backfill()  # nothing missing: nothing asked, nothing repeated
    await link.close()
    assert [r async for r in records if isinstance(r.record, StrideEvent)] == []


async def test_noise_on_the_line_is_dropped_not_fatal(pty_pod: PtyPod) -> None:
    link = open_link(f"serial:{pty_pod.port}", NO_SYNC)
    assert isinstance(link, SerialLink)
    await link.connect()
    records = link.records()
    os.write(pty_pod.master, b"\x05\x99\x42\x13\x00garbage\x00")
    pty_pod.pod.stride()
    (item,) = await take(records, 1)
    assert item.seq == pty_pod.pod.first_seq and sum(link.decoder.drops.values()) == 2
    await link.close()


async def test_a_frame_that_does_not_decode_loses_nothing_else_in_its_chunk(
    pty_pod: PtyPod,
) -> None:
    # well framed (COBS + CRC fine) but not decodable: a cue with intensity 150 %
    # (out of range), an unknown record kind, a cut-short status; all in one write,
    # so one read, between two strides and before a good status
    link = open_link(f"serial:{pty_pod.port}", NO_SYNC)
    assert isinstance(link, SerialLink)
    await link.connect()
    records = link.records()
    good = Status(80, 0, 3, 0, 0, 101, (0, 3, 0), 7)
    bad_cue = bytearray(bytes(Cue(Pattern.RHYTHM, 100)))
    bad_cue[3] = 150  # byte 3: intensity, 0..100
    frames = [
        bytes(StrideEvent(100, 70_000, 700, 210, 2400)),
        bytes(bad_cue),
        b"\x7e\x01\x00",
        bytes(good)[:9],
        bytes(StrideEvent(101, 70_700, 700, 210, 2400)),
        bytes(good),
    ]
    os.write(pty_pod.master, b"".join(encode_frame(f) for f in frames))
    got = await take(records, 3, (StrideEvent, Status))
    assert [r.raw for r in got] == [frames[0], frames[4], frames[5]]
    assert len({r.host_ns for r in got}) == 1  # one chunk
    assert link.bad_records == 3 and sum(link.decoder.drops.values()) == 0
    assert link.last_status == good and link.info.firmware == "0.3.0"
    assert link.state is LinkState.CONNECTED
    os.write(pty_pod.master, encode_frame(bytes(StrideEvent(102, 71_400, 700, 210, 2400))))
    (after,) = await take(records, 1)  # and the link reads on
    assert after.seq == 102
    await link.close()


async def test_keepalive_tells_the_pod_a_host_is_there(pty_pod: PtyPod) -> None:
    # the pod forgets a silent USB host after 30 s (then its fallback cues may
    # run): the link asks for status every keepalive seconds while connected
    link = open_link(f"serial:{pty_pod.port}", SerialOptions(time_sync_rounds=0, keepalive_s=0.2))
    assert isinstance(link, SerialLink)
    await link.connect()
    before = pty_pod.pod.pod.requests  # none yet: no time sync (nor status) at connect
    records = link.records()
    got = await take(records, 2, Status, timeout_s=5.0)
    assert len(got) == 2 and pty_pod.pod.pod.requests >= before + 2
    await link.close()
    sent = pty_pod.pod.pod.requests
    await asyncio.sleep(0.5)
    assert pty_pod.pod.pod.requests == sent  # closed: no more keepalives


async def test_pod_session_started_once_and_stopped(pty_pod: PtyPod) -> None:
    # a pod samples only in a session: the host STARTs it at connect and STOPs it
    link = open_link(f"serial:{pty_pod.port}", NO_SYNC)
    await link.connect()
    store = pty_pod.pod.pod.store
    assert store.running is None
    assert await link.start_session() is True and store.running is not None
    sid = store.running.sid
    assert await link.start_session() is False  # already running (a reconnect): kept
    assert store.running.sid == sid
    await link.stop_session()
    assert store.running is None and store.find(sid) is not None  # stopped, kept
    await link.stop_session()  # nothing running: nothing to do, no error
    await link.close()


async def test_practice_runs_the_pods_session(pty_pod: PtyPod) -> None:
    from stridecue.practice import Practice

    link = open_link(f"serial:{pty_pod.port}", NO_SYNC)
    practice = Practice([link], analyze=False, cues=False)
    await practice.connect()
    store = pty_pod.pod.pod.store
    assert store.running is not None  # measuring from the moment the practice starts
    pty_pod.pod.stride()
    await practice.run(duration_s=0.3)
    assert store.running is None and store.sessions[-1].records == 1


def test_keepalive_out_of_range_is_refused() -> None:
    with pytest.raises(LinkError, match=r"keepalive_s=45 is out of range.*0 < keepalive_s < 30"):
        open_link("serial:/dev/ttyACM0", SerialOptions(keepalive_s=45))


async def test_missing_port_says_what_to_check() -> None:
    link = open_link("serial:/dev/does-not-exist-42")
    with pytest.raises(LinkError, match=r"cannot open serial port .* check the cable"):
        await link.connect()


async def test_cable_out_and_back_in_reopens_and_backfills(tmp_path: Path) -> None:
    """A stable port name (like /dev/serial/by-id/...) that vanishes and comes back."""
    pod = FirmwarePod(tmp_path / "store")
    port = tmp_path / "usb-StrideCue-pod"
    first = PtyPod(pod)
    port.symlink_to(first.port)
    link = open_link(f"serial:{port}", SerialOptions(reconnect=True, time_sync_rounds=0))
    assert isinstance(link, SerialLink)
    await link.connect()
    records = link.records()
    for _ in range(3):
        pod.stride()
    await take(records, 3)
    pod.links.remove(first)
    first.close()  # cable out: the host sees the port hang up
    port.unlink()
    for _ in range(4):
        pod.stride()  # made while unplugged
    await asyncio.sleep(0.3)
    assert link.state is LinkState.RECONNECTING
    second = PtyPod(pod)  # cable back in: a new device behind the same name
    port.symlink_to(second.port)
    back = await take(records, 4)
    assert [r.seq for r in back] == sorted(pod.strides)[3:]
    assert all(
        isinstance(r.record, StrideEvent) and r.record.flags & StrideFlag.BACKFILLED for r in back
    )
    assert link.reconnects == 1 and link.state is LinkState.CONNECTED
    pod.stride()
    (live,) = await take(records, 1)
    assert live.seq == max(pod.strides)
    await link.close()
    second.close()


@pytest.mark.parametrize(
    ("call", "fails_at", "message"),
    [
        ("tcsetattr", 1, "cannot open serial port"),
        ("tcgetattr", 2, "stopped answering right after it opened"),
    ],
)
async def test_a_port_whose_pod_is_gone_gives_a_link_error(
    monkeypatch: pytest.MonkeyPatch, call: str, fails_at: int, message: str
) -> None:
    # A simulated pod that dies at start-up: the pty opens, then configuring it fails with
    # EIO, the kernel's answer once the other end has closed. pyserial lets termios.error
    # (not an OSError) out of tcsetattr inside open(); it wraps a failing tcgetattr in a
    # SerialException, as when the link then makes reads non-blocking (tcgetattr's second
    # call). Either way the link must say so in one LinkError.
    import termios

    real = getattr(termios, call)
    calls = 0

    def dying(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls >= fails_at:
            raise termios.error(5, "Input/output error")
        return real(*args)

    monkeypatch.setattr(termios, call, dying)
    master, slave = os.openpty()
    try:
        link = open_link(f"serial:{os.ttyname(slave)}", NO_SYNC)
        with pytest.raises(LinkError, match=message):
            await link.connect()
        assert link.state is LinkState.CLOSED and calls == fails_at
    finally:
        os.close(master)
        os.close(slave)
