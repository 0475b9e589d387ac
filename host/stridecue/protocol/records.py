"""One small class per StrideCue record: ``from_bytes`` checks, ``bytes()`` encodes.

Layouts are specified in docs/protocol.md and pinned by tests/vectors/records.json.
Building a record in host code with a field out of range raises ``ConfigError``;
decoding bytes never does: a record the host cannot take raises a ``ProtocolError``
subclass (``RecordOutOfRange`` for a field out of range), and a status field it
cannot read is kept as ``UNKNOWN`` (docs/protocol.md, "Fields out of range").
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar

from stridecue.errors import (
    ConfigError,
    OversizedRecord,
    RecordOutOfRange,
    TruncatedRecord,
    UnknownRecord,
)

VERSION = 1
MAX_NOTIFY = 20  # bytes in one notification at the default ATT MTU of 23
UNKNOWN = 0xFF  # a status field the pod does not know, or this host cannot read
IMU_STATE_MAX = 3  # imu_state 0..3 are known; a newer pod's new state reads as UNKNOWN


class Kind(enum.IntEnum):
    STRIDE = 0x01
    STATUS = 0x02
    CUE = 0x03
    CONTROL = 0x04
    REPLY = 0x05
    LOG = 0x7F


class StrideFlag(enum.IntFlag):
    ACC_SATURATED = 0x0001
    GYRO_SATURATED = 0x0002
    LOW_QUALITY = 0x0004
    BACKFILLED = 0x0008
    GAP = 0x0010
    FIRST = 0x0020
    TURN = 0x0040
    CUED = 0x0080  # the pod's motor ran during the stride (vibration in the samples)


class Pattern(enum.IntEnum):
    RHYTHM = 1  # three short pulses: rhythm lost
    STRIDE = 2  # one long pulse: strides shortening
    IDENTIFY = 3  # two pulses: "this is the pod you picked"
    PULSE = 4  # one pulse of duration_ms (coach's manual cue)


class Opcode(enum.IntEnum):
    START = 0x01
    STOP = 0x02
    TIME_SYNC = 0x03
    SET_CONFIG = 0x04
    GET_CONFIG = 0x05
    BACKFILL = 0x06
    LIST_SESSIONS = 0x07
    READ_SESSION = 0x08
    IDENTIFY = 0x09
    DELETE_SESSION = 0x0A
    GET_STATUS = 0x0B
    SESSION_INFO = 0x0C  # store and forward: a session's first seq, records, flags
    MARK_SYNCED = 0x0D  # store and forward: the host stored this session
    LIST_BONDS = 0x10  # BLE bonds (hosts the pod keeps keys for)
    FORGET_BOND = 0x11


class Result(enum.IntEnum):
    OK = 0
    UNKNOWN_OPCODE = 1
    BAD_LENGTH = 2
    OUT_OF_RANGE = 3
    BUSY = 4
    NOT_FOUND = 5
    STORAGE = 6
    NOT_PERMITTED = 7
    BAD_VERSION = 8
    UNKNOWN = 0xFF  # a result code this host does not know (from a newer pod): a refusal


class ConfigKey(enum.IntEnum):
    TARGET_CADENCE_SPM = 1  # 100..240 steps/min
    SAMPLE_RATE_HZ = 2  # one of 208, 416, 833
    FALLBACK_CUES = 3  # 0 off, 1 on (pod cues by itself when no host is connected)
    FALLBACK_LOW_SPM = 4  # 100..240
    FALLBACK_HIGH_SPM = 5  # 100..240
    FALLBACK_SHORTENING = 6  # 0 off, 1 on (pod cues shortening strides by itself)
    CADENCE_PATTERN = 7  # the pod's own cadence cue: 1..3 (RHYTHM, STRIDE, IDENTIFY)
    SHORTENING_PATTERN = 8  # the pod's own shortening cue: 1..3
    AUTO_START = 9  # 0: measure only in host sessions; 1: start a session on motion
    REST_STOP_S = 10  # 10..3600: a session the pod started ends this long after a stride
    PACER_SPM = 11  # 0 off, or 100..240: the pod ticks this cadence until it is matched
    PACER_EVERY_STEPS = 12  # 1..16 (default 4): one pacer tick every this many steps
    SPLIT_BUZZ = 13  # 0 off, 1 on: a buzz at each 100 m of a rep
    DISTANCE_SCALE_PERMILLE = 14  # 800..1200 (default 1000): the pod's distance, scaled
    GUARD_REP_M = 15  # 0 off, or 100..10000: the shortening guard for reps this long
    # the split plan: planned elapsed ms of a rep at 100 m ... 600 m, 0 or 1000..3600000
    # (0: no checkpoint); the pod uses the longest strictly increasing non-zero prefix
    PLAN_100_MS = 16
    PLAN_200_MS = 17
    PLAN_300_MS = 18
    PLAN_400_MS = 19
    PLAN_500_MS = 20
    PLAN_600_MS = 21


#: the split plan's config keys, 100 m apart, in order
PLAN_KEYS = tuple(k for k in ConfigKey if k >= ConfigKey.PLAN_100_MS)
#: the longest planned time one plan key takes (ms)
PLAN_MAX_MS = 3_600_000
#: the shortest non-zero one (ms)
PLAN_MIN_MS = 1_000


class PodCoach(enum.IntFlag):
    """The status record's coach byte: what the pod's own coach does (0: no coach, or a
    pod from before the byte). Bits this host does not know are kept."""

    ACTIVE = 0x01  # a coach runs in this session
    PACING = 0x02  # its pacer ticks now (with PACER and this clear: rhythm held, quiet)
    IN_REP = 0x04  # in a rep, by the pod's own rep detection
    BEHIND = 0x08  # the last split of this rep was behind the plan
    PACER = 0x10  # a pacer is set
    PLAN = 0x20  # a split plan is set


NO_COACH = PodCoach(0)


class SessionFlag(enum.IntFlag):
    """A stored session's flags (LIST_SESSIONS, SESSION_INFO replies)."""

    RUNNING = 0x01
    AUTO = 0x02  # the pod started it itself: `stridecue pod sync` fetches it
    SYNCED = 0x04  # a host confirmed it stored it
    EARLIER_BOOT = 0x08  # recorded before the pod restarted: no time sync maps its times


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range: allowed {lo}..{hi}")


