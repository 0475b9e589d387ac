"""ble: links with the real bleak BlueZ backend over a real dbus-daemon and a stand-in BlueZ."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from bluez.daemon import dbus_daemon
from bluez.fwpod import FirmwarePod
from bluez.pods import BlePodLink, RscFootPod, heart_rate_strap
from bluez.standin import StandInBluez
from stridecue.errors import LinkError
from stridecue.links import BleOptions, Channel, Link, LinkState, Received, open_link
from stridecue.links.ble import BleLink, NotAPod, PairFirst, pair, scan
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent, StrideFlag, uuids
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.session import Session

FAST = BleOptions(scan_timeout_s=3.0, backoff_s=0.05, max_backoff_s=0.2, time_sync_rounds=3)
POD1 = "AA:BB:CC:DD:EE:01"
POD2 = "AA:BB:CC:DD:EE:02"


@pytest.fixture
async def bluez(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StandInBluez]:
    tmp = Path(tempfile.mkdtemp(prefix="sc-dbus-"))  # short: unix socket paths are limited
    try:
        with dbus_daemon(tmp) as address:
            monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
            async with StandInBluez(address, workdir=tmp) as bz:
                yield bz
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add_pod(bz: StandInBluez, address: str, paired: bool = True) -> tuple[FirmwarePod, BlePodLink]:
    """A pod running the firmware's own service code, on the stand-in radio."""
    pod = FirmwarePod(bz.workdir / f"store-{address.replace(':', '')}")
    radio = BlePodLink(bz, address, pod)
    radio.device.paired = paired
    return pod, radio


async def until(cond: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout_s)


class Collector:
    """Consumes a link's records in the background (optionally into a recorder)."""

    def __init__(self, link: Link, rec: Recorder | None = None) -> None:
        self.items: list[Received] = []
        self.rec = rec
        self.task = asyncio.create_task(self._run(link))

    async def _run(self, link: Link) -> None:
        async for item in link.records():
            self.items.append(item)
            if self.rec is not None:
                self.rec.write(item)

    def seqs(self) -> list[int]:
        return [i.seq for i in self.items if i.seq is not None]

    async def done(self) -> None:
        await asyncio.wait_for(self.task, 5)


async def test_scan_lists_pods_and_ignores_other_devices(bluez: StandInBluez) -> None:
    add_pod(bluez, POD1, paired=False)
    add_pod(bluez, POD2, paired=False)
    RscFootPod(bluez, "C0:FF:EE:00:00:03")
    heart_rate_strap(bluez, "11:22:33:44:55:66")
    found = await scan(0.6)
    by_name = {f.name: f for f in found}
    assert set(by_name) == {"StrideCue-EE01", "StrideCue-EE02", "Stryd"}
    assert by_name["StrideCue-EE01"].address == POD1 and not by_name["StrideCue-EE01"].rsc_only
    assert by_name["StrideCue-EE01"].battery_pct == 87  # open Battery Level, no bond needed
    assert by_name["Stryd"].rsc_only and by_name["Stryd"].battery_pct == 64
    assert all(-75 <= f.rssi <= -55 for f in found)
    only_ours = await scan(0.4, rsc=False, battery=False)
    assert sorted(f.name for f in only_ours) == ["StrideCue-EE01", "StrideCue-EE02"]
    assert all(f.battery_pct is None for f in only_ours)


async def test_connect_receive_strides_and_send_a_cue(bluez: StandInBluez) -> None:
    pod, radio = add_pod(bluez, POD1)
    link = open_link("ble:StrideCue-EE01", FAST)
    assert isinstance(link, BleLink)
    await link.connect()
    assert link.state is LinkState.CONNECTED and link.pod == POD1
    assert link.info.firmware == "0.1.0" and not link.info.rsc_only
    assert link.info.clock_offset_ms is not None and link.info.clock_uncertainty_ms is not None
    got = Collector(link)
    for _ in range(5):
        pod.stride()
    await until(lambda: len(got.seqs()) == 5)
    strides = [i for i in got.items if isinstance(i.record, StrideEvent)]
    assert [i.raw for i in strides] == [pod.strides[s] for s in sorted(pod.strides)]
    assert all(i.channel is Channel.POD and i.pod == POD1 for i in strides)
    await link.write_cue(Cue(Pattern.RHYTHM, 90, 3))
    await until(lambda: len(pod.cues) == 1)
    assert pod.cues == [Cue(Pattern.RHYTHM, 90, 3)]
    await link.close()
    await got.done()
    assert link.state is LinkState.CLOSED and not radio.device.connected


