"""The bumble side of the real-stack test (tests/host/test_real_stack.py).

The pod: the app as main.build() wires it (tests/firmware/realpod.py) on a
MicroPython unix port built with Bluetooth and NimBLE, whose HCI runs as an H4
UART over a pty (``MICROPYBTUART``). On the other end of that pty: a bumble
virtual controller. The centrals: bumble ``Device`` host stacks in this process,
each on its own virtual controller on the same ``LocalLink``. No radio, no
kernel Bluetooth, no BlueZ.

Gaps in bumble's virtual controller (0.0.236) that the rig works around:
- A scanning controller reports the advertising data a second time as the scan
  response. ``CentralController`` reports the advertiser's real scan response.
  It scans with legacy PDUs only (extended advertising off), so the reports
  are the legacy ones a phone sees from the pod's legacy advertising.
- Centrals pair with their static random address as identity
  (``identity_address_type=RANDOM``): with a public identity address,
  re-encrypting from the stored bond has been seen to fail with
  PIN_OR_KEY_MISSING. (These controllers have no public address, so bumble
  would pick the same; this pins it.)

NimBLE's ``gatts_notify`` sends whether or not the central wrote the CCCD, so a
central records every notification and indication at the ATT layer
(``Central.values``), subscribed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bumble import hci, ll
from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.host import Host
from bumble.keys import MemoryKeyStore
from bumble.link import LocalLink
from bumble.pairing import PairingConfig, PairingDelegate
from bumble.transport.common import AsyncPipeSink, Transport
from bumble.transport.pty import open_pty_transport
from stridecue.protocol import ControlReply, ControlRequest

ROOT = Path(__file__).resolve().parents[2]
RIG = ROOT / "tests" / "firmware" / "realpod.py"

ADV_IND = hci.HCI_LE_Advertising_Report_Event.EventType.ADV_IND
SCAN_RSP = hci.HCI_LE_Advertising_Report_Event.EventType.SCAN_RSP


async def until(pred: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``pred`` until it returns something true; AssertionError naming ``what``."""
    end = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.02)


class CentralController(Controller):
    """A virtual controller that scans as a real one: legacy reports, real scan response."""

    def __init__(self, name: str, link: LocalLink) -> None:
        super().__init__(name, link=link)
        self.le_features &= ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING

    def _scan_response(self, address: hci.Address) -> bytes | None:
        for c in self.link.controllers:
            adv = c.le_legacy_advertiser
            if adv.enabled and adv.address == address:
                return adv.scan_response_data
        return None

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        if not isinstance(pdu, ll.AdvInd) or not self.le_scan_enable:
            super().on_advertising_pdu(pdu)
            return
        reports = [
            hci.HCI_LE_Advertising_Report_Event.Report(
                event_type=ADV_IND,
                address_type=pdu.advertiser_address.address_type,
                address=pdu.advertiser_address,
                data=pdu.data,
                rssi=-50,
            )
        ]
        rsp = self._scan_response(pdu.advertiser_address)
        if self.le_scan_type == 1 and rsp is not None:  # active scanning asks for it
            reports.append(
                hci.HCI_LE_Advertising_Report_Event.Report(
                    event_type=SCAN_RSP,
                    address_type=pdu.advertiser_address.address_type,
                    address=pdu.advertiser_address,
                    data=rsp,
                    rssi=-50,
                )
            )
        for r in reports:
            self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([r]))
        pending = self.pending_le_connection
        if pending is not None and pending.peer_address == pdu.advertiser_address:
            self.create_le_connection(pdu.advertiser_address)


def _die_with_parent() -> None:
    # in the child: a pod hung in a busy loop must not outlive a crashed test run
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _pairing_config(_connection: Connection) -> PairingConfig:
    # LE Secure Connections, Just Works (the pod has no display or keys), bonding
    return PairingConfig(
        sc=True,
        mitm=False,
        bonding=True,
        delegate=PairingDelegate(io_capability=PairingDelegate.NO_OUTPUT_NO_INPUT),
        identity_address_type=PairingConfig.AddressType.RANDOM,
    )


def _ignore(_value: bytes) -> None:
    pass  # values are taken as they arrive (Central._listen)


