"""A stand-in ``org.bluez`` service: the D-Bus objects bleak's BlueZ backend uses.

One adapter (``/org/bluez/hci0``) that discovers, devices that connect, bond and
drop out, and per connection the device's GATT table as GattService1 /
GattCharacteristic1 objects with ReadValue, WriteValue, StartNotify and
PropertiesChanged notifications. It refuses what BlueZ and a real pod would
refuse: encrypted characteristics before bonding ("Not paired"), a write type
the characteristic does not support, a connect to a device out of range, a bond
outside pairing mode. Facts about what bleak needs: shared/notes/bleak-over-dbus.md.
"""

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from dbus_fast import BusType, DBusError, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

DBusStrList = Annotated[list[str], DBusSignature("as")]

ADAPTER = "/org/bluez/hci0"
NOT_PAIRED = ("org.bluez.Error.NotPermitted", "Not paired")


@dataclass
class CharDef:
    """One characteristic of a peripheral's GATT table."""

    uuid: str
    flags: list[str]
    secure: bool = False  # needs an encrypted (bonded) link
    read: Callable[[], bytes] | None = None
    write: Callable[[bytes, bool], None] | None = None  # (value, permitted)


@dataclass
class ServiceDef:
    uuid: str
    chars: list[CharDef]


@dataclass
class Peripheral:
    """What a device is: advertised UUIDs and name, and its GATT table."""

    name: str
    uuids: list[str]
    services: list[ServiceDef]
    pairing_mode: bool = False
    on_connect: Callable[[], None] = lambda: None
    on_disconnect: Callable[[], None] = lambda: None
    extra: dict[str, object] = field(default_factory=dict)


class Characteristic(ServiceInterface):
    def __init__(self, device: "Device", service_path: str, cdef: CharDef) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._device = device
        self._service = service_path
        self._def = cdef
        self._value = b""
        self._notifying = False

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._def.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self._service

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return self._def.flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self._value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self._notifying

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        return 23

    def _check_security(self) -> None:
        if self._def.secure and not self._device.paired:
            raise DBusError(*NOT_PAIRED)

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        if "read" not in self._def.flags or self._def.read is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        self._check_security()
        self._value = self._def.read()
        return self._value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        kind = options.get("type", Variant("s", "request")).value
        flag = "write-without-response" if kind == "command" else "write"
        if flag not in self._def.flags or self._def.write is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        if len(value) > 20:
            raise DBusError("org.bluez.Error.InvalidValueLength", "Invalid Length")
        permitted = not self._def.secure or self._device.paired
        if kind != "command" and not permitted:
            raise DBusError(*NOT_PAIRED)
        # a write command gets no answer over the air: an unbonded one is simply ignored
        self._def.write(bytes(value), permitted)

    @dbus_method()
    def StartNotify(self) -> None:
        if not {"notify", "indicate"} & set(self._def.flags):
            raise DBusError("org.bluez.Error.NotSupported", "Operation is not supported")
        self._check_security()
        if not self._notifying:
            self._notifying = True
            self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        if self._notifying:
            self._notifying = False
            self.emit_properties_changed({"Notifying": False})

    def notify(self, value: bytes) -> bool:
        if not self._notifying:
            return False
        self._value = value
        self.emit_properties_changed({"Value": value})
        return True