async def test_dropout_reconnect_backfill_every_seq_exactly_once(
    bluez: StandInBluez, tmp_path: Path
) -> None:
    pod, radio = add_pod(bluez, POD1)
    link = open_link(f"ble:{POD1}", FAST)
    await link.connect()
    rec = Recorder(tmp_path / "session")
    rec.add_pod(link.info, link.spec, athlete="Ana")
    got = Collector(link, rec)
    for _ in range(10):
        pod.stride()
    await until(lambda: len(got.seqs()) == 10)
    radio.device.drop()  # out of range: the next 20 strides reach no host
    await until(lambda: link.state is LinkState.RECONNECTING)
    for _ in range(20):
        pod.stride()
    await asyncio.sleep(0.3)  # a few reconnect attempts fail meanwhile
    assert link.state is LinkState.RECONNECTING
    radio.device.back_in_range()
    await until(lambda: link.state is LinkState.CONNECTED)
    await until(lambda: len(got.seqs()) == 30)
    for _ in range(10):
        pod.stride()
    f = pod.first_seq
    radio.stride(pod.strides[f + 34], 18, b"\x00", 0)  # the radio repeats a notification
    await until(lambda: len(got.seqs()) == 40)
    await link.close()
    await got.done()
    rec.close()
    assert isinstance(link, BleLink) and link.reconnects == 1 and link.tracker.duplicates == 1
    stored = Session.open(tmp_path / "session").files[POD1].frames
    seqs = [StrideEvent.from_bytes(f.raw).seq for f in stored if f.raw[0] == 0x01]
    assert sorted(seqs) == list(range(f, f + 40))  # every number, exactly once
    backfilled = [
        StrideEvent.from_bytes(f.raw).seq
        for f in stored
        if f.raw[0] == 0x01 and StrideEvent.from_bytes(f.raw).flags & StrideFlag.BACKFILLED
    ]
    assert backfilled == list(range(f + 10, f + 30))
    assert radio.device.connects == 2


async def test_a_notification_that_does_not_decode_is_dropped_alone(bluez: StandInBluez) -> None:
    pod, radio = add_pod(bluez, POD1)
    link = open_link(f"ble:{POD1}", FAST)
    assert isinstance(link, BleLink)
    await link.connect()
    assert link.last_status is not None  # asked for at connect (time sync is on)
    got = Collector(link)
    pod.stride()
    bad = bytearray(bytes(Cue(Pattern.RHYTHM, 100)))
    bad[3] = 150  # intensity 150 %: out of range, the record is refused
    radio.device.notify(uuids.STATUS, bytes(bad))
    radio.device.notify(uuids.STRIDE_EVENTS, b"\x01\x01\x00")  # a stride cut short
    other = Status(50, 0, 3, 0, 0, 1, (9, 9, 9), 1)  # valid, names other firmware
    radio.device.notify(uuids.STATUS, bytes(other))
    pod.stride()
    await until(lambda: len(got.seqs()) == 2 and link.last_status == other)
    assert got.seqs() == sorted(pod.strides) and link.bad_records == 2
    assert link.info.firmware == "0.1.0"  # the Device Information string wins over the status
    assert link.state is LinkState.CONNECTED
    await link.close()
    await got.done()


async def test_a_bad_rsc_measurement_is_dropped_alone(bluez: StandInBluez) -> None:
    other = RscFootPod(bluez, "C0:FF:EE:00:00:03")
    link = open_link("ble:Stryd", FAST)
    assert isinstance(link, BleLink)
    await link.connect()
    got = Collector(link)
    first = other.stride()
    other.device.notify(uuids.RSC_MEASUREMENT, b"\x02\x00")  # stride length promised, missing
    last = other.stride()
    await until(lambda: len(got.items) == 2)
    assert [i.raw for i in got.items] == [first, last] and link.bad_records == 1
    await link.close()
    await got.done()


