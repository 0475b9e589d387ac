"""The pod app on a real BLE host stack: NimBLE, as the ESP32-S3 pod runs it.

The whole app as main.build() wires it (tests/firmware/realpod.py: fakes only
for the IMU, fed a running motion, the motor and the button) runs on a
MicroPython unix port built with Bluetooth and NimBLE. Its HCI goes over a pty
to a bumble virtual controller; bumble centrals on a shared virtual link
(tests/host/blerig.py) scan, connect, pair and drive it as docs/protocol.md
says a host does. Nothing of the radio below HCI is real: no timing, no
controller buffers, no interference.

The binary is not part of the repository: build one as docs/firmware.md
("Real-stack test") says and name it in ``STRIDECUE_MICROPYTHON_BLE``.

One pod serves the whole module, in order: later steps use the bond an earlier
one made, as a coach's laptop would. The re-pair step runs last: before the bond
store answered NimBLE's delete loop with "not found", it hung the pod for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
from collections.abc import AsyncIterator

import pytest

pytest.importorskip("bumble", reason="bumble is not installed (pip install bumble)")

import pytest_asyncio
from blerig import ADV_IND, SCAN_RSP, Central, Pod, until
from bumble import hci
from bumble.att import ATT_Error
from stridecue.protocol import (
    ControlRequest,
    Cue,
    Status,
    StrideEvent,
)
from stridecue.protocol import uuids as U
from stridecue.protocol.records import Opcode, Pattern, Result, StrideFlag

EXE = os.environ.get("STRIDECUE_MICROPYTHON_BLE", "")
if not EXE:
    pytest.skip(
        "STRIDECUE_MICROPYTHON_BLE is not set: name a MicroPython unix port built with "
        "Bluetooth (NimBLE); docs/firmware.md, 'Real-stack test', says how to build one",
        allow_module_level=True,
    )
if not os.access(EXE, os.X_OK):
    pytest.skip(f"STRIDECUE_MICROPYTHON_BLE={EXE}: no such executable", allow_module_level=True)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

GAP_DEVICE_NAME = "00002a00-0000-1000-8000-00805f9b34fb"
HARDWARE_REVISION = "00002a27-0000-1000-8000-00805f9b34fb"
REFUSED = (0x05, 0x0F)  # Insufficient Authentication (NimBLE, no keys yet) / Encryption


# ---- fixtures: one pod and its centrals for the module ----


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pod(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pod]:
    p = Pod(EXE, tmp_path_factory.mktemp("realpod"))
    await p.start()
    yield p
    await p.close()
    tail = p.stderr() + p.serial_tail.decode(errors="replace")
    assert "Traceback" not in tail, tail


async def _hung(p: Pod) -> bool:
    try:
        await p.state(1.0)
        return False
    except AssertionError:
        return True


async def _central(pod: Pod, n: int, name: str) -> Central:
    return await Central(pod.link, f"C0:00:00:00:00:0{n}", name).power_on()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def phone(pod: Pod) -> Central:
    """The athlete's bonded host."""
    return await _central(pod, 1, "phone")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stranger(pod: Pod) -> Central:
    """Someone at the track: connects, never pairs."""
    return await _central(pod, 2, "stranger")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def late(pod: Pod) -> Central:
    """Pairs after the pairing window has closed."""
    return await _central(pod, 3, "late")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def advert(pod: Pod, phone: Central) -> tuple[hci.Address, bytes, bytes]:
    """The pod's address, advertising data and scan response, as a scan finds them."""

    def found() -> tuple[hci.Address, bytes, bytes] | None:
        adv = {a: d for t, a, d in phone.reports if t == ADV_IND}
        for t, a, d in phone.reports:
            if t == SCAN_RSP and a in adv:
                return a, adv[a], d
        return None

    got: tuple[hci.Address, bytes, bytes] = await phone.scan(found, 5.0, "advert + scan response")
    return got


# ---- helpers ----


