"""The pod protocol written once (PodLink), with no transport: frames are handed in directly.

The real transports are tested over a pty (test_serial_link.py) and real bleak
over dbus (test_ble_link.py); here the rules themselves: the intake, the firmware
string, and the after-(re)connect sequence against the firmware's own Pod service.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from bluez.fwpod import FirmwarePod
from stridecue.errors import LinkError
from stridecue.links import Channel, LinkState
from stridecue.links.podlink import PodLink
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent, StrideFlag
from stridecue.protocol.records import Pattern

STATUS = Status(80, 0, 3, 0, 0, 41, (0, 1, 0), 7)


def bad_battery(status: Status = STATUS, battery_pct: int = 150) -> bytes:
    """A well-formed Status record whose battery field is out of range (0..100, 255)."""
    raw = bytearray(bytes(status))
    raw[2] = battery_pct  # byte 2: battery_pct
    return bytes(raw)


def bad_cue() -> bytes:
    """A well-formed cue record whose intensity is out of range (0..100): refused."""
    raw = bytearray(bytes(Cue(Pattern.RHYTHM, 100)))
    raw[3] = 150  # byte 3: intensity
    return bytes(raw)


def stride(seq: int) -> bytes:
    return bytes(StrideEvent(seq, 1000 + 700 * seq, 700, 210, 2400))


class Cable:
    """The pod end of the wire: the firmware Pod's link interface, straight into the host."""

    def __init__(self, link: WireLink) -> None:
        self.link = link
        self.up = True  # False: what the pod sends is lost

    def _to_host(self, buf: bytes, n: int) -> None:
        if self.up:
            self.link._intake(bytes(buf[:n]), Channel.POD, time.time_ns())

    def stride(self, rec: bytes, n: int, rsc: bytes, rn: int) -> None:
        self._to_host(rec, n)

    def reply(self, conn: int, buf: bytes, n: int) -> None:
        self._to_host(buf, n)

    def record(self, conn: int, buf: bytes, n: int) -> bool:
        self._to_host(buf, n)
        return True

    def status(self, buf: bytes, n: int) -> None:
        pass  # as over serial: status goes out only in reply to GET_STATUS

    def hosts(self) -> int:
        return 1 if self.up else 0


class WireLink(PodLink):
    """A PodLink whose transport is a function call to a FirmwarePod (or to nothing)."""

    scheme = "wire"

    def __init__(self, pod: FirmwarePod | None = None, time_sync_rounds: int = 0) -> None:
        super().__init__("wire:pod", "pod", time_sync_rounds=time_sync_rounds)
        self.fwpod = pod
        self.cable = Cable(self)
        if pod is not None:
            pod.links.append(self.cable)

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTED)
        await self._after_connect(reconnected=False)

    async def write_cue(self, cue: Cue) -> None:
        if self.fwpod is not None:
            self.fwpod.cue(bytes(cue))

    async def _send_control(self, data: bytes) -> None:
        if self.fwpod is None:
            raise LinkError(f"{self.spec}: nothing on the wire")
        self.fwpod.control(data, self.cable)

    async def _reconnect(self) -> None:
        self.cable.up = True
        self._set_state(LinkState.CONNECTED)
        await self._after_connect(reconnected=True)

    async def close(self) -> None:
        self._begin_close()
        self._end()


async def drain(link: PodLink) -> list[object]:
    """Every record queued so far (the link is closed first, so records() ends)."""
    await link.close()
    return [item.record async for item in link.records()]


async def test_a_frame_that_does_not_decode_is_counted_logged_and_skipped_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = WireLink()
    await link.connect()
    bad = [
        (bad_cue(), Channel.POD),  # RecordOutOfRange: a field the record depends on
        (b"\x7e\x01\x00", Channel.POD),  # UnknownRecord: no such kind
        (bytes(STATUS)[:9], Channel.POD),  # TruncatedRecord
        (b"", Channel.POD),  # empty
        (b"\x02\x00", Channel.RSC),  # an RSC measurement cut short
    ]
    rsc = bytes(RscMeasurement(4.0, 176, 1.36, 10.0, True))
    with caplog.at_level(logging.WARNING, logger="stridecue.links.podlink"):
        link._intake(stride(5), Channel.POD, 1)
        for raw, channel in bad:
            link._intake(raw, channel, 2)
        link._intake(rsc, Channel.RSC, 3)
        link._intake(stride(6), Channel.POD, 4)
    got = await drain(link)
    want = [StrideEvent.from_bytes(stride(5)), RscMeasurement.from_bytes(rsc)]
    assert got == [*want, StrideEvent.from_bytes(stride(6))]
    assert link.bad_records == len(bad) and link.last_status is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(bad) and all("\n" not in w for w in warnings)
    assert "intensity" in warnings[0] and "POD frame dropped" in warnings[0]
    assert "RSC frame dropped" in warnings[-1]