def _check_known(name: str, value: int, hi: int) -> None:
    if value != UNKNOWN and not 0 <= value <= hi:
        raise ConfigError(
            f"{name}={value} is out of range: allowed 0..{hi}, or {UNKNOWN} (unknown)"
        )


def _known(value: int, hi: int) -> int:
    """A decoded u8 status field: itself when 0..hi, else UNKNOWN (the record is kept)."""
    return value if value <= hi else UNKNOWN


def _header(data: bytes, kind: Kind, size: int, *, exact: bool = True) -> None:
    if len(data) < 2:
        raise TruncatedRecord(f"{kind.name.lower()} record: {len(data)} bytes, need {size}")
    if data[0] != kind:
        raise UnknownRecord(f"expected record kind {kind:#04x}, got {data[0]:#04x}")
    if data[1] != VERSION:
        raise UnknownRecord(
            f"{kind.name.lower()} record version {data[1]} is not supported (this host "
            f"speaks version {VERSION}); update the pod firmware or the host "
            "(`pip install -U stridecue`)"
        )
    if len(data) < size:
        raise TruncatedRecord(f"{kind.name.lower()} record: {len(data)} bytes, need {size}")
    if exact and len(data) > size:
        raise OversizedRecord(f"{kind.name.lower()} record: {len(data)} bytes, expected {size}")


NO_FLAGS = StrideFlag(0)


