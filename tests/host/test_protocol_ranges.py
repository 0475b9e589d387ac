"""Every field of every record kind at every value its width allows.

Decoding never raises anything but a ProtocolError subclass, and a record it returns
has every field in range or marked unknown (docs/protocol.md, "Fields out of range").
Building a record in host code with a field out of range raises ConfigError.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stridecue.errors import (
    ConfigError,
    OversizedRecord,
    ProtocolError,
    RecordOutOfRange,
    UnknownRecord,
)
from stridecue.protocol.fastdecode import fast_decode
from stridecue.protocol.records import (
    IMU_STATE_MAX,
    MAX_NOTIFY,
    UNKNOWN,
    ConfigKey,
    ControlReply,
    ControlRequest,
    Cue,
    Kind,
    LogLine,
    Opcode,
    Pattern,
    Result,
    Status,
    StrideEvent,
    StrideFlag,
    decode_record,
)
from stridecue.protocol.rsc import RscMeasurement

U8 = st.integers(0, 0xFF)
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFFFFFF)


def pod_plays(pattern: int, intensity: int, repeat: int, duration: int) -> bool:
    """The pod's own rule for a cue it plays (firmware/stridepod/haptics.py, play)."""
    if pattern not in (1, 2, 3, 4) or intensity > 100 or not 1 <= repeat <= 10:
        return False
    if duration and not 20 <= duration <= 2000:
        return False
    return not (pattern == 4 and duration == 0)


def in_range(rec: object) -> None:
    """Fail unless every field of a decoded record is in range or marked unknown."""
    if isinstance(rec, Status):
        assert rec.battery_pct <= 100 or rec.battery_pct == UNKNOWN
        assert rec.imu_state <= IMU_STATE_MAX or rec.imu_state == UNKNOWN
        assert rec.storage_pct <= 100 or rec.storage_pct == UNKNOWN
    elif isinstance(rec, Cue):
        assert pod_plays(rec.pattern, rec.intensity_pct, rec.repeat, rec.duration_ms)
    elif isinstance(rec, ControlReply):
        assert isinstance(rec.result, Result)
        assert len(rec.payload) <= MAX_NOTIFY - 5
    elif isinstance(rec, ControlRequest):
        assert isinstance(rec.opcode, Opcode)
        assert len(rec.params) <= MAX_NOTIFY - 4
    else:
        assert isinstance(rec, StrideEvent | LogLine), rec
    # whatever was decoded can be sent again, and reads back the same
    assert decode_record(bytes(rec)) == rec


# --- every field at every value of its width ------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.tuples(U32, U32, U16, U16, U16, U16))
def test_stride_every_value_is_kept(fields: tuple[int, ...]) -> None:
    raw = struct.pack("<BBIIHHHH", Kind.STRIDE, 1, *fields)
    rec = decode_record(raw)
    assert isinstance(rec, StrideEvent)
    got = (rec.seq, rec.t_contact_ms, rec.stride_time_ms, rec.contact_time_ms)
    assert (*got, rec.stride_length_mm, int(rec.flags)) == fields  # unknown flag bits kept
    assert bytes(rec) == raw
    assert fast_decode(raw) == rec


@settings(max_examples=400, deadline=None)
@given(U8, U8, U8, U8, U32, U32, st.tuples(U8, U8, U8, U8, U16))
def test_status_unknown_fields_are_marked_not_fatal(
    bat: int, imu: int, sto: int, state: int, drop: int, last: int, rest: tuple[int, ...]
) -> None:
    a, b, c, _reserved, up = rest
    raw = struct.pack("<BBBBBBIIBBBBH", Kind.STATUS, 1, bat, imu, sto, state, drop, last, *rest)
    rec = decode_record(raw)
    assert isinstance(rec, Status)
    assert rec.battery_pct == (bat if bat <= 100 else UNKNOWN)
    assert rec.imu_state == (imu if imu <= IMU_STATE_MAX else UNKNOWN)
    assert rec.storage_pct == (sto if sto <= 100 else UNKNOWN)
    assert (rec.state, rec.dropped_samples, rec.last_seq) == (state, drop, last)
    assert (rec.firmware, rec.uptime_min) == ((a, b, c), up)
    in_range(rec)


