"""`stridecue export`: per-stride CSV, and FIT written by garmin-fit-sdk read back by fitdecode."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import fitdecode
import pytest
from garmin_fit_sdk import Decoder, Stream
from stridecue.analysis import AnalyzerSettings
from stridecue.cli import main
from stridecue.export import COLUMNS, encode_fit, fit_parts
from stridecue.report import load
from test_dashboard_data import write_session


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_session(tmp_path_factory.mktemp("s"), athletes=2, reps=2)


def _decode(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every data message by name, decoded by fitdecode (an independent reader) with CRC checks."""
    out: dict[str, list[dict[str, Any]]] = {}
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                out.setdefault(frame.name, []).append({f.name: f.value for f in frame.fields})
    return out


def test_csv_has_every_stride(session: Path, tmp_path: Path) -> None:
    assert main(["export", str(session), "--format", "csv", "-o", str(tmp_path)]) == 0
    data = load(session)
    for a in data.athletes:
        with (tmp_path / f"practice-{a.name}.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert tuple(rows[0]) == COLUMNS
        assert len(rows) == len(a.strides)
        assert [int(r["seq"]) for r in rows] == [s.seq for s in a.strides]
        assert float(rows[-1]["distance_m"]) == pytest.approx(a.distance_m, abs=0.01)
        for r, s in zip(rows, a.strides, strict=True):
            assert float(r["cadence_spm"]) == pytest.approx(120 / s.stride_time_s, abs=0.06)
            assert float(r["speed_mps"]) == pytest.approx(
                s.stride_length_m / s.stride_time_s, abs=1e-3
            )
        in_reps = {int(r["rep"]) for r in rows if r["rep"]}
        assert in_reps == {1, 2}
        # strides of the warm-up jog belong to no rep
        assert rows[5]["rep"] == ""


def test_fit_decodes_with_an_independent_reader(session: Path, tmp_path: Path) -> None:
    assert main(["export", str(session), "--format", "fit", "-o", str(tmp_path)]) == 0
    data = load(session)
    for a in data.athletes:
        msgs = _decode(tmp_path / f"practice-{a.name}.fit")
        assert msgs["file_id"][0]["type"] == "activity"
        records = msgs["record"]
        seconds = {math.floor(s.t_s) for s in a.strides}
        assert len(records) == len(seconds)
        laps = msgs["lap"]
        # records, laps and session agree on one distance: each rep's is its summary's
        one = sum(lap["total_distance"] for lap in laps)
        assert records[-1]["distance"] == pytest.approx(one, abs=0.05)
        assert one == pytest.approx(a.distance_m, rel=0.01)
        dist = [r["distance"] for r in records]
        assert dist == sorted(dist)
        # FIT cadence counts one foot's strides a minute: half the steps/min
        mid = records[len(records) // 2]
        cadence = mid["cadence"] + mid["fractional_cadence"]
        near = [s for s in a.strides if math.floor(s.t_s) + 1 == mid["timestamp"].timestamp()
                - data.start.timestamp()]  # fmt: skip
        assert cadence == pytest.approx(
            60 * len(near) / sum(s.stride_time_s for s in near), abs=0.01
        )
        assert 0 < mid["step_length"] < 2000 and 0 < mid["stance_time"] < 400
        assert len(laps) == len(fit_parts.laps(a))
        # a lap per 100 m split inside each rep (the last holds what is left), a rest lap
        # per recovery; the coach's lap mark inside rep 1 is an event, not a lap
        active = [lap for lap in laps if lap["intensity"] == "active"]
        assert len(active) == sum(len(r.splits_s) + 1 for r in a.reps)
        for rep in a.reps:
            t0 = data.start.timestamp() + rep.start_s
            t1 = data.start.timestamp() + rep.end_s
            inside = [x for x in active if t0 - 1 <= x["start_time"].timestamp() <= t1]
            assert len(inside) == len(rep.splits_s) + 1
            assert [x["total_distance"] for x in inside[:-1]] == [100.0] * len(rep.splits_s)
            assert [x["lap_trigger"] for x in inside[:-1]] == ["distance"] * len(rep.splits_s)
            got = sum(x["total_distance"] for x in inside)
            assert got == pytest.approx(rep.summary["distance_m"], abs=0.02)
        (sess,) = msgs["session"]
        assert sess["sport"] == "running" and sess["num_laps"] == len(laps)
        assert sess["total_distance"] == pytest.approx(one, abs=0.02)
        assert msgs["activity"][0]["num_sessions"] == 1


def test_fit_of_athlete_without_strides_is_refused(session: Path) -> None:
    data = load(session)
    empty = data.athletes[0]
    empty = type(empty)(empty.pod, empty.name)
    with pytest.raises(ValueError, match="no strides"):
        encode_fit(data, empty)


def test_export_unknown_athlete_is_a_clear_error(session: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(session), "--athlete", "Zed", "-o", str(tmp_path)])
    assert code == 2
    assert "no athlete 'Zed'" in capsys.readouterr().err


def _garmin(blob: bytes) -> dict[str, list[dict[str, Any]]]:
    """Every message decoded by Garmin's own FIT SDK decoder, integrity (CRC) checked."""
    decoder = Decoder(Stream.from_byte_array(bytearray(blob)))
    assert decoder.is_fit() and decoder.check_integrity()
    decoder = Decoder(Stream.from_byte_array(bytearray(blob)))
    messages, errors = decoder.read()
    assert errors == []
    return messages


def test_fit_is_complete_for_both_decoders(session: Path, tmp_path: Path) -> None:
    """The pod as device_info, alerts and cues as events, each rep a split; both decoders."""
    data = load(session)
    a = data.athletes[0]
    path = tmp_path / "a.fit"
    path.write_bytes(encode_fit(data, a))
    g = _garmin(path.read_bytes())
    f = _decode(path)
    for msgs, name in ((g, "device_info_mesgs"), (f, "device_info")):
        pod = [d for d in msgs[name] if d.get("device_index") == 1]
        assert len(pod) == 1
        (pod_info,) = pod
        assert pod_info["manufacturer"] == "development"
        assert pod_info["product_name"] == "StrideCue-0000"
        assert pod_info["descriptor"] == a.pod
        assert pod_info["serial_number"] == fit_parts.serial_number(a.pod)
        assert pod_info["software_version"] == pytest.approx(1.0)
        assert pod_info["battery_level"] == a.battery_pct == 90
    markers = [e for e in g["event_mesgs"] if e["event_type"] == "marker"]
    user = [e["data"] for e in markers if e["event"] == "user_marker"]
    codes = fit_parts.MARKER_CODES
    assert user.count(codes["cue_pulse"]) == len(a.cues) == 1
    alerts = [codes[e.kind] for e in a.alerts]
    assert sorted(x for x in user if x < 10) == sorted(alerts) and alerts
    # the coach's lap mark fell inside rep 1: an event, since the rep's laps are its splits
    assert [e["event"] for e in markers].count("lap") == 1
    fd_markers = [e for e in f["event"] if e["event_type"] == "marker"]
    assert len(fd_markers) == len(markers)
    splits = g["split_mesgs"]
    assert [s["split_type"] for s in splits] == ["interval_active"] * len(a.reps)
    for s, rep in zip(splits, a.reps, strict=True):
        assert s["total_distance"] == pytest.approx(rep.summary["distance_m"], abs=0.02)
    assert len(g["lap_mesgs"]) == len(f["lap"]) == len(fit_parts.laps(a))
    # FIT cadence is strides a minute (one foot), StrideCue's steps a minute: half
    (sess,) = g["session_mesgs"]
    spm = 120.0 * len(a.strides) / sum(s.stride_time_s for s in a.strides)
    assert sess["avg_cadence"] == int(spm / 2)


def test_fit_laps_use_the_reps_one_distance(session: Path) -> None:
    """With a told rep distance the laps of a rep add up to it, not to the strides' sum."""
    data = load(session, AnalyzerSettings(rep_distance_m=210.0))
    a = data.athletes[0]
    assert all(r.summary["distance_m"] == pytest.approx(210.0, abs=0.1) for r in a.reps)
    g = _garmin(encode_fit(data, a))
    for rep in a.reps:
        laps = [x for x in fit_parts.laps(a) if x.rep == rep.index]
        assert sum(x.distance_m for x in laps) == pytest.approx(210.0, abs=0.1)
    active = [lap for lap in g["lap_mesgs"] if lap["intensity"] == "active"]
    assert sum(lap["total_distance"] for lap in active) == pytest.approx(420.0, abs=0.2)
    assert g["record_mesgs"][-1]["distance"] == pytest.approx(
        g["session_mesgs"][0]["total_distance"], abs=0.05
    )
