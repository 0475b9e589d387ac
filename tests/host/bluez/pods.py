"""Peripherals for the stand-in BlueZ: a StrideCue pod, an RSC-only foot pod, a heart-rate strap.

The StrideCue pod carries the GATT table of docs/protocol.md and is fed by a
pod service (``LinkPod``, or anything with the same link interface): this
class is the pod's BLE link, turning its records into notifications and its
characteristic writes into ``pod.control`` / ``pod.cue`` calls.
"""

from typing import Any

from stridecue.protocol import RscMeasurement, uuids

from .standin import CharDef, Device, Peripheral, ServiceDef, StandInBluez

HEART_RATE = "0000180d-0000-1000-8000-00805f9b34fb"
HR_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"


def device_info(firmware: str) -> ServiceDef:
    def text(s: str) -> CharDef:
        return CharDef("", ["read"], read=lambda: s.encode())

    chars = []
    for uuid, value in (
        (uuids.MANUFACTURER_NAME, "StrideCue"),
        (uuids.MODEL_NUMBER, "SC-1"),
        (uuids.FIRMWARE_REVISION, firmware),
    ):
        c = text(value)
        c.uuid = uuid
        chars.append(c)
    return ServiceDef(uuids.DEVICE_INFO_SERVICE, chars)


def battery(level: int) -> ServiceDef:
    return ServiceDef(
        uuids.BATTERY_SERVICE,
        [CharDef(uuids.BATTERY_LEVEL, ["read", "notify"], read=lambda: bytes([level]))],
    )


class BlePodLink:
    """The pod's BLE link (pod link interface) on a stand-in device."""

    def __init__(self, bluez: StandInBluez, address: str, pod: Any, firmware: str = "0.1.0"):
        self.pod = pod
        name = "StrideCue-" + address.replace(":", "")[-4:]
        sc = ServiceDef(
            uuids.STRIDECUE_SERVICE,
            [
                CharDef(uuids.STRIDE_EVENTS, ["notify"], secure=True),
                CharDef(uuids.CUE, ["write-without-response"], secure=True, write=self._cue),
                CharDef(uuids.CONTROL, ["write", "indicate"], secure=True, write=self._control),
                CharDef(
                    uuids.STATUS, ["read", "notify"], secure=True, read=lambda: pod.status_record()
                ),
            ],
        )
        rsc = ServiceDef(
            uuids.RSC_SERVICE,
            [
                CharDef(uuids.RSC_MEASUREMENT, ["notify"]),
                CharDef(uuids.RSC_FEATURE, ["read"], read=lambda: b"\x07\x00"),
                CharDef(uuids.SENSOR_LOCATION, ["read"], read=lambda: b"\x01"),
            ],
        )
        periph = Peripheral(
            name,
            [uuids.STRIDECUE_SERVICE, uuids.RSC_SERVICE],
            [rsc, device_info(firmware), battery(pod.battery), sc],
        )
        self.device: Device = bluez.add(address, periph)
        pod.links.append(self)

    # BLE writes -> pod
    def _cue(self, data: bytes, permitted: bool) -> None:
        self.pod.cue(data, permitted)

    def _control(self, data: bytes, permitted: bool) -> None:
        self.pod.control(data, self, 0, permitted)

    # pod -> notifications (dropped when no host is connected and subscribed)
    def stride(self, rec: bytes, n: int, rsc: bytes, rn: int) -> None:
        self.device.notify(uuids.STRIDE_EVENTS, bytes(rec[:n]))
        self.device.notify(uuids.RSC_MEASUREMENT, bytes(rsc[:rn]))

    def reply(self, conn: int, buf: bytes, n: int) -> None:
        self.device.notify(uuids.CONTROL, bytes(buf[:n]))

    def record(self, conn: int, buf: bytes, n: int) -> bool:
        char = uuids.STRIDE_EVENTS if buf[0] == 0x01 else uuids.STATUS
        self.device.notify(char, bytes(buf[:n]))
        return True

    def status(self, buf: bytes, n: int) -> None:
        self.device.notify(uuids.STATUS, bytes(buf[:n]))

    def hosts(self) -> int:
        return 1 if self.device.connected else 0


class RscFootPod:
    """Another brand's foot pod: only Running Speed and Cadence (+ battery)."""

    def __init__(self, bluez: StandInBluez, address: str, name: str = "Stryd") -> None:
        rsc = ServiceDef(
            uuids.RSC_SERVICE,
            [
                CharDef(uuids.RSC_MEASUREMENT, ["notify"]),
                CharDef(uuids.RSC_FEATURE, ["read"], read=lambda: b"\x03\x00"),
            ],
        )
        periph = Peripheral(name, [uuids.RSC_SERVICE], [rsc, battery(64)])
        self.device = bluez.add(address, periph)
        self.distance_m = 0.0

    def stride(
        self, speed_mps: float = 4.0, cadence_spm: int = 176, length_m: float = 1.36
    ) -> bytes:
        self.distance_m += length_m
        raw = bytes(RscMeasurement(speed_mps, cadence_spm, length_m, self.distance_m, True))
        self.device.notify(uuids.RSC_MEASUREMENT, raw)
        return raw


def heart_rate_strap(bluez: StandInBluez, address: str) -> Device:
    """Not a foot pod: must be ignored by scans and refused by ble: links."""
    hr = ServiceDef(HEART_RATE, [CharDef(HR_MEASUREMENT, ["notify"])])
    return bluez.add(address, Peripheral("HRM-Pro", [HEART_RATE], [hr, battery(90)]))
