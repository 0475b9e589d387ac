"""``ble:NAME-or-ADDRESS``: a pod over Bluetooth Low Energy, through bleak.

Only bleak's public API is used, so its own backends carry this to BlueZ (Linux),
CoreBluetooth (macOS) and WinRT (Windows) with no platform code here. This module
is the transport; what the notified bytes mean (decoding, sequence numbers, status,
time sync, backfill) is :class:`~stridecue.links.podlink.PodLink`'s, shared with
``serial:``. Settings: :class:`~stridecue.links.options.BleOptions`.

- Connects are serialized (one at a time per process: BlueZ and most adapters
  handle parallel connects badly) and retried with exponential backoff by a
  small loop of our own (see :func:`connect_with_retry`).
- A pod that drops out is reconnected until the link is closed; after each
  reconnect the host re-syncs the clock and asks for the strides it missed
  (BACKFILL), so the stream it yields has every sequence number exactly once.
- A pod that speaks only the standard Running Speed and Cadence service (other
  brands' foot pods) is recorded from RSC Measurement, flagged RSC-only; it
  cannot be cued.
- A write refused for lack of encryption says to run ``stridecue pair`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from stridecue.errors import LinkError
from stridecue.links.base import Channel, LinkState
from stridecue.links.options import BleOptions
from stridecue.links.podlink import PodLink
from stridecue.protocol import Cue, uuids

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
# ATT errors meaning "encrypt / bond first": insufficient authentication,
# authorization, encryption key size, encryption (Core spec Vol 3 Part F 3.4.1.1)
_SECURITY_CODES = {0x05, 0x08, 0x0C, 0x0F}
_SECURITY_DBUS = {
    "org.bluez.Error.NotPermitted",
    "org.bluez.Error.NotAuthorized",
    "org.bluez.Error.AuthenticationFailed",
}
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

T = TypeVar("T")


class PairFirst(LinkError):
    """The pod refused an encrypted operation: the host is not bonded with it."""


class NotAPod(LinkError):
    """The device has neither the StrideCue nor the RSC service."""


def connect_lock() -> asyncio.Lock:
    """The process-wide connect lock of the running event loop."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        for old in [k for k in _locks if k.is_closed()]:
            del _locks[old]
        lock = _locks[loop] = asyncio.Lock()
    return lock


def is_security_refusal(e: BaseException) -> bool:
    if isinstance(e, BleakGATTProtocolError):
        return int(e.code) in _SECURITY_CODES
    if isinstance(e, BleakDBusError):
        detail = (e.dbus_error_details or "").lower()
        return e.dbus_error in _SECURITY_DBUS and (
            "pair" in detail or "auth" in detail or "encrypt" in detail
        )
    return False


def _forgotten(e: BleakError) -> bool:
    """The OS no longer knows the device (BlueZ removed it; another backend lost it)."""
    return isinstance(e, BleakDeviceNotFoundError) or (
        isinstance(e, BleakError) and str(e).startswith("device '") and "not found" in str(e)
    )


def pair_hint(target: str) -> str:
    return (
        f"the pod refused: this computer is not bonded with it. Hold the pod's button "
        f"until it buzzes (pairing mode, 60 s) and run `stridecue pair ble:{target}`, "
        "then connect again"
    )


async def connect_with_retry(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int | None,
    backoff_s: float,
    max_backoff_s: float,
    closing: Callable[[], bool] = lambda: False,
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Run ``attempt`` under the connect lock until it succeeds.

    Our own small loop rather than bleak-retry-connector: that package is built
    around Home Assistant's BlueZ adapter management (cache clearing, adapter
    failover), Linux-only; we need one lock, a doubling delay and a clear error.
    ``attempts=None`` retries until ``closing()`` is true. ``prepare`` runs before
    each attempt, outside the lock (e.g. a scan that may take seconds).
    """
    delay = backoff_s
    n = 0
    while True:
        n += 1
        try:
            if prepare is not None:
                await prepare()
            async with connect_lock():
                return await attempt()
        except (PairFirst, NotAPod, NoBluetooth):
            raise
        except (BleakError, TimeoutError, OSError, LinkError) as e:
            if closing():
                raise LinkError(f"{what}: closed while connecting") from None
            if attempts is not None and n >= attempts:
                raise LinkError(
                    f"{what}: could not connect after {n} attempts ({e or type(e).__name__}); "
                    "check the pod is on, charged and within a few metres"
                ) from None
            log.info("%s: connect attempt %d failed (%s); retry in %.2f s", what, n, e, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_backoff_s)


class NoBluetooth(LinkError):
    """This computer's Bluetooth cannot be used (no BlueZ, no adapter, adapter off or busy)."""


