# Firmware encoders/decoders against the golden vectors (tests/vectors/records.json).
# Runs on the MicroPython unix port and on CPython.
import json

from stridepod import framing, proto

with open("tests/vectors/records.json") as f:
    VECTORS = json.load(f)["vectors"]


def _vectors(kind):
    out = [v for v in VECTORS if v["type"] == kind]
    assert out, "no vectors of type " + kind
    return out


def _hex(v):
    return bytes.fromhex(v["hex"].replace(" ", ""))


def _encode_stride(buf, f, flags):
    # the stride record of a vector's fields, with these flags
    return proto.encode_stride(
        buf,
        f["seq"],
        f["t_contact_ms"],
        f["stride_time_ms"],
        f["contact_time_ms"],
        f["stride_length_mm"],
        flags,
    )


def test_stride_encoder_matches_vectors():
    buf = bytearray(proto.STRIDE_SIZE)
    for v in _vectors("stride"):
        n = _encode_stride(buf, v["fields"], v["fields"]["flags"])
        assert bytes(buf[:n]) == _hex(v), v["name"]


def test_backfill_flag_is_added_in_place():
    # a stored stride sent again: the pod adds F_BACKFILLED to the stored record
    buf = bytearray(proto.STRIDE_SIZE)
    for v in _vectors("stride"):
        f = v["fields"]
        if not f["flags"] & proto.F_BACKFILLED:
            continue
        _encode_stride(buf, f, f["flags"] & ~proto.F_BACKFILLED)  # as stored
        proto.add_stride_flags(buf, proto.F_BACKFILLED)
        assert bytes(buf) == _hex(v), v["name"]
    proto.encode_stride(buf, 5, 100, 700, 200, 2000, proto.F_ACC_SAT)
    proto.add_stride_flags(buf, proto.F_BACKFILLED)
    proto.add_stride_flags(buf, proto.F_BACKFILLED)  # twice: still set once
    assert buf[16] == 0x09 and buf[17] == 0


def test_status_encoder_matches_vectors():
    buf = bytearray(proto.STATUS_SIZE)
    for v in _vectors("status"):
        f = v["fields"]
        n = proto.encode_status(
            buf,
            f["battery_pct"],
            f["imu_state"],
            f["storage_pct"],
            f["state"],
            f["dropped_samples"],
            f["last_seq"],
            f["firmware"],
            f["uptime_min"] * 60,
            f.get("coach", 0),
        )
        assert bytes(buf[:n]) == _hex(v), v["name"]


def test_cue_round_trip_matches_vectors():
    buf = bytearray(proto.CUE_SIZE)
    for v in _vectors("cue"):
        f = v["fields"]
        n = proto.encode_cue(buf, f["pattern"], f["intensity_pct"], f["repeat"], f["duration_ms"])
        assert bytes(buf[:n]) == _hex(v), v["name"]
        got = proto.decode_cue(_hex(v))
        want = (f["pattern"], f["intensity_pct"], f["repeat"], f["duration_ms"])
        assert tuple(got) == want, v["name"]


def test_cue_decoder_rejects_malformed():
    good = _hex(_vectors("cue")[0])
    assert proto.decode_cue(good[:-1]) is None
    assert proto.decode_cue(good + b"\x00") is None
    assert proto.decode_cue(b"\x04" + good[1:]) is None
    assert proto.decode_cue(good[:1] + b"\x09" + good[2:]) is None


def test_control_header_matches_vectors():
    for v in _vectors("control"):
        f = v["fields"]
        assert proto.control_header(_hex(v)) == (f["opcode"], f["token"], proto.R_OK), v["name"]
    assert proto.control_header(b"\x04\x01\x03")[2] == proto.R_BAD_LENGTH
    assert proto.control_header(b"\x04\x02\x03\x01")[2] == proto.R_BAD_VERSION
    assert proto.control_header(b"")[2] == proto.R_BAD_LENGTH


def test_reply_encoder_matches_vectors():
    buf = bytearray(proto.REPLY_MAX)
    for v in _vectors("reply"):
        f = v["fields"]
        payload = bytes.fromhex(f["payload"])
        # the pod packs the payload in place, then encodes the header around it
        h = proto.REPLY_HEADER
        buf[h : h + len(payload)] = payload
        n = proto.encode_reply(buf, f["opcode"], f["token"], f["result"], len(payload))
        assert bytes(buf[:n]) == _hex(v), v["name"]


def test_rsc_encoder_matches_vectors():
    buf = bytearray(proto.RSC_SIZE)
    for v in _vectors("rsc"):
        f = v["fields"]
        n = proto.encode_rsc(
            buf,
            int(f["speed_mps"] * 256 + 0.5),
            f["cadence_spm"],
            int(f["stride_length_m"] * 100 + 0.5),
            int(f["total_distance_m"] * 10 + 0.5),
            f["running"],
        )
        assert bytes(buf[:n]) == _hex(v), v["name"]


def test_log_encoder_matches_vector():
    v = _vectors("log")[0]
    buf = bytearray(32)
    n = proto.encode_log(buf, v["fields"]["text"])
    assert bytes(buf[:n]) == _hex(v)


def test_crc_check_value():
    v = _vectors("crc16")[0]
    data = v["fields"]["ascii"].encode()
    assert framing.crc16(data, len(data)) == v["fields"]["crc"]


def test_frames_match_vectors_and_deframe():
    got = []
    d = framing.Deframer(lambda b, n: got.append(bytes(b[:n])))
    out = bytearray(80)
    for v in _vectors("frame"):
        rec = bytes.fromhex(v["fields"]["record"])
        n = framing.encode(rec, len(rec), out)
        assert bytes(out[:n]) == _hex(v), v["name"]
        d.feed(_hex(v))
        assert got[-1] == rec, v["name"]


def test_deframer_counts_and_survives_bad_frames():
    got = []
    d = framing.Deframer(lambda b, n: got.append(bytes(b[:n])))
    frame = _hex(_vectors("frame")[0])
    corrupt = bytearray(frame)
    corrupt[7] ^= 0x40  # a data byte (0x39), not a COBS code
    d.feed(bytes(corrupt))
    d.feed(b"\x05\x01\x00")  # COBS code past the end of the frame
    d.feed(b"\x11" * 200 + b"\x00")  # far longer than any record
    d.feed(frame)
    assert (d.bad_crc, d.bad_cobs, d.oversized) == (1, 1, 1)
    assert len(got) == 1