def ad_fields(data: bytes) -> dict[int, list[bytes]]:
    """Advertising data -> {AD type: [values]}; AssertionError on a malformed structure."""
    out: dict[int, list[bytes]] = {}
    i = 0
    while i < len(data):
        n = data[i]
        assert n and i + 1 + n <= len(data), f"malformed AD structure at {i}: {data.hex()}"
        out.setdefault(data[i + 1], []).append(data[i + 2 : i + 1 + n])
        i += 1 + n
    return out


def uuid128_le(uuid: str) -> bytes:
    return bytes.fromhex(uuid.replace("-", ""))[::-1]


def strides(values: list[bytes]) -> list[StrideEvent]:
    return [StrideEvent.from_bytes(v) for v in values]


async def att_error(coro: object) -> int:
    """The ATT error code a request ends with; AssertionError if it succeeds."""
    try:
        await coro  # type: ignore[misc]
    except ATT_Error as e:
        return int(e.error_code)
    raise AssertionError("the pod accepted it")


async def try_subscribe(c: Central, *uuids: str) -> None:
    """Write the CCCDs; the pod may refuse (any ATT error): what counts is what arrives."""
    for uuid in uuids:
        with contextlib.suppress(ATT_Error):
            await c.subscribe(uuid)


async def bonded_link(c: Central, address: hci.Address) -> None:
    """Connect and re-encrypt from the stored bond (no pairing), subscribe to control."""
    if not c.connected:
        await c.connect(address)
    paired = c.paired
    await c.encrypt(5.0)
    assert c.paired == paired, "the central paired again instead of using its bond"
    await c.subscribe(U.CONTROL, indicate=True)


async def start(c: Central) -> tuple[int, int]:
    """START a session; -> (session id, next seq)."""
    r = await c.control(U.CONTROL, ControlRequest.start(c.token(), int(time.time())))
    assert r.result == Result.OK, r
    sid, next_seq = struct.unpack("<HI", r.payload)
    return sid, next_seq


async def stop(c: Central) -> int:
    """STOP the session; -> strides in it."""
    r = await c.control(U.CONTROL, ControlRequest(Opcode.STOP, c.token()))
    assert r.result == Result.OK, r
    return int(struct.unpack("<HI", r.payload)[1])


async def cue_reaches_motor(c: Central, pod: Pod) -> bool:
    t = time.monotonic()
    await c.write(U.CUE, bytes(Cue(Pattern.STRIDE, 100, 1)), response=False)
    try:
        await until(lambda: pod.motor_ran_since(t), 2.0, "the motor")
        return True
    except AssertionError:
        return False


# ---- the steps ----