async def test_repeated_strides_are_dropped_and_holes_remembered() -> None:
    link = WireLink()
    await link.connect()
    for seq in (10, 11, 11, 14, 12, 10):
        link._intake(stride(seq), Channel.POD, seq)
    got = await drain(link)
    assert [r.seq for r in got if isinstance(r, StrideEvent)] == [10, 11, 14, 12]
    assert link.tracker.duplicates == 2 and link.tracker.missing == {13}


async def test_firmware_is_the_device_information_string_else_the_last_status() -> None:
    plain = WireLink()  # serial: no Device Information service
    await plain.connect()
    plain._intake(bytes(STATUS), Channel.POD, 1)
    assert plain.info.firmware == "0.1.0"
    newer = Status(79, 0, 3, 0, 0, 42, (0, 2, 0), 8)
    plain._intake(bytes(newer), Channel.POD, 2)  # a pod updated across a reconnect
    assert plain.info.firmware == "0.2.0" and plain.last_status == newer

    dis = WireLink()  # BLE: the link read the firmware revision string
    dis._firmware_read("0.1.0-rc2+g1a2b")
    await dis.connect()
    dis._intake(bytes(STATUS), Channel.POD, 1)
    dis._intake(bytes(newer), Channel.POD, 2)
    assert dis.info.firmware == "0.1.0-rc2+g1a2b" and dis.last_status == newer
    assert [type(r) for r in await drain(dis)] == [Status, Status]  # both passed on


async def test_after_reconnect_time_sync_status_then_backfill(tmp_path: Path) -> None:
    pod = FirmwarePod(tmp_path / "store")
    link = WireLink(pod, time_sync_rounds=2)
    await link.connect()  # time sync and status at the first connect
    assert link.info.clock_offset_ms is not None and link.info.firmware == "0.1.0"
    assert link.last_status is not None and pod.pod.requests >= 3
    seqs = [pod.stride() for _ in range(3)]
    link.cable.up = False
    link._lost("the cable is out", reconnect=True)
    assert link.state is LinkState.RECONNECTING
    seqs += [pod.stride() for _ in range(4)]  # made while away
    assert link._reconnect_task is not None
    await link._reconnect_task
    assert link.state is LinkState.CONNECTED and link.reconnects == 1
    assert link.still_missing == 0 and not link.tracker.missing
    assert link.last_status is not None and link.last_status.last_seq == seqs[-1]
    got = [r for r in await drain(link) if isinstance(r, StrideEvent)]
    assert [r.seq for r in got] == seqs  # every number once, the last four backfilled
    assert [bool(r.flags & StrideFlag.BACKFILLED) for r in got] == [False] * 3 + [True] * 4


async def test_without_time_sync_the_first_connect_sends_nothing(tmp_path: Path) -> None:
    pod = FirmwarePod(tmp_path / "store")
    link = WireLink(pod, time_sync_rounds=0)
    await link.connect()
    assert pod.pod.requests == 0 and link.last_status is None
    assert link.info.clock_offset_ms is None
    await link.close()


async def test_no_answer_after_a_reconnect_is_reported_not_raised() -> None:
    link = WireLink()  # nothing behind the wire: control requests fail
    await link.connect()
    ok = await link._after_connect(reconnected=True)
    assert ok is False and link.reconnects == 0 and link.state is LinkState.CONNECTED
    await link.close()


async def test_a_status_from_a_newer_pod_is_kept_with_the_field_unknown() -> None:
    link = WireLink()
    await link.connect()
    link._intake(bad_battery(), Channel.POD, 1)  # battery 150 %: not a reading, not a reason
    (got,) = await drain(link)
    assert isinstance(got, Status) and got.battery_pct == 255  # unknown, like "no gauge"
    assert link.bad_records == 0 and link.last_status == got