async def test_a_pod_the_os_forgot_is_found_again(bluez: StandInBluez) -> None:
    pod, radio = add_pod(bluez, POD1)
    link = open_link(f"ble:{POD1}", FAST)
    await link.connect()
    got = Collector(link)
    for _ in range(3):
        pod.stride()
    await until(lambda: len(got.seqs()) == 3)
    bluez.forget(radio.device)  # away long enough for BlueZ to remove the device
    for _ in range(4):
        pod.stride()
    await asyncio.sleep(0.3)
    bluez.rediscover(radio.device)
    await until(lambda: len(got.seqs()) == 7)
    assert sorted(got.seqs()) == sorted(pod.strides)
    await link.close()
    await got.done()


async def test_two_pods_at_once(bluez: StandInBluez) -> None:
    pod1, _ = add_pod(bluez, POD1)
    pod2, _ = add_pod(bluez, POD2)
    links = [open_link(f"ble:{a}", FAST) for a in (POD1, POD2)]
    await asyncio.gather(*(link.connect() for link in links))  # connects are serialized
    got = [Collector(link) for link in links]
    for _ in range(8):
        pod1.stride()
        pod2.stride(stride_ms=650)
    await until(lambda: len(got[0].seqs()) == 8 and len(got[1].seqs()) == 8)
    assert {i.pod for i in got[0].items} == {POD1} and {i.pod for i in got[1].items} == {POD2}
    strides2 = [i.record for i in got[1].items if isinstance(i.record, StrideEvent)]
    assert {s.stride_time_ms for s in strides2} == {650}
    await links[1].write_cue(Cue(Pattern.STRIDE))
    await until(lambda: len(pod2.cues) == 1)
    assert pod1.cues == []
    for link in links:
        await link.close()
    for g in got:
        await g.done()


async def test_unbonded_pod_says_pair_first_and_pairing_needs_pairing_mode(
    bluez: StandInBluez,
) -> None:
    pod, radio = add_pod(bluez, POD1, paired=False)
    link = open_link("ble:StrideCue-EE01", FAST)
    with pytest.raises(PairFirst, match=r"stridecue pair ble:StrideCue-EE01"):
        await link.connect()
    assert link.state is LinkState.CLOSED and not radio.device.connected
    with pytest.raises(LinkError, match="pairing mode"):
        await pair("StrideCue-EE01", timeout_s=3.0)
    radio.device.peripheral.pairing_mode = True
    assert await pair("StrideCue-EE01", timeout_s=3.0) == POD1
    assert radio.device.paired
    link = open_link("ble:StrideCue-EE01", FAST)
    await link.connect()
    await link.write_cue(Cue(Pattern.IDENTIFY))
    await until(lambda: len(pod.cues) == 1)
    radio.device.paired = False  # the pod was reset and forgot its bonds
    with pytest.raises(PairFirst, match=r"control request refused; .* `stridecue pair"):
        await link.time_sync(1)
    await link.write_cue(Cue(Pattern.IDENTIFY))  # a write command gets no answer...
    await asyncio.sleep(0.1)
    assert len(pod.cues) == 1  # ...and the pod ignores it
    await link.close()


async def test_rsc_only_foot_pod_is_recorded_flagged_and_cannot_be_cued(
    bluez: StandInBluez,
) -> None:
    other = RscFootPod(bluez, "C0:FF:EE:00:00:03")
    link = open_link("ble:Stryd", FAST)
    await link.connect()
    assert link.info.rsc_only
    got = Collector(link)
    sent = [other.stride(cadence_spm=170 + i) for i in range(3)]
    await until(lambda: len(got.items) == 3)
    assert [i.raw for i in got.items] == sent
    assert all(i.channel is Channel.RSC for i in got.items)
    first = got.items[0].record
    assert isinstance(first, RscMeasurement) and first.cadence_spm == 170
    assert first.stride_length_m == pytest.approx(1.36)
    assert got.items[0].seq is None  # RSC carries no sequence numbers
    with pytest.raises(LinkError, match="cannot be cued"):
        await link.write_cue(Cue(Pattern.RHYTHM))
    await link.close()
    await got.done()


async def test_a_device_that_is_not_a_pod_is_refused(bluez: StandInBluez) -> None:
    heart_rate_strap(bluez, "11:22:33:44:55:66")
    link = open_link("ble:HRM-Pro", FAST)
    with pytest.raises(NotAPod, match="not a foot pod"):
        await link.connect()
    with pytest.raises(LinkError, match="stridecue scan"):
        await open_link("ble:StrideCue-0000", BleOptions(scan_timeout_s=0.3)).connect()