async def test_advertises_the_service_uuids_and_its_name_in_the_scan_response(
    pod: Pod, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    address, adv, rsp = advert
    assert len(adv) <= 31 and len(rsp) <= 31
    f = ad_fields(adv)
    assert f[0x01] == [b"\x06"]  # LE general discoverable, no BR/EDR
    assert uuid128_le(U.STRIDECUE_SERVICE) in f.get(0x07, []) + f.get(0x06, [])
    assert b"\x14\x18" in b"".join(f.get(0x03, []) + f.get(0x02, []))  # RSC 0x1814
    assert 0x09 not in f and 0x08 not in f  # the name is in the scan response
    name = pod.name
    b = address.address_bytes  # little-endian: the last two bytes as shown come first
    assert name == f"StrideCue-{b[1]:02X}{b[0]:02X}"
    assert ad_fields(rsp)[0x09] == [name.encode()]


async def test_discovery_and_the_open_characteristics(
    pod: Pod, stranger: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    await stranger.connect(advert[0])
    want = {
        U.RSC_MEASUREMENT: 0x10,
        U.RSC_FEATURE: 0x02,
        U.SENSOR_LOCATION: 0x02,
        U.SC_CONTROL_POINT: 0x08 | 0x20,
        U.MANUFACTURER_NAME: 0x02,
        U.MODEL_NUMBER: 0x02,
        U.FIRMWARE_REVISION: 0x02,
        HARDWARE_REVISION: 0x02,
        U.BATTERY_LEVEL: 0x02 | 0x10,
        U.STRIDE_EVENTS: 0x10,
        U.CUE: 0x04,
        U.CONTROL: 0x08 | 0x20,
        U.STATUS: 0x02 | 0x10,
    }
    for uuid, props in want.items():
        assert int(stranger.char(uuid).properties) == props, uuid
    assert (await stranger.read(GAP_DEVICE_NAME)).decode() == pod.name
    assert await stranger.read(U.RSC_FEATURE) == b"\x07\x00"
    assert await stranger.read(U.SENSOR_LOCATION) == b"\x01"
    assert await stranger.read(U.MANUFACTURER_NAME) == b"StrideCue"
    assert await stranger.read(U.MODEL_NUMBER) == b"SC-1"
    assert await stranger.read(U.FIRMWARE_REVISION) == b"0.1.0"
    assert await stranger.read(HARDWARE_REVISION) == b"XIAO ESP32S3"  # the board title
    (battery,) = await stranger.read(U.BATTERY_LEVEL)
    assert 0 <= battery <= 100


async def test_a_stranger_is_refused_on_the_stridecue_characteristics(
    pod: Pod, stranger: Central
) -> None:
    start_req = bytes(ControlRequest.start(1, int(time.time())))
    assert await att_error(stranger.write(U.CONTROL, start_req)) in REFUSED
    assert await att_error(stranger.read(U.STATUS)) in REFUSED
    t = time.monotonic()
    await stranger.write(U.CUE, bytes(Cue(Pattern.STRIDE, 100, 1)), response=False)
    await asyncio.sleep(0.5)
    assert not pod.motor_ran_since(t), "a stranger's cue reached the motor"
    st = await pod.state()
    assert st["bonds"] == 0 and st["session"] == 0
    # it listens to everything it may: RSC, and the StrideCue notifications
    await stranger.subscribe(U.RSC_MEASUREMENT)
    await try_subscribe(stranger, U.STRIDE_EVENTS, U.STATUS)


async def test_pairing_inside_the_button_window(
    pod: Pod, phone: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    await phone.connect(advert[0])
    t = time.monotonic()
    pod.press(2200)  # a long press (2 s) opens the window; the motor says so
    await until(lambda: pod.motor_ran_since(t), 5.0, "the pairing buzz")
    assert time.monotonic() - t >= 1.9
    assert (await pod.state())["pairing"] == 1
    await phone.pair(5.0)
    await until(lambda: sum("set -> True" in s for s in pod.secrets) >= 2, 2.0, "bond stored")
    assert (await pod.state())["bonds"] == 2  # NimBLE keeps two records per bond
    st = Status.from_bytes(await phone.read(U.STATUS))  # encrypted now: readable
    assert st.state & 0b110 == 0b110, st  # pairing mode, host connected
    assert st.firmware == (0, 1, 0)


async def test_bonded_session_strides_rsc_cue_sc_control_point(
    pod: Pod, phone: Central, stranger: Central
) -> None:
    await phone.subscribe(U.CONTROL, indicate=True)
    got = await phone.subscribe(U.STRIDE_EVENTS)
    rsc = await phone.subscribe(U.RSC_MEASUREMENT)
    status = await phone.subscribe(U.STATUS)
    scp = await phone.subscribe(U.SC_CONTROL_POINT, indicate=True)
    seen_by_stranger = {u: len(stranger.values(u)) for u in (U.STRIDE_EVENTS, U.STATUS)}
    rsc_stranger = len(stranger.values(U.RSC_MEASUREMENT))

    _, next_seq = await start(phone)
    await until(lambda: len(got) >= 3, 10.0, "three strides")
    s = strides(got)
    assert [x.seq for x in s] == list(range(next_seq, next_seq + len(s)))
    assert all(not x.flags & StrideFlag.BACKFILLED for x in s)
    assert all(300 <= x.stride_time_ms <= 1500 for x in s[1:]), s
    await until(lambda: len(rsc) >= 3, 3.0, "RSC measurements")
    assert all(len(v) == 10 and v[0] & 0x03 == 0x03 for v in rsc)  # length + distance
    assert any(Status.from_bytes(v).state & 1 for v in status), "no status with the session"

    # a cue reaches the motor; the next stride says it may carry the vibration
    n = len(got)
    assert await cue_reaches_motor(phone, pod)
    await until(lambda: len(got) >= n + 2, 5.0, "strides after the cue")
    assert any(x.flags & StrideFlag.CUED for x in strides(got[n:]))

    # SC Control Point (RSC spec): set total distance works; with the multiple-locations
    # feature bit clear, the location ops (3, 4) and calibration (2) are "op code not
    # supported", as is an unknown op
    for req, resp in (
        (b"\x01" + struct.pack("<I", 1000), b"\x10\x01\x01"),
        (b"\x04", b"\x10\x04\x02"),
        (b"\x03\x02", b"\x10\x03\x02"),
        (b"\x09", b"\x10\x09\x02"),
    ):
        k = len(scp)
        await phone.write(U.SC_CONTROL_POINT, req)
        await until(lambda k=k: len(scp) > k, 2.0, f"SC Control Point reply to {req.hex()}")
        assert scp[k] == resp

    count = await stop(phone)
    assert count >= len(got)
    await asyncio.sleep(0.3)
    assert (await pod.state())["session"] == 0

    # the stranger, connected all along, heard RSC and nothing of StrideCue
    assert len(stranger.values(U.RSC_MEASUREMENT)) > rsc_stranger
    for uuid, n0 in seen_by_stranger.items():
        assert stranger.values(uuid)[n0:] == [], f"a stranger got {uuid}"


async def test_reconnect_with_the_bond_and_backfill_the_strides_made_while_away(
    pod: Pod, phone: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    got = await phone.subscribe(U.STRIDE_EVENTS)
    n = len(got)
    await start(phone)
    await until(lambda: len(got) > n, 5.0, "a stride")
    last = strides(got)[-1].seq
    secrets = len(pod.secrets)
    await phone.disconnect()
    await asyncio.sleep(2.5)  # about three strides while away

    await bonded_link(phone, advert[0])
    assert len(pod.secrets) == secrets, "the pod stored keys again"
    got = await phone.subscribe(U.STRIDE_EVENTS)
    n = len(got)
    r = await phone.control(U.CONTROL, ControlRequest.backfill(phone.token(), last + 1, 100))
    assert r.result == Result.OK, r
    first, count = struct.unpack("<IH", r.payload)
    assert first == last + 1 and count >= 2, (first, count)

    def backfilled() -> list[StrideEvent]:
        return [x for x in strides(got[n:]) if x.flags & StrideFlag.BACKFILLED]

    await until(lambda: len(backfilled()) >= count, 5.0, f"{count} backfilled strides")
    assert [x.seq for x in backfilled()] == list(range(first, first + count))
    await stop(phone)


async def test_reconnect_after_the_pairing_window_has_closed(
    pod: Pod, phone: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    pod.expire_pairing()  # as 60 s after the press: closed by the app's own button tick
    for _ in range(100):  # the tick is 50 ms; a busy machine may take a while
        st = await pod.state()
        if not st["pairing"] and st["bonds"] == 2:
            break
        await asyncio.sleep(0.05)
    # (the pod's own output with it: this step has failed now and then, cause not found)
    assert st["pairing"] == 0 and st["bonds"] == 2, (st, pod.diagnosis())
    await phone.disconnect()
    await bonded_link(phone, advert[0])
    status = Status.from_bytes(await phone.read(U.STATUS))
    assert status.state & 0b10 == 0, status  # the window is closed
    got = await phone.subscribe(U.STRIDE_EVENTS)
    n = len(got)
    await start(phone)
    await until(lambda: len(got) > n, 5.0, "a stride")
    assert await cue_reaches_motor(phone, pod)
    await stop(phone)
    await phone.disconnect()


async def test_pairing_after_the_window_bonds_nothing_and_permits_nothing(
    pod: Pod, late: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    await late.connect(advert[0])
    secrets = len(pod.secrets)
    await late.pair(5.0)  # encrypted, Just Works; the pod keeps no keys
    await asyncio.sleep(0.3)
    assert len(pod.secrets) == secrets and (await pod.state())["bonds"] == 2
    await late.subscribe(U.CONTROL, indicate=True)
    r = await late.control(U.CONTROL, ControlRequest.start(late.token(), int(time.time())))
    assert r.result == Result.NOT_PERMITTED, r
    assert not await cue_reaches_motor(late, pod)
    assert (await pod.state())["session"] == 0


async def test_an_encrypted_but_unbonded_central_gets_no_stridecue_data(
    pod: Pod, phone: Central, late: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    seen = {u: len(late.values(u)) for u in (U.STRIDE_EVENTS, U.STATUS)}
    await try_subscribe(late, *seen)
    await bonded_link(phone, advert[0])
    got = await phone.subscribe(U.STRIDE_EVENTS)
    n = len(got)
    await start(phone)
    try:
        await until(lambda: len(got) >= n + 2, 6.0, "strides for the bonded phone")
        for uuid, n0 in seen.items():
            assert late.values(uuid)[n0:] == [], f"an unbonded central got {uuid}"
        await att_error(late.read(U.STATUS))  # refused, whatever the code
    finally:
        await stop(phone)
        for c in (phone, late):
            await c.disconnect()


async def test_an_unbonded_watch_gets_rsc_without_start(
    pod: Pod, stranger: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    await stranger.disconnect()
    watch = await _central(pod, 4, "watch")
    await watch.connect(advert[0])
    pod.walk(True)  # worn and moving: the pod starts measuring on its own
    try:
        rsc = await watch.subscribe(U.RSC_MEASUREMENT)
        await until(lambda: len(rsc) >= 2, 10.0, "RSC measurements without START")
        assert all(len(v) == 10 for v in rsc)
    finally:
        pod.walk(False)
        await watch.disconnect()


async def test_an_already_bonded_central_pairs_again(
    pod: Pod, phone: Central, advert: tuple[hci.Address, bytes, bytes]
) -> None:
    # the phone forgot the pod ("forget this device") and pairs again in a new window
    t = time.monotonic()
    pod.press(2200)
    await until(lambda: pod.motor_ran_since(t), 5.0, "the pairing buzz")
    assert (await pod.state())["pairing"] == 1
    phone.forget_bonds()
    await phone.connect(advert[0])
    k = len(pod.secrets)
    try:
        await phone.pair(5.0)
    except TimeoutError:
        dels = [s for s in pod.secrets[k:] if "del" in s]
        more = "+" if len(dels) >= 64 else ""  # the rig tells the first 64 in a row
        state = "hangs" if await _hung(pod) else "still runs"
        raise AssertionError(
            f"re-pairing never completed; the pod answered {len(dels)}{more} bond deletes "
            f"({dels[:3]} ...) and {state}"
        ) from None
    st = await pod.state()
    assert st["bonds"] == 2, st  # the old bond replaced by the new one
    await phone.subscribe(U.CONTROL, indicate=True)
    # the bonded phone controls the pod again: START (BUSY: the pod's own session from
    # the walk before still runs, and becomes the phone's), then STOP
    r = await phone.control(U.CONTROL, ControlRequest.start(phone.token(), int(time.time())))
    assert r.result in (Result.OK, Result.BUSY), r
    await stop(phone)
    await phone.disconnect()