_TRY_INSTEAD = "no pods at hand? `stridecue demo`, or sim: links, run without a radio"
_DBUS_HINTS = {
    "org.freedesktop.DBus.Error.ServiceUnknown": "the Bluetooth service (BlueZ) is not "
    "running: start it (Linux: `sudo systemctl start bluetooth`)",
    "org.bluez.Error.NotReady": "the Bluetooth adapter is off: turn Bluetooth on",
    "org.bluez.Error.InProgress": "the Bluetooth adapter is busy (another program is "
    "scanning or connecting): close it or wait a moment, then try again",
}


def no_bluetooth(e: BaseException) -> NoBluetooth | None:
    """The one-line error for ``e`` when it means Bluetooth itself cannot be used."""
    why = None
    if isinstance(e, BleakDBusError):
        why = _DBUS_HINTS.get(e.dbus_error)
    elif isinstance(e, BleakBluetoothNotAvailableError):
        why = f"Bluetooth is not available here ({e}): turn it on, or plug in an adapter"
    elif isinstance(e, BleakError) and "adapter" in str(e).lower():
        why = f"{e}: this computer has no usable Bluetooth adapter"
    elif isinstance(e, FileNotFoundError | ConnectionRefusedError):
        why = (
            "no Bluetooth on this computer: the system D-Bus or BlueZ is not there "
            "(Linux: install and start bluez)"
        )
    return NoBluetooth(f"{why}; {_TRY_INSTEAD}") if why else None


@contextlib.asynccontextmanager
async def bluetooth() -> AsyncIterator[None]:
    """Translate "this computer cannot do Bluetooth" into :class:`NoBluetooth`."""
    try:
        yield
    except (BleakError, OSError) as e:
        translated = no_bluetooth(e)
        if translated is None:
            raise
        raise translated from None


async def find_device(target: str, timeout_s: float) -> BLEDevice:
    """The device named ``target`` (advertised name or address), or LinkError."""
    async with bluetooth():
        if _ADDRESS.match(target):
            device = await BleakScanner.find_device_by_address(target, timeout=timeout_s)
        else:
            device = await BleakScanner.find_device_by_filter(
                lambda d, ad: target in (d.name, ad.local_name), timeout=timeout_s
            )
    if device is None:
        raise LinkError(
            f"no pod {target!r} found within {timeout_s:g} s: check it is on and in range; "
            "`stridecue scan` lists the pods nearby"
        )
    return device