@dataclass(frozen=True, slots=True)
class StrideEvent:
    """One stride of one foot, contact to next contact of the same foot."""

    seq: int
    t_contact_ms: int
    stride_time_ms: int
    contact_time_ms: int
    stride_length_mm: int
    flags: StrideFlag = NO_FLAGS

    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBIIHHHH")
    SIZE: ClassVar[int] = 18

    def __post_init__(self) -> None:
        _check_range("seq", self.seq, 0, 0xFFFFFFFF)
        _check_range("t_contact_ms", self.t_contact_ms, 0, 0xFFFFFFFF)
        _check_range("stride_time_ms", self.stride_time_ms, 0, 0xFFFF)
        _check_range("contact_time_ms", self.contact_time_ms, 0, 0xFFFF)
        _check_range("stride_length_mm", self.stride_length_mm, 0, 0xFFFF)
        _check_range("flags", int(self.flags), 0, 0xFFFF)

    @classmethod
    def from_bytes(cls, data: bytes) -> StrideEvent:
        _header(data, Kind.STRIDE, cls.SIZE)
        _, _, seq, t, st, ct, sl, fl = cls._FMT.unpack(data)
        return cls(seq, t, st, ct, sl, StrideFlag(fl))

    def __bytes__(self) -> bytes:
        return self._FMT.pack(
            Kind.STRIDE,
            VERSION,
            self.seq,
            self.t_contact_ms,
            self.stride_time_ms,
            self.contact_time_ms,
            self.stride_length_mm,
            int(self.flags),
        )

    @property
    def stride_time_s(self) -> float:
        return self.stride_time_ms / 1000.0

    @property
    def contact_time_s(self) -> float:
        return self.contact_time_ms / 1000.0

    @property
    def stride_length_m(self) -> float:
        return self.stride_length_mm / 1000.0

    @property
    def cadence_spm(self) -> float:
        """Steps per minute: two steps per stride of one foot."""
        return 120.0 / self.stride_time_s if self.stride_time_ms else 0.0


@dataclass(frozen=True, slots=True)
class Status:
    """Pod health, read or notified on the status characteristic."""

    battery_pct: int  # 0..100, UNKNOWN (255) when not known
    imu_state: int  # 0 ok, 1 missing, 2 error, 3 FIFO overrun seen; UNKNOWN: a newer state
    storage_pct: int  # flash used by sessions, 0..100; UNKNOWN when not known
    state: int  # bit0 session running, bit1 pairing mode, bit2 host connected
    dropped_samples: int
    last_seq: int
    firmware: tuple[int, int, int]
    uptime_min: int
    coach: PodCoach = NO_COACH  # byte 17; 0 from a pod without a coach (or before the byte)

    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBBBBBIIBBBBH")
    SIZE: ClassVar[int] = 20

    def __post_init__(self) -> None:
        _check_known("battery_pct", self.battery_pct, 100)
        _check_known("imu_state", self.imu_state, IMU_STATE_MAX)
        _check_known("storage_pct", self.storage_pct, 100)
        _check_range("state", self.state, 0, 0xFF)
        _check_range("dropped_samples", self.dropped_samples, 0, 0xFFFFFFFF)
        _check_range("last_seq", self.last_seq, 0, 0xFFFFFFFF)
        _check_range("uptime_min", self.uptime_min, 0, 0xFFFF)
        _check_range("coach", self.coach, 0, 0xFF)
        if len(self.firmware) != 3:
            raise ConfigError(f"firmware={self.firmware}: give (major, minor, patch)")
        for part in self.firmware:
            _check_range("firmware", part, 0, 0xFF)

    @classmethod
    def from_bytes(cls, data: bytes) -> Status:
        _header(data, Kind.STATUS, cls.SIZE)
        _, _, bat, imu, sto, st, drop, last, a, b, c, coach, up = cls._FMT.unpack(data)
        bat, imu, sto = _known(bat, 100), _known(imu, IMU_STATE_MAX), _known(sto, 100)
        return cls(bat, imu, sto, st, drop, last, (a, b, c), up, PodCoach(coach))

    def __bytes__(self) -> bytes:
        a, b, c = self.firmware
        return self._FMT.pack(
            Kind.STATUS,
            VERSION,
            self.battery_pct,
            self.imu_state,
            self.storage_pct,
            self.state,
            self.dropped_samples,
            self.last_seq,
            a,
            b,
            c,
            self.coach,
            self.uptime_min,
        )