class Central:
    """One central (a phone, a coach's laptop): a bumble host stack on its own controller."""

    def __init__(self, link: LocalLink, address: str, name: str) -> None:
        self.controller = CentralController(name, link)
        self.device = Device(
            name=name,
            address=hci.Address(address),
            host=Host(self.controller, AsyncPipeSink(self.controller)),
        )
        self.device.pairing_config_factory = _pairing_config
        self.reports: list[tuple[int, hci.Address, bytes]] = []
        self.connection: Connection | None = None
        self.peer: Peer | None = None
        self.chars: list[CharacteristicProxy[bytes]] = []
        self.air: dict[int, list[bytes]] = {}  # handle -> every value notified or indicated
        self.paired = 0  # pairings completed on this central
        self._token = 0

    async def power_on(self) -> Central:
        await self.device.power_on()
        self.device.host.on("advertising_report", self._on_report)
        return self

    def _on_report(self, r: hci.HCI_LE_Advertising_Report_Event.Report) -> None:
        self.reports.append((r.event_type, r.address, bytes(r.data)))

    async def scan(self, until_pred: Callable[[], Any], timeout_s: float, what: str) -> Any:
        """Scan (active, legacy PDUs) until ``until_pred`` holds; -> its value."""
        self.reports.clear()
        await self.device.start_scanning(legacy=True, active=True)
        try:
            return await until(until_pred, timeout_s, what)
        finally:
            await self.device.stop_scanning(legacy=True)

    async def connect(self, address: hci.Address) -> None:
        self.connection = await self.device.connect(address, timeout=10.0)
        self.connection.on(self.connection.EVENT_PAIRING, self._on_pairing)
        self._listen(self.connection)
        self.peer = Peer(self.connection)
        await self.peer.discover_services()
        self.chars = []
        for s in self.peer.services:
            self.chars += await s.discover_characteristics()

    def _on_pairing(self, _keys: object) -> None:
        self.paired += 1

    def _listen(self, connection: Connection) -> None:
        # every notification and indication as it arrives, subscribed or not: the
        # port's gatts_notify sends whatever the CCCD says
        client = connection.gatt_client
        notified = client.on_att_handle_value_notification
        indicated = client.on_att_handle_value_indication

        def on_notification(pdu: Any) -> None:
            self.air.setdefault(pdu.attribute_handle, []).append(bytes(pdu.attribute_value))
            notified(pdu)

        def on_indication(pdu: Any) -> None:
            self.air.setdefault(pdu.attribute_handle, []).append(bytes(pdu.attribute_value))
            indicated(pdu)

        client.on_att_handle_value_notification = on_notification  # type: ignore[method-assign, assignment]
        client.on_att_handle_value_indication = on_indication  # type: ignore[method-assign, assignment]

    @property
    def connected(self) -> bool:
        return self.connection is not None and self.connection.handle in self.device.connections

    async def disconnect(self) -> None:
        if self.connection is not None and self.connected:
            await self.connection.disconnect()
        self.connection = None
        self.peer = None

    async def pair(self, timeout_s: float) -> None:
        assert self.connection is not None
        await asyncio.wait_for(self.connection.pair(), timeout_s)

    async def encrypt(self, timeout_s: float) -> None:
        assert self.connection is not None
        await asyncio.wait_for(self.connection.encrypt(), timeout_s)

    def forget_bonds(self) -> None:
        """The central loses its keys (a phone's "forget this device")."""
        self.device.keystore = MemoryKeyStore()

    def char(self, uuid: str) -> CharacteristicProxy[bytes]:
        u = UUID(uuid)
        for c in self.chars:
            if c.uuid == u:
                return c
        raise AssertionError(f"the pod has no characteristic {uuid}")

    async def read(self, uuid: str) -> bytes:
        assert self.peer is not None
        return bytes(await self.peer.read_value(self.char(uuid)))

    async def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        assert self.peer is not None
        await self.peer.write_value(self.char(uuid), data, with_response=response)

    def values(self, uuid: str) -> list[bytes]:
        """Every value notified or indicated on ``uuid`` so far, in a list that grows."""
        return self.air.setdefault(self.char(uuid).handle, [])

    async def subscribe(self, uuid: str, indicate: bool = False) -> list[bytes]:
        """Write the CCCD (notify, or indicate); -> ``values(uuid)``."""
        assert self.peer is not None
        await self.peer.subscribe(self.char(uuid), _ignore, prefer_notify=not indicate)
        return self.values(uuid)

    def token(self) -> int:
        self._token = (self._token + 1) & 0xFF
        return self._token

    async def control(self, uuid: str, req: ControlRequest, timeout_s: float = 3.0) -> ControlReply:
        """Write a request to the control characteristic and wait for its reply."""
        got = self.values(uuid)
        n = len(got)
        await self.write(uuid, bytes(req))

        def reply() -> ControlReply | None:
            for v in got[n:]:
                r = ControlReply.from_bytes(v)
                if r.token == req.token and r.opcode == req.opcode:
                    return r
            return None

        return await until(reply, timeout_s, f"reply to {req.opcode.name}")  # type: ignore[no-any-return]


