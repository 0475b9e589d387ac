"""Bad input on the host decoder: a specific exception or a counted drop, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stridecue.errors import (
    BadCrc,
    BadFraming,
    ConfigError,
    OversizedRecord,
    ProtocolError,
    TruncatedRecord,
    UnknownRecord,
)
from stridecue.protocol import Cue, FrameDecoder, RscMeasurement, StrideEvent, decode_record
from stridecue.protocol.framing import cobs_decode, cobs_encode, decode_frame, encode_frame
from stridecue.protocol.records import Pattern

GOOD = bytes(StrideEvent(7, 1000, 700, 200, 2400))


def test_truncated_record() -> None:
    with pytest.raises(TruncatedRecord, match="need 18"):
        decode_record(GOOD[:-1])


def test_oversized_record() -> None:
    with pytest.raises(OversizedRecord):
        decode_record(GOOD + b"\x00")


def test_unknown_version_says_how_to_fix() -> None:
    with pytest.raises(UnknownRecord, match="update the pod firmware"):
        decode_record(GOOD[:1] + b"\x02" + GOOD[2:])


def test_unknown_kind() -> None:
    with pytest.raises(UnknownRecord, match="kind 0x66"):
        decode_record(b"\x66\x01")


def test_empty() -> None:
    with pytest.raises(TruncatedRecord):
        decode_record(b"")


def test_bad_crc() -> None:
    frame = bytearray(encode_frame(GOOD))
    frame[3] ^= 0x01
    with pytest.raises((BadCrc, BadFraming)):
        decode_frame(bytes(frame[:-1]))
    frame = bytearray(encode_frame(b"\x7fhello"))
    frame[2] ^= 0x01  # 'h' -> 'i': a data byte, so COBS is intact and only the CRC fails
    with pytest.raises(BadCrc):
        decode_frame(bytes(frame[:-1]))


def test_out_of_range_fields_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"intensity_pct=101 .* 0\.\.100"):
        Cue(Pattern.RHYTHM, intensity_pct=101)
    with pytest.raises(ConfigError, match="stride_length_mm"):
        StrideEvent(1, 0, 700, 200, 70000)


def test_garbage_between_frames_is_counted_and_skipped() -> None:
    dec = FrameDecoder()
    stream = b"noise" + b"\x00" + encode_frame(GOOD) + b"\xff\xfe\x00" + encode_frame(GOOD)
    got = list(dec.feed(stream))
    assert got == [GOOD, GOOD]
    assert sum(dec.drops.values()) == 2


def test_oversized_frame_is_dropped_and_stream_recovers() -> None:
    dec = FrameDecoder()
    got = list(dec.feed(b"\x01" * 500 + b"\x00" + encode_frame(GOOD)))
    assert got == [GOOD]
    assert dec.drops["oversized"] == 1


def test_truncated_tail_is_held_not_emitted() -> None:
    dec = FrameDecoder()
    frame = encode_frame(GOOD)
    assert list(dec.feed(frame[:-4])) == []
    assert dec.pending == len(frame) - 4


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40))
def test_fuzz_decode_record_never_crashes(data: bytes) -> None:
    try:
        rec = decode_record(data)
    except ProtocolError:
        return
    # a record that decodes re-encodes to bytes that decode the same (a status field it
    # cannot read is kept as UNKNOWN: tests/host/test_protocol_ranges.py)
    assert decode_record(bytes(rec)) == rec


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=24))
def test_fuzz_rsc_never_crashes(data: bytes) -> None:
    try:
        m = RscMeasurement.from_bytes(data)
    except ProtocolError:
        return
    assert m.cadence_spm == data[3]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.binary(min_size=1, max_size=64), st.just(GOOD)), max_size=12), st.binary()
)
def test_fuzz_stream_with_noise(records: list[bytes], noise: bytes) -> None:
    # noise closed by a delimiter never hides or alters the good frame after it
    dec = FrameDecoder()
    for r in records:
        list(dec.feed(noise + b"\x00"))
        assert list(dec.feed(encode_frame(r))) == [r]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_cobs_round_trip(data: bytes) -> None:
    enc = cobs_encode(data)
    assert 0 not in enc
    assert cobs_decode(enc) == data