class GattService(ServiceInterface):
    def __init__(self, device_path: str, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._device_path = device_path
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self._device_path

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True


class Device(ServiceInterface):
    def __init__(self, bluez: "StandInBluez", address: str, peripheral: Peripheral) -> None:
        super().__init__("org.bluez.Device1")
        self._bz = bluez
        self.address = address
        self.path = f"{ADAPTER}/dev_{address.replace(':', '_')}"
        self.peripheral = peripheral
        self.in_range = True
        self.paired = False
        self._trusted = False
        self.connected = False
        self._resolved = False
        self.rssi = -60
        self.connects = 0
        self._exported: list[str] = []
        self.chars: dict[str, Characteristic] = {}

    # --- properties bleak reads ---
    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.peripheral.name

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return self.peripheral.uuids

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return self.paired

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return self.paired

    @dbus_property()
    def Trusted(self) -> DBusBool:
        return self._trusted

    @Trusted.setter
    def Trusted(self, value: DBusBool) -> None:
        self._trusted = value

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self._resolved

    # --- methods ---
    @dbus_method()
    async def Connect(self) -> None:
        await asyncio.sleep(0.005)  # a connection takes a few radio intervals
        if not self.in_range:  # (BlueZ would wait its connect timeout first)
            await asyncio.sleep(0.02)
            raise DBusError("org.bluez.Error.ConnectionAttemptFailed", "Page Timeout")
        if self.connected:
            return
        self._export_gatt()
        self.connected = True
        self.connects += 1
        self.emit_properties_changed({"Connected": True})
        self._resolved = True
        self.emit_properties_changed({"ServicesResolved": True})
        self.peripheral.on_connect()

    @dbus_method()
    def Disconnect(self) -> None:
        self._teardown()

    @dbus_method()
    def Pair(self) -> None:
        if not self.in_range:
            raise DBusError("org.bluez.Error.ConnectionAttemptFailed", "Page Timeout")
        if not self.peripheral.pairing_mode:
            raise DBusError("org.bluez.Error.AuthenticationFailed", "Authentication Failed")
        if not self.paired:
            self.paired = True
            self.emit_properties_changed({"Paired": True, "Bonded": True})

    # --- the radio ---
    def _export_gatt(self) -> None:
        handle = 0x0010
        for sdef in self.peripheral.services:
            spath = f"{self.path}/service{handle:04x}"
            self._bz.bus.export(spath, GattService(self.path, sdef.uuid))
            self._exported.append(spath)
            for cdef in sdef.chars:
                handle += 2
                cpath = f"{spath}/char{handle:04x}"
                char = Characteristic(self, spath, cdef)
                self._bz.bus.export(cpath, char)
                self._exported.append(cpath)
                self.chars[cdef.uuid] = char
            handle = (handle + 0x10) & ~0xF

    def _teardown(self) -> None:
        if not self.connected:
            return
        self._resolved = False
        self.emit_properties_changed({"ServicesResolved": False})
        self.connected = False
        self.emit_properties_changed({"Connected": False})
        for path in reversed(self._exported):
            self._bz.bus.unexport(path)
        self._exported.clear()
        self.chars.clear()
        self.peripheral.on_disconnect()

    def notify(self, uuid: str, value: bytes) -> bool:
        """Send a notification/indication if the host is connected and subscribed."""
        char = self.chars.get(uuid)
        return char.notify(value) if self.connected and char is not None else False

    def drop(self) -> None:
        """The pod runs out of range: the link drops, reconnects fail until back."""
        self.in_range = False
        self._teardown()

    def back_in_range(self) -> None:
        self.in_range = True


class Adapter(ServiceInterface):
    def __init__(self, bluez: "StandInBluez") -> None:
        super().__init__("org.bluez.Adapter1")
        self._bz = bluez
        self.discovering = 0
        self.filter_uuids: set[str] = set()

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return "00:1A:7D:DA:71:13"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "stand-in"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.discovering > 0

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        uuids = properties.get("UUIDs")
        self.filter_uuids = {u.lower() for u in uuids.value} if uuids is not None else set()

    @dbus_method()
    def StartDiscovery(self) -> None:
        self.discovering += 1
        if self.discovering == 1:
            self.emit_properties_changed({"Discovering": True})

    @dbus_method()
    def StopDiscovery(self) -> None:
        if self.discovering == 0:
            raise DBusError("org.bluez.Error.Failed", "No discovery started")
        self.discovering -= 1
        if self.discovering == 0:
            self.filter_uuids = set()
            self.emit_properties_changed({"Discovering": False})

    def visible(self, dev: Device) -> bool:
        if not dev.in_range or dev.connected:
            return False
        return not self.filter_uuids or bool(self.filter_uuids & set(dev.peripheral.uuids))


class StandInBluez:
    """The org.bluez service on a private bus; ``async with StandInBluez(addr) as bz``."""

    def __init__(self, bus_address: str, workdir: Path | None = None) -> None:
        self.bus_address = bus_address
        self.workdir = workdir or Path(".")  # where peripherals may keep files
        self.bus: MessageBus
        self.adapter = Adapter(self)
        self.devices: dict[str, Device] = {}
        self._adv: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "StandInBluez":
        self.bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect()
        self.bus.export(ADAPTER, self.adapter)
        await self.bus.request_name("org.bluez")
        self._adv = asyncio.create_task(self._advertise())
        return self

    async def __aexit__(self, *exc: object) -> None:
        for dev in self.devices.values():
            dev._teardown()  # bleak does not notice org.bluez vanishing
        await asyncio.sleep(0.05)
        if self._adv is not None:
            self._adv.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._adv
        self.bus.disconnect()
        with contextlib.suppress(Exception):
            await self.bus.wait_for_disconnect()

    def add(self, address: str, peripheral: Peripheral) -> Device:
        dev = Device(self, address, peripheral)
        self.devices[address] = dev
        self.bus.export(dev.path, dev)
        return dev

    def forget(self, dev: Device) -> None:
        """BlueZ drops a device it has not seen for a while (its object goes away)."""
        dev.drop()
        self.bus.unexport(dev.path)

    def rediscover(self, dev: Device) -> None:
        """The device advertises again: BlueZ creates its object anew."""
        dev.back_in_range()
        self.bus.export(dev.path, dev)

    async def _advertise(self) -> None:
        # while discovering, every device in range "advertises" (an RSSI update every
        # 100 ms): bleak registers some callbacks only after StartDiscovery returns
        while True:
            await asyncio.sleep(0.1)
            if not self.adapter.discovering:
                continue
            for dev in self.devices.values():
                if self.adapter.visible(dev):
                    dev.rssi = -55 - random.randrange(20)
                    dev.emit_properties_changed({"RSSI": dev.rssi})