@settings(max_examples=400, deadline=None)
@given(U8, U8, U8, U16)
def test_cue_out_of_range_is_a_protocol_error(pat: int, inten: int, rep: int, dur: int) -> None:
    raw = struct.pack("<BBBBBH", Kind.CUE, 1, pat, inten, rep, dur)
    try:
        rec = decode_record(raw)
    except UnknownRecord:
        assert pat not in (1, 2, 3, 4)
        return
    except RecordOutOfRange as e:
        assert not pod_plays(pat, inten, rep, dur)
        assert str(e).startswith("cue record: ")
        return
    assert pod_plays(pat, inten, rep, dur)
    assert rec == Cue(Pattern(pat), inten, rep, dur)
    assert bytes(rec) == raw


@settings(max_examples=300, deadline=None)
@given(U8, U8, st.binary(max_size=MAX_NOTIFY))
def test_control_request_every_opcode_and_length(op: int, token: int, params: bytes) -> None:
    raw = bytes((Kind.CONTROL, 1, op, token)) + params
    try:
        rec = decode_record(raw)
    except OversizedRecord:
        assert len(raw) > MAX_NOTIFY
        return
    except UnknownRecord:
        assert op not in set(Opcode)
        return
    assert rec == ControlRequest(Opcode(op), token, params)
    assert bytes(rec) == raw


@settings(max_examples=300, deadline=None)
@given(U8, U8, U8, st.binary(max_size=MAX_NOTIFY))
def test_reply_unknown_result_is_kept_as_unknown(
    op: int, token: int, result: int, payload: bytes
) -> None:
    raw = bytes((Kind.REPLY, 1, op, token, result)) + payload
    try:
        rec = decode_record(raw)
    except OversizedRecord:
        assert len(raw) > MAX_NOTIFY
        return
    assert isinstance(rec, ControlReply)
    assert (rec.opcode, rec.token, rec.payload) == (op, token, payload)
    known = result in {int(r) for r in Result if r is not Result.UNKNOWN}
    assert rec.result == (result if known else Result.UNKNOWN)
    in_range(rec)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_log_keeps_any_bytes(text: bytes) -> None:
    rec = decode_record(bytes((Kind.LOG,)) + text)
    assert rec == LogLine(text)
    assert isinstance(rec.text, str)  # invalid UTF-8 is replaced, never raised


@settings(max_examples=300, deadline=None)
@given(U8, U16, U8, U16, U32)
def test_rsc_every_value_is_kept(flags: int, speed: int, cad: int, sl: int, dist: int) -> None:
    raw = struct.pack("<BHB", flags, speed, cad)
    raw += struct.pack("<H", sl) if flags & 1 else b""
    raw += struct.pack("<I", dist) if flags & 2 else b""
    m = RscMeasurement.from_bytes(raw)
    assert (m.speed_mps * 256, m.cadence_spm, m.running) == (speed, cad, bool(flags & 4))
    assert m.stride_length_m == (sl / 100 if flags & 1 else None)
    assert m.total_distance_m == (dist / 10 if flags & 2 else None)
    assert bytes(m) == bytes((flags & 0x07,)) + raw[1:]  # reserved flag bits are not sent on


# --- arbitrary bytes behind a real header ---------------------------------------------


@settings(max_examples=600, deadline=None)
@given(st.sampled_from([int(k) for k in Kind]), st.sampled_from([1, 1, 1, 2]), st.binary())
def test_any_bytes_behind_a_header(kind: int, version: int, body: bytes) -> None:
    raw = bytes((kind, version)) + body
    try:
        rec = decode_record(raw)
    except ProtocolError as e:
        with pytest.raises(type(e)):
            fast_decode(raw)
        return
    in_range(rec)
    assert fast_decode(raw) == rec


# --- in-range values round-trip --------------------------------------------------------


def _maybe_unknown(hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, hi), st.just(UNKNOWN))


def _cue(pattern: Pattern) -> st.SearchStrategy[Cue]:
    timing = st.integers(Cue.MIN_ON_MS, Cue.MAX_ON_MS)
    if pattern != Pattern.PULSE:
        timing = st.one_of(st.just(0), timing)
    return st.builds(Cue, st.just(pattern), st.integers(0, 100), st.integers(1, 10), timing)


RECORDS: st.SearchStrategy[Any] = st.one_of(
    st.builds(StrideEvent, U32, U32, U16, U16, U16, U16.map(StrideFlag)),
    st.builds(
        Status,
        _maybe_unknown(100),
        _maybe_unknown(IMU_STATE_MAX),
        _maybe_unknown(100),
        U8,
        U32,
        U32,
        st.tuples(U8, U8, U8),
        U16,
    ),
    st.sampled_from(list(Pattern)).flatmap(_cue),
    st.builds(
        ControlRequest, st.sampled_from(list(Opcode)), U8, st.binary(max_size=MAX_NOTIFY - 4)
    ),
    st.builds(
        ControlReply, U8, U8, st.sampled_from(list(Result)), st.binary(max_size=MAX_NOTIFY - 5)
    ),
    st.builds(LogLine, st.binary(max_size=63)),
)