class BleLink(PodLink):
    """The BLE transport: bleak connects, notifications go to the shared intake."""

    scheme = "ble"

    def __init__(self, spec: str, target: str, options: BleOptions | None = None) -> None:
        self.options = options or BleOptions()
        super().__init__(spec, target, time_sync_rounds=self.options.time_sync_rounds)
        self._device: BLEDevice | None = None
        self._client: BleakClient | None = None

    # --- connecting ---
    async def connect(self) -> None:
        opts = self.options
        self._set_state(LinkState.CONNECTING)
        try:
            self._device = await find_device(self.target, opts.scan_timeout_s)
            self.info.pod = self._device.address
            self.info.address = self._device.address
            self.info.name = self._device.name or self.target
            await connect_with_retry(
                self.spec,
                self._connect_once,
                attempts=opts.attempts,
                backoff_s=opts.backoff_s,
                max_backoff_s=opts.max_backoff_s,
                closing=lambda: self._closing,
            )
        except BaseException:
            self._set_state(LinkState.CLOSED)
            raise
        await self._after_connect(reconnected=False)

    async def _ensure_device(self) -> None:
        if self._device is None:
            self._device = await find_device(
                self.info.address or self.target, self.options.scan_timeout_s
            )

    async def _connect_once(self) -> None:
        if self._device is None:
            raise LinkError(f"{self.spec}: pod not found yet")
        client = BleakClient(
            self._device,
            disconnected_callback=self._on_disconnected,
            timeout=self.options.connect_timeout_s,
        )
        try:
            await client.connect()
        except BleakError as e:
            if not _forgotten(e):
                raise
            # the OS forgot the device (out of range too long): scan for it again, outside
            # the connect lock so other pods can reconnect meanwhile (see _ensure_device)
            self._device = None
            raise LinkError(f"{self.spec}: the pod has to be found again ({e})") from None
        try:
            await self._subscribe(client)
        except BaseException as e:
            await client.disconnect()
            if is_security_refusal(e):
                raise PairFirst(f"{self.spec}: {pair_hint(self.target)}") from None
            raise
        self._client = client
        self._set_state(LinkState.CONNECTED)

    async def _subscribe(self, client: BleakClient) -> None:
        services = client.services
        if services.get_characteristic(uuids.FIRMWARE_REVISION) is not None:
            fw = await client.read_gatt_char(uuids.FIRMWARE_REVISION)
            self._firmware_read(bytes(fw).decode("utf-8", "replace"))
        if services.get_service(uuids.STRIDECUE_SERVICE) is not None:
            self.info.rsc_only = False
            on_pod = self._notified(Channel.POD)
            for char in (uuids.CONTROL, uuids.STRIDE_EVENTS, uuids.STATUS):
                await client.start_notify(char, on_pod)
        elif services.get_service(uuids.RSC_SERVICE) is not None:
            self.info.rsc_only = True
            await client.start_notify(uuids.RSC_MEASUREMENT, self._notified(Channel.RSC))
        else:
            raise NotAPod(
                f"{self.spec}: {self.info.name or self.target} has neither the StrideCue nor "
                "the Running Speed and Cadence service; it is not a foot pod"
            )

    def _notified(self, channel: Channel) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        """A notification callback handing the value to the shared intake."""

        def on_value(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            self._intake(bytes(data), channel, time.time_ns())

        return on_value

    def _on_disconnected(self, client: BleakClient) -> None:
        if self._closing or client is not self._client:
            return
        self._client = None
        self._lost("the pod disconnected", reconnect=self.options.reconnect)

    async def _reconnect(self) -> None:
        opts = self.options
        try:
            await connect_with_retry(
                self.spec,
                self._connect_once,
                attempts=None,
                backoff_s=opts.backoff_s,
                max_backoff_s=opts.max_backoff_s,
                closing=lambda: self._closing,
                prepare=self._ensure_device,
            )
        except LinkError as e:
            if not self._closing:
                log.error("%s: gave up reconnecting: %s", self.spec, e)
                self._end()
            return
        await self._after_connect(reconnected=True)

    # --- sending ---
    def _connected_client(self, what: str) -> BleakClient:
        if self._client is None or self.state is not LinkState.CONNECTED:
            raise LinkError(f"{self.spec}: {what} not sent: the pod is {self.state.value}")
        return self._client

    async def _write(self, char: str, data: bytes, response: bool, what: str) -> None:
        client = self._connected_client(what)
        try:
            await client.write_gatt_char(char, data, response=response)
        except BleakError as e:
            if is_security_refusal(e):
                raise PairFirst(f"{self.spec}: {what} refused; {pair_hint(self.target)}") from None
            raise LinkError(f"{self.spec}: {what} failed: {e}") from None

    async def write_cue(self, cue: Cue) -> None:
        if self.info.rsc_only:
            raise LinkError(
                f"{self.spec}: this pod speaks only Running Speed and Cadence; it cannot be cued"
            )
        await self._write(uuids.CUE, bytes(cue), False, "cue")

    async def _send_control(self, data: bytes) -> None:
        if self.info.rsc_only:
            raise LinkError(f"{self.spec}: an RSC-only pod has no StrideCue control")
        await self._write(uuids.CONTROL, data, True, "control request")

    async def close(self) -> None:
        self._begin_close()
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.disconnect()
            except BleakError as e:
                log.warning("%s: disconnect: %s", self.spec, e)
        self._end()


@dataclass(frozen=True, slots=True)
class Found:
    name: str
    address: str
    rssi: int
    rsc_only: bool
    battery_pct: int | None = None


async def scan(timeout_s: float = 5.0, *, rsc: bool = True, battery: bool = True) -> list[Found]:
    """Pods advertising the StrideCue service (and, with ``rsc``, RSC foot pods)."""
    wanted = [uuids.STRIDECUE_SERVICE] + ([uuids.RSC_SERVICE] if rsc else [])
    async with bluetooth():
        seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True, service_uuids=wanted)
    found: list[tuple[BLEDevice, Found]] = []
    for device, adv in seen.values():
        ours = uuids.STRIDECUE_SERVICE in adv.service_uuids
        name = adv.local_name or device.name or ""
        found.append((device, Found(name, device.address, adv.rssi, not ours)))
    if battery:
        found = [(d, await _with_battery(d, f)) for d, f in found]
    return sorted((f for _, f in found), key=lambda f: -f.rssi)


async def _with_battery(device: BLEDevice, f: Found) -> Found:
    """Read the open Battery Level characteristic (no bonding needed)."""
    try:
        async with connect_lock(), BleakClient(device, timeout=5.0) as client:
            if client.services.get_characteristic(uuids.BATTERY_LEVEL) is None:
                return f
            level = (await client.read_gatt_char(uuids.BATTERY_LEVEL))[0]
    except (BleakError, TimeoutError, OSError) as e:
        log.info("battery of %s not read: %s", f.address, e)
        return f
    return Found(f.name, f.address, f.rssi, f.rsc_only, level)


async def pair(target: str, timeout_s: float = 10.0) -> str:
    """Bond with a pod in pairing mode; returns its address."""
    device = await find_device(target, timeout_s)
    try:
        async with bluetooth(), connect_lock(), BleakClient(device, timeout=timeout_s) as client:
            await client.pair()
    except BleakError as e:
        raise LinkError(
            f"pairing with {target} failed ({e}): hold the pod's button until it buzzes "
            "(pairing mode lasts 60 s) and try again"
        ) from None
    return device.address