@dataclass(frozen=True, slots=True)
class Cue:
    """A vibration cue written to the pod."""

    pattern: Pattern
    intensity_pct: int = 100
    repeat: int = 1
    duration_ms: int = 0  # 0: the pattern's own timing, else 20..2000; PULSE needs 20..2000

    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBBBBH")
    SIZE: ClassVar[int] = 7
    MIN_ON_MS: ClassVar[int] = 20
    MAX_ON_MS: ClassVar[int] = 2000

    def __post_init__(self) -> None:
        # the pod plays nothing (and cannot say so) for a cue outside these ranges
        _check_range("intensity_pct", self.intensity_pct, 0, 100)
        _check_range("repeat", self.repeat, 1, 10)
        if self.duration_ms or self.pattern == Pattern.PULSE:
            _check_range("duration_ms", self.duration_ms, self.MIN_ON_MS, self.MAX_ON_MS)

    @classmethod
    def from_bytes(cls, data: bytes) -> Cue:
        _header(data, Kind.CUE, cls.SIZE)
        _, _, pat, inten, rep, dur = cls._FMT.unpack(data)
        try:
            pattern = Pattern(pat)
        except ValueError:
            raise UnknownRecord(f"cue pattern {pat} is unknown") from None
        try:
            return cls(pattern, inten, rep, dur)
        except ConfigError as e:
            raise RecordOutOfRange(f"cue record: {e}; the pod ignores such a cue") from None

    def __bytes__(self) -> bytes:
        return self._FMT.pack(
            Kind.CUE, VERSION, self.pattern, self.intensity_pct, self.repeat, self.duration_ms
        )


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A request written to the control characteristic; params per docs/protocol.md."""

    opcode: Opcode
    token: int
    params: bytes = b""

    MAX_PARAMS: ClassVar[int] = MAX_NOTIFY - 4

    def __post_init__(self) -> None:
        _check_range("token", self.token, 0, 255)
        if len(self.params) > self.MAX_PARAMS:
            raise ConfigError(
                f"control params: {len(self.params)} bytes, at most {self.MAX_PARAMS}"
            )

    @classmethod
    def from_bytes(cls, data: bytes) -> ControlRequest:
        _header(data, Kind.CONTROL, 4, exact=False)
        if len(data) > MAX_NOTIFY:
            raise OversizedRecord(f"control request: {len(data)} bytes, at most {MAX_NOTIFY}")
        try:
            op = Opcode(data[2])
        except ValueError:
            raise UnknownRecord(f"control opcode {data[2]:#04x} is unknown") from None
        return cls(op, data[3], bytes(data[4:]))

    def __bytes__(self) -> bytes:
        return bytes((Kind.CONTROL, VERSION, self.opcode, self.token)) + self.params

    # --- constructors for each opcode (layouts in docs/protocol.md) ---
    @classmethod
    def start(cls, token: int, host_time_s: int) -> ControlRequest:
        return cls(Opcode.START, token, struct.pack("<I", host_time_s & 0xFFFFFFFF))

    @classmethod
    def backfill(cls, token: int, from_seq: int, count: int) -> ControlRequest:
        _check_range("from_seq", from_seq, 0, 0xFFFFFFFF)
        _check_range("count", count, 1, 0xFFFF)
        return cls(Opcode.BACKFILL, token, struct.pack("<IH", from_seq, count))

    @classmethod
    def set_config(cls, token: int, key: ConfigKey, value: int) -> ControlRequest:
        _check_range("value", value, 0, 0xFFFFFFFF)
        return cls(Opcode.SET_CONFIG, token, struct.pack("<BI", key, value))

    @classmethod
    def get_config(cls, token: int, key: ConfigKey) -> ControlRequest:
        return cls(Opcode.GET_CONFIG, token, bytes((key,)))

    @classmethod
    def list_sessions(cls, token: int, index: int) -> ControlRequest:
        _check_range("index", index, 0, 0xFF)
        return cls(Opcode.LIST_SESSIONS, token, bytes((index,)))

    @classmethod
    def read_session(cls, token: int, session: int, from_seq: int, count: int) -> ControlRequest:
        _check_range("session", session, 0, 0xFFFF)
        _check_range("from_seq", from_seq, 0, 0xFFFFFFFF)
        _check_range("count", count, 0, 0xFFFF)
        return cls(Opcode.READ_SESSION, token, struct.pack("<HIH", session, from_seq, count))

    @classmethod
    def session_info(cls, token: int, session: int) -> ControlRequest:
        _check_range("session", session, 0, 0xFFFF)
        return cls(Opcode.SESSION_INFO, token, struct.pack("<H", session))

    @classmethod
    def mark_synced(cls, token: int, session: int, records: int) -> ControlRequest:
        _check_range("session", session, 0, 0xFFFF)
        _check_range("records", records, 0, 0xFFFFFFFF)
        return cls(Opcode.MARK_SYNCED, token, struct.pack("<HI", session, records))

    @classmethod
    def list_bonds(cls, token: int, index: int) -> ControlRequest:
        _check_range("index", index, 0, 0xFF)
        return cls(Opcode.LIST_BONDS, token, bytes((index,)))

    @classmethod
    def forget_bond(cls, token: int, bond: BondAddress | None) -> ControlRequest:
        """Forget one bond, or every bond with ``None``."""
        if bond is None:
            return cls(Opcode.FORGET_BOND, token, bytes((BondAddress.ALL,)) + bytes(6))
        return cls(Opcode.FORGET_BOND, token, bytes(bond))


@dataclass(frozen=True, slots=True)
class BondAddress:
    """A bonded host as the pod names it: address type and Bluetooth address."""

    address_type: int  # 0 public, 1 random (static or private)
    address: str  # "D8:3A:DD:12:34:56", most significant byte first

    ALL: ClassVar[int] = 0xFF  # FORGET_BOND's address type for "every bond"

    def __post_init__(self) -> None:
        _check_range("address_type", self.address_type, 0, 0xFE)
        parts = self.address.split(":")
        if len(parts) != 6 or not all(len(p) == 2 for p in parts):
            raise ConfigError(f"address {self.address!r}: write six hex bytes, AA:BB:CC:DD:EE:FF")
        try:
            bytes.fromhex("".join(parts))
        except ValueError:
            raise ConfigError(
                f"address {self.address!r}: write six hex bytes, AA:BB:CC:DD:EE:FF"
            ) from None

    @classmethod
    def from_bytes(cls, data: bytes) -> BondAddress:
        """Address type + 6 address bytes (most significant first), as the pod sends them."""
        if len(data) != 7:
            raise TruncatedRecord(f"bond address: {len(data)} bytes, need 7")
        if data[0] == cls.ALL:
            raise RecordOutOfRange("bond address type 0xFF names every bond, not one")
        return cls(data[0], ":".join(f"{b:02X}" for b in data[1:]))

    def __bytes__(self) -> bytes:
        return bytes((self.address_type,)) + bytes.fromhex(self.address.replace(":", ""))


@dataclass(frozen=True, slots=True)
class BondEntry:
    """One LIST_BONDS reply payload: which bond of how many, and its address."""

    index: int
    count: int
    bond: BondAddress

    SIZE: ClassVar[int] = 9

    @classmethod
    def from_payload(cls, payload: bytes) -> BondEntry:
        if len(payload) != cls.SIZE:
            raise TruncatedRecord(f"LIST_BONDS reply: {len(payload)} payload bytes, need 9")
        return cls(payload[0], payload[1], BondAddress.from_bytes(payload[2:]))


@dataclass(frozen=True, slots=True)
class ControlReply:
    """The pod's answer to a control request (indicated on the control characteristic)."""

    opcode: int
    token: int
    result: Result
    payload: bytes = b""

    def __post_init__(self) -> None:
        _check_range("opcode", self.opcode, 0, 0xFF)
        _check_range("token", self.token, 0, 0xFF)
        if len(self.payload) > MAX_NOTIFY - 5:
            raise ConfigError(f"reply payload: {len(self.payload)} bytes, at most {MAX_NOTIFY - 5}")

    @classmethod
    def from_bytes(cls, data: bytes) -> ControlReply:
        _header(data, Kind.REPLY, 5, exact=False)
        if len(data) > MAX_NOTIFY:
            raise OversizedRecord(f"control reply: {len(data)} bytes, at most {MAX_NOTIFY}")
        try:
            result = Result(data[4])
        except ValueError:
            result = Result.UNKNOWN  # kept: the request it answers fails now, not at a timeout
        return cls(data[2], data[3], result, bytes(data[5:]))

    def __bytes__(self) -> bytes:
        return bytes((Kind.REPLY, VERSION, self.opcode, self.token, self.result)) + self.payload


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session kept on the pod, from a LIST_SESSIONS or SESSION_INFO reply payload."""

    session_id: int
    start_time_s: int  # UTC seconds when it started; 0: the pod did not know the date
    records: int
    flags: SessionFlag
    first_seq: int | None = None  # SESSION_INFO tells it; LIST_SESSIONS does not

    _LIST: ClassVar[struct.Struct] = struct.Struct("<BHIIB")
    _INFO: ClassVar[struct.Struct] = struct.Struct("<HIIIB")

    @classmethod
    def from_list_reply(cls, payload: bytes) -> StoredSession:
        if len(payload) < cls._LIST.size:
            raise TruncatedRecord(f"LIST_SESSIONS reply: {len(payload)} bytes, need 12")
        _, sid, start, records, flags = cls._LIST.unpack_from(payload)
        return cls(sid, start, records, SessionFlag(flags))

    @classmethod
    def from_info_reply(cls, payload: bytes) -> StoredSession:
        if len(payload) < cls._INFO.size:
            raise TruncatedRecord(f"SESSION_INFO reply: {len(payload)} bytes, need 15")
        sid, first, records, start, flags = cls._INFO.unpack_from(payload)
        return cls(sid, start, records, SessionFlag(flags), first)

    @property
    def waiting(self) -> bool:
        """Recorded by the pod alone, finished, and not yet stored by a host."""
        return self.flags & (SessionFlag.AUTO | SessionFlag.SYNCED | SessionFlag.RUNNING) == (
            SessionFlag.AUTO
        )


@dataclass(frozen=True, slots=True)
class LogLine:
    """Free-text diagnostics from the pod, serial link only; raw bytes kept as sent."""

    raw: bytes = b""

    @classmethod
    def of(cls, text: str) -> LogLine:
        return cls(text.encode())

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    @classmethod
    def from_bytes(cls, data: bytes) -> LogLine:
        if not data or data[0] != Kind.LOG:
            raise UnknownRecord("not a log record")
        return cls(bytes(data[1:]))

    def __bytes__(self) -> bytes:
        return bytes((Kind.LOG,)) + self.raw


Record = StrideEvent | Status | Cue | ControlRequest | ControlReply | LogLine

_DECODERS: dict[int, type[StrideEvent | Status | Cue | ControlRequest | ControlReply | LogLine]] = {
    Kind.STRIDE: StrideEvent,
    Kind.STATUS: Status,
    Kind.CUE: Cue,
    Kind.CONTROL: ControlRequest,
    Kind.REPLY: ControlReply,
    Kind.LOG: LogLine,
}


def decode_record(data: bytes) -> Record:
    """Decode any record by its kind byte; raises a ProtocolError subclass on bad input."""
    if not data:
        raise TruncatedRecord("empty record")
    try:
        cls = _DECODERS[data[0]]
    except KeyError:
        raise UnknownRecord(f"record kind {data[0]:#04x} is unknown") from None
    return cls.from_bytes(bytes(data))