class Pod:
    """The pod app on the NimBLE unix port; its virtual controller on ``self.link``."""

    def __init__(self, exe: str, workdir: Path) -> None:
        self.exe = exe
        self.workdir = workdir
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.name = ""
        self.motor: list[tuple[float, int]] = []  # (monotonic s, duty) at each change
        self.secrets: list[str] = []  # "TYPE KEYLEN set|del -> RESULT"
        self.serial_tail = b""
        self.proc: subprocess.Popen[bytes] | None = None
        self._hci: Transport | None = None
        self._fds: list[int] = []
        self._ctl = -1
        self._ser = -1
        self._buf = b""
        self._ready: asyncio.Future[str] | None = None
        self._state: asyncio.Future[dict[str, int]] | None = None
        self._err_path = workdir / "pod-stderr.txt"

    async def start(self, timeout_s: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        hci_path = self.workdir / "hci"
        self._hci = await open_pty_transport(str(hci_path))
        Controller("pod", host_source=self._hci.source, host_sink=self._hci.sink, link=self.link)
        self._ctl, ctl_slave = os.openpty()
        self._ser, ser_slave = os.openpty()
        self._fds += [self._ctl, ctl_slave, self._ser, ser_slave]
        for fd in (ctl_slave, ser_slave):
            tty.setraw(fd)
        self._ready = loop.create_future()
        loop.add_reader(self._ctl, self._on_ctl)
        loop.add_reader(self._ser, self._on_serial)
        env = {
            **os.environ,
            "MICROPYPATH": f"{ROOT / 'firmware'}:{ROOT / 'tests' / 'firmware'}:.frozen",
            "MICROPYBTUART": str(hci_path),
            "STRIDECUE_RIG_CTL": os.ttyname(ctl_slave),
        }
        with self._err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [self.exe, str(RIG)],
                cwd=self.workdir,
                stdin=ser_slave,
                stdout=ser_slave,
                stderr=err,
                env=env,
                close_fds=True,
                preexec_fn=_die_with_parent,
            )
        try:
            self.name = await asyncio.wait_for(asyncio.shield(self._ready), timeout_s)
        except TimeoutError:
            raise AssertionError(f"the pod app did not start: {self.diagnosis()}") from None

    def diagnosis(self) -> str:
        code = self.proc.poll() if self.proc else None
        return (
            f"exit code {code}; stderr: {self.stderr()[-2000:]!r}; "
            f"serial: {self.serial_tail[-500:]!r}"
        )

    def stderr(self) -> str:
        try:
            return self._err_path.read_text(errors="replace")
        except OSError:
            return ""

    def _on_serial(self) -> None:
        try:
            b = os.read(self._ser, 4096)
        except OSError:
            b = b""
        if not b:
            asyncio.get_running_loop().remove_reader(self._ser)
        self.serial_tail = (self.serial_tail + b)[-4096:]

    def _on_ctl(self) -> None:
        try:
            b = os.read(self._ctl, 4096)
        except OSError:
            b = b""
        if not b:
            asyncio.get_running_loop().remove_reader(self._ctl)
            return
        self._buf += b
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self._line(line.decode(errors="replace").strip())

    def _line(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(rest)
        elif word == "motor":
            self.motor.append((time.monotonic(), int(rest)))
        elif word == "secret":
            self.secrets.append(rest)
        elif word == "state" and self._state is not None and not self._state.done():
            self._state.set_result({k: int(v) for k, v in (p.split("=") for p in rest.split())})

    def _say(self, line: str) -> None:
        os.write(self._ctl, line.encode() + b"\n")

    def press(self, ms: int) -> None:
        """Hold the pod's button down for ``ms``."""
        self._say(f"press {ms}")

    def walk(self, on: bool) -> None:
        """The athlete walks about with the pod (or stands still) between sessions; in a
        host's session the foot always runs."""
        self._say(f"walk {int(on)}")

    def expire_pairing(self) -> None:
        """The pairing window's end is now: the app closes it on its next button tick."""
        self._say("expire")

    async def state(self, timeout_s: float = 3.0) -> dict[str, int]:
        """pairing, session, hosts, bonds: what the app holds right now."""
        self._state = asyncio.get_running_loop().create_future()
        self._say("state")
        try:
            return await asyncio.wait_for(self._state, timeout_s)
        except TimeoutError:
            raise AssertionError(f"the pod app does not answer: {self.diagnosis()}") from None

    def motor_ran_since(self, t: float) -> bool:
        return any(when >= t and duty > 0 for when, duty in self.motor)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in (self._ctl, self._ser):
            if fd >= 0:
                loop.remove_reader(fd)
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # hung in a busy loop: SIGTERM is not handled there
                self.proc.wait(3)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        if self._hci is not None:
            await self._hci.close()
            self._hci = None