@settings(max_examples=500, deadline=None)
@given(RECORDS)
def test_encode_decode_round_trip(rec: Any) -> None:
    raw = bytes(rec)
    assert decode_record(raw) == rec
    assert fast_decode(raw) == rec
    in_range(rec)


@settings(max_examples=300, deadline=None)
@given(
    U16,
    st.integers(0, 1000),
    st.one_of(st.none(), U16),
    st.one_of(st.none(), U32),
    st.booleans(),
)
def test_rsc_round_trip(
    speed: int, cad: int, sl: int | None, dist: int | None, running: bool
) -> None:
    m = RscMeasurement(
        speed / 256,
        cad,
        None if sl is None else sl / 100,
        None if dist is None else dist / 10,
        running,
    )
    back = RscMeasurement.from_bytes(bytes(m))
    assert back == RscMeasurement(
        m.speed_mps, min(cad, 255), m.stride_length_m, m.total_distance_m, running
    )


# --- the decisions, one example each ---------------------------------------------------


def test_a_newer_pods_imu_state_keeps_the_status() -> None:
    raw = bytearray(bytes(Status(80, 0, 5, 1, 0, 42, (0, 2, 0), 3)))
    raw[3] = 4  # an imu_state this host does not know yet
    raw[2] = 180  # a battery reading past 100 %
    raw[4] = 101
    rec = decode_record(bytes(raw))
    assert isinstance(rec, Status)
    assert (rec.battery_pct, rec.imu_state, rec.storage_pct) == (UNKNOWN, UNKNOWN, UNKNOWN)
    assert rec.last_seq == 42  # nothing else in the record is lost


def test_a_newer_pods_result_code_fails_the_request_at_once() -> None:
    rec = decode_record(bytes((Kind.REPLY, 1, Opcode.START, 7, 9, 1, 2)))
    assert rec == ControlReply(Opcode.START, 7, Result.UNKNOWN, b"\x01\x02")


@pytest.mark.parametrize(
    ("pattern", "intensity", "repeat", "duration", "field"),
    [
        (1, 101, 1, 0, "intensity_pct=101"),
        (1, 100, 0, 0, "repeat=0"),
        (1, 100, 11, 0, "repeat=11"),
        (2, 100, 1, 2001, "duration_ms=2001"),
        (2, 100, 1, 19, "duration_ms=19"),
        (4, 100, 1, 0, "duration_ms=0"),
    ],
)
def test_a_cue_the_pod_ignores_is_rejected(
    pattern: int, intensity: int, repeat: int, duration: int, field: str
) -> None:
    raw = struct.pack("<BBBBBH", Kind.CUE, 1, pattern, intensity, repeat, duration)
    with pytest.raises(RecordOutOfRange, match=f"cue record: {field} "):
        decode_record(raw)
    with pytest.raises(ConfigError, match=field):
        Cue(Pattern(pattern), intensity, repeat, duration)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Status(101, 0, 0, 0, 0, 0, (0, 1, 0), 0),
        lambda: Status(80, 4, 0, 0, 0, 0, (0, 1, 0), 0),
        lambda: Status(80, 0, 101, 0, 0, 0, (0, 1, 0), 0),
        lambda: Status(80, 0, 0, 0, 0, 0, (0, 256, 0), 0),
        lambda: StrideEvent(-1, 0, 700, 200, 2400),
        lambda: ControlRequest(Opcode.START, 256),
        lambda: ControlRequest(Opcode.START, 1, bytes(17)),
        lambda: ControlRequest.backfill(1, -1, 5),
        lambda: ControlRequest.set_config(1, ConfigKey.TARGET_CADENCE_SPM, 2**32),
        lambda: ControlRequest.read_session(1, 70000, 0, 1),
        lambda: ControlReply(256, 0, Result.OK),
        lambda: ControlReply(1, 0, Result.OK, bytes(16)),
        lambda: RscMeasurement(-1.0, 180),
        lambda: RscMeasurement(float("nan"), 180),
        lambda: RscMeasurement(256.0, 180),
        lambda: RscMeasurement(3.0, -1),
        lambda: RscMeasurement(3.0, 180, stride_length_m=655.36),
        lambda: RscMeasurement(3.0, 180, total_distance_m=-0.1),
    ],
)
def test_host_built_records_out_of_range_are_config_errors(build: Any) -> None:
    with pytest.raises(ConfigError):
        build()
