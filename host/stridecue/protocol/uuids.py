"""GATT UUIDs of the pod (docs/protocol.md, "GATT table")."""

_BASE = "82787b06-{:04x}-4303-a03b-6f2592ac8ad5"


def _sc(short: int) -> str:
    return _BASE.format(short)


def _sig(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


STRIDECUE_SERVICE = _sc(0x0001)
STRIDE_EVENTS = _sc(0x0002)
CUE = _sc(0x0003)
CONTROL = _sc(0x0004)
STATUS = _sc(0x0005)

RSC_SERVICE = _sig(0x1814)
RSC_MEASUREMENT = _sig(0x2A53)
RSC_FEATURE = _sig(0x2A54)
SENSOR_LOCATION = _sig(0x2A5D)
SC_CONTROL_POINT = _sig(0x2A55)

DEVICE_INFO_SERVICE = _sig(0x180A)
MANUFACTURER_NAME = _sig(0x2A29)
MODEL_NUMBER = _sig(0x2A24)
FIRMWARE_REVISION = _sig(0x2A26)
BATTERY_SERVICE = _sig(0x180F)
BATTERY_LEVEL = _sig(0x2A19)
