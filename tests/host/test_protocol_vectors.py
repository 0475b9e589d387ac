"""Host encoder/decoder against the golden vectors shared with the firmware tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from stridecue.errors import ConfigError, ProtocolError
from stridecue.protocol import (
    ControlReply,
    ControlRequest,
    Cue,
    LogLine,
    RscMeasurement,
    Status,
    StrideEvent,
    StrideFlag,
    crc16,
    decode_record,
    encode_frame,
)
from stridecue.protocol.framing import decode_frame
from stridecue.protocol.records import (
    BondAddress,
    BondEntry,
    ConfigKey,
    Opcode,
    Pattern,
    PodCoach,
    Result,
    SessionFlag,
    StoredSession,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "records.json").read_text()
)["vectors"]


def of(kind: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["type"] == kind]


def raw(v: dict[str, Any]) -> bytes:
    return bytes.fromhex(v["hex"])


def ids(vs: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vs]


def build(v: dict[str, Any]) -> object:
    f = v["fields"]
    match v["type"]:
        case "stride":
            return StrideEvent(
                f["seq"],
                f["t_contact_ms"],
                f["stride_time_ms"],
                f["contact_time_ms"],
                f["stride_length_mm"],
                StrideFlag(f["flags"]),
            )
        case "status":
            return Status(
                f["battery_pct"],
                f["imu_state"],
                f["storage_pct"],
                f["state"],
                f["dropped_samples"],
                f["last_seq"],
                tuple(f["firmware"]),
                f["uptime_min"],
                PodCoach(f.get("coach", 0)),
            )
        case "cue":
            return Cue(Pattern(f["pattern"]), f["intensity_pct"], f["repeat"], f["duration_ms"])
        case "control":
            return ControlRequest(Opcode(f["opcode"]), f["token"], bytes.fromhex(f["params"]))
        case "reply":
            return ControlReply(
                f["opcode"], f["token"], Result(f["result"]), bytes.fromhex(f["payload"])
            )
        case "rsc":
            return RscMeasurement(**f)
        case "log":
            return LogLine.of(f["text"])
    raise AssertionError(v["type"])


RECORDS = [
    v for v in VECTORS if v["type"] in {"stride", "status", "cue", "control", "reply", "log"}
]


@pytest.mark.parametrize("v", RECORDS, ids=ids(RECORDS))
def test_record_decodes_to_fields_and_encodes_back(v: dict[str, Any]) -> None:
    want = build(v)
    assert decode_record(raw(v)) == want
    assert bytes(want) == raw(v)  # type: ignore[call-overload]


@pytest.mark.parametrize("v", of("rsc"), ids=ids(of("rsc")))
def test_rsc_vectors(v: dict[str, Any]) -> None:
    m = RscMeasurement.from_bytes(raw(v))
    assert m == build(v)
    assert bytes(m) == raw(v)


def test_rsc_example_from_the_spec() -> None:
    m = RscMeasurement.from_bytes(bytes.fromhex("03 00 03 B4 78 00 39 30 00 00"))
    assert (m.speed_mps, m.cadence_spm, m.stride_length_m, m.total_distance_m) == (
        3.0,
        180,
        1.2,
        1234.5,
    )


@pytest.mark.parametrize("v", of("frame"), ids=ids(of("frame")))
def test_frame_vectors(v: dict[str, Any]) -> None:
    rec = bytes.fromhex(v["fields"]["record"])
    assert encode_frame(rec) == raw(v)
    assert decode_frame(raw(v)[:-1]) == rec


def test_crc_check_value() -> None:
    (v,) = of("crc16")
    assert crc16(v["fields"]["ascii"].encode()) == v["fields"]["crc"]
    assert crc16(v["fields"]["ascii"].encode()).to_bytes(2, "little") == raw(v)


def test_stride_event_units() -> None:
    (v, *_) = of("stride")
    s = StrideEvent.from_bytes(raw(v))
    assert s.stride_time_s == 0.72
    assert s.stride_length_m == 2.45
    assert s.cadence_spm == pytest.approx(166.67, abs=0.01)


def test_store_and_forward_vectors() -> None:
    """The requests ``stridecue pod sync`` and ``pod config`` build, and the replies they read."""
    by = {v["name"]: raw(v) for v in VECTORS}
    assert bytes(ControlRequest.list_sessions(20, 0)) == by["control_list_sessions"]
    assert bytes(ControlRequest.session_info(21, 3)) == by["control_session_info"]
    assert bytes(ControlRequest.mark_synced(22, 3, 5)) == by["control_mark_synced"]
    rest = ControlRequest.set_config(23, ConfigKey.REST_STOP_S, 60)
    assert bytes(rest) == by["control_set_rest_stop"]
    pacer = ControlRequest.set_config(24, ConfigKey.PACER_SPM, 180)
    assert bytes(pacer) == by["control_set_pacer"]
    plan = ControlRequest.set_config(25, ConfigKey.PLAN_100_MS, 11500)
    assert bytes(plan) == by["control_set_split_plan_100"]
    listed = decode_record(by["reply_list_sessions_auto"])
    assert isinstance(listed, ControlReply)
    s = StoredSession.from_list_reply(listed.payload)
    assert s == StoredSession(1, 0, 4, SessionFlag.AUTO) and s.waiting and s.first_seq is None
    info = decode_record(by["reply_session_info"])
    assert isinstance(info, ControlReply)
    s = StoredSession.from_info_reply(info.payload)
    assert s == StoredSession(3, 1700000090, 5, SessionFlag.AUTO, first_seq=7)
    done = decode_record(by["reply_mark_synced"])
    assert isinstance(done, ControlReply) and done.result is Result.OK


def test_bond_requests_and_the_list_reply_match_the_vectors() -> None:
    vec = {v["name"]: raw(v) for v in VECTORS}
    pi = BondAddress(0, "D8:3A:DD:12:34:56")
    assert bytes(ControlRequest.list_bonds(33, 0)) == vec["control_list_bonds"]
    assert bytes(ControlRequest.forget_bond(34, pi)) == vec["control_forget_bond"]
    assert bytes(ControlRequest.forget_bond(35, None)) == vec["control_forget_all_bonds"]
    reply = decode_record(vec["reply_list_bonds"])
    assert isinstance(reply, ControlReply)
    assert BondEntry.from_payload(reply.payload) == BondEntry(0, 2, pi)
    with pytest.raises(ConfigError, match="six hex bytes"):
        BondAddress(0, "D8:3A:DD:12:34")
    with pytest.raises(ProtocolError):
        BondEntry.from_payload(reply.payload[:-1])


def test_the_status_coach_byte_with_and_without_a_coach() -> None:
    by = {v["name"]: raw(v) for v in VECTORS}
    old = decode_record(by["status_streaming"])  # a pod from before the byte: 0
    assert isinstance(old, Status) and old.coach == PodCoach(0) and not old.coach
    rec = decode_record(by["status_pod_coach_behind_plan"])
    assert isinstance(rec, Status)
    assert rec.coach == (
        PodCoach.ACTIVE | PodCoach.IN_REP | PodCoach.BEHIND | PodCoach.PACER | PodCoach.PLAN
    )
    assert PodCoach.PACING not in rec.coach  # a pacer, quiet: rhythm held
    newer = bytearray(by["status_pod_coach_behind_plan"])
    newer[17] |= 0x80  # a bit a newer pod may add: kept, the rest still read
    again = decode_record(bytes(newer))
    assert isinstance(again, Status) and int(again.coach) == 0xBD and bytes(again) == newer
