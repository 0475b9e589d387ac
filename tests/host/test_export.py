"""`stridecue export`: per-stride CSV, and FIT written by garmin-fit-sdk read back by fitdecode."""

from __future__ import annotations

import csv
import errno
import json
import math
import os
from pathlib import Path
from typing import Any

import fitdecode
import pytest
from garmin_fit_sdk import Decoder, Stream
from stridecue.analysis import AnalyzerSettings
from stridecue.cli import main
from stridecue.export import COLUMNS, encode_fit, fit_parts
from stridecue.links import Channel, PodInfo
from stridecue.protocol import StrideEvent
from stridecue.recorder import Recorder
from stridecue.report import load
from stridecue.session import MAGIC, encode_stored
from test_bad_files_cli import refused
from test_dashboard_data import START_NS, write_session


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


# --- what an export cannot hold: said in one line, nothing else lost ----------------------

IMPOSSIBLE = [  # (stride_time_ms, contact_time_ms, stride_length_mm): no foot makes these
    (0, 0, 1500),  # no stride time: FIT cadence and speed would divide by zero
    (50, 10, 1500),  # 2400 steps/min
    (800, 250, 60_000),  # a 60 m stride
    (800, 900, 1500),  # contact longer than the stride
]


def _with_impossible_strides(tmp_path: Path) -> Path:
    path = write_session(tmp_path, athletes=2, reps=1)
    with (path / "pods" / "pod-ada.scf").open("ab") as f:
        for k, (st_ms, ct_ms, sl_mm) in enumerate(IMPOSSIBLE):
            stride = StrideEvent(900 + k, 200_000 + k * 900, st_ms, ct_ms, sl_mm)
            f.write(encode_stored(Channel.POD, START_NS + (200 + k) * 10**9, bytes(stride)))
    return path


def test_impossible_strides_are_left_out_and_counted(tmp_path: Path, capsys) -> None:
    path = _with_impossible_strides(tmp_path)
    ada = load(path).athlete("Ada")
    assert {s.seq for s in ada.strides} >= {900, 901, 902, 903}  # stored, analysed as live
    for fmt in ("csv", "fit"):
        assert main(["export", str(path), "--format", fmt, "-o", str(tmp_path / fmt)]) == 0
        out = capsys.readouterr().out
        assert f"Ada: {len(ada.strides) - 4} strides (4 impossible left out)" in out
    with (tmp_path / "csv" / "practice-Ada.csv").open() as f:
        seqs = {int(r["seq"]) for r in csv.DictReader(f)}
    assert seqs.isdisjoint({900, 901, 902, 903}) and len(seqs) == len(ada.strides) - 4
    msgs = _decode(tmp_path / "fit" / "practice-Ada.fit")
    assert (
        max(r["speed"] for r in msgs["record"]) < 12
        and max(r["cadence"] for r in msgs["record"]) < 130
    )


def test_fit_of_any_stride_never_divides_by_zero(tmp_path: Path) -> None:
    path = _with_impossible_strides(tmp_path)
    data = load(path)
    ada = data.athlete("Ada")  # every stride, the impossible ones too: clamped, not wrapped
    fit = tmp_path / "all.fit"
    fit.write_bytes(encode_fit(data, ada))
    msgs = _decode(fit)
    assert all(0 <= r["speed"] <= 65.534 for r in msgs["record"])
    assert all(r["cadence"] <= 254 for r in msgs["record"])


def _empty(tmp_path: Path, pods: int) -> Path:
    with Recorder(tmp_path / "empty", athletes={"p1": "Ada"}) as rec:
        for k in range(pods):
            rec.add_pod(PodInfo(pod=f"p{k + 1}"))
    return tmp_path / "empty"


@pytest.mark.parametrize("pods", [0, 1])
@pytest.mark.parametrize("fmt", ["csv", "fit"])
def test_export_of_a_session_without_strides_says_so(
    tmp_path: Path, capsys, pods: int, fmt: str
) -> None:
    path = _empty(tmp_path, pods)
    out = tmp_path / "out"
    err = refused(capsys, ["export", str(path), "--format", fmt, "-o", str(out)], path, "no")
    assert err == f"stridecue export: error: no strides recorded in {path}: nothing to export\n"
    assert not out.exists()


def test_export_of_only_impossible_strides_says_so(tmp_path: Path, capsys) -> None:
    path = _with_impossible_strides(tmp_path)
    (path / "pods" / "pod-ben.scf").unlink()
    with (path / "pods" / "pod-ada.scf").open("r+b") as f:  # keep only the impossible ones
        data = f.read()
        tail = data[len(data) - sum(12 + 18 + 4 for _ in IMPOSSIBLE) :]
        f.seek(0)
        f.truncate()
        f.write(MAGIC + tail)
    says = "all 4 strides recorded are impossible (stride time 0.2..5 s, length up to 5.5 m"
    refused(capsys, ["export", str(path), "-o", str(tmp_path / "o")], path, says)


def test_fit_refuses_dates_it_cannot_hold(tmp_path: Path, capsys) -> None:
    path = write_session(tmp_path, athletes=1, reps=1)
    meta = json.loads((path / "session.json").read_text())
    meta["start_ns"] = 0  # a host without a clock (a Raspberry Pi offline) counts from 1970
    meta["pods"]["pod-ada"]["clock_offset_ms"] = 1000.0
    (path / "session.json").write_text(json.dumps(meta))
    says = "Ada's strides fall on 1970-01-01, outside the dates a FIT file holds (1998-07-03"
    refused(capsys, ["export", str(path), "--format", "fit", "-o", str(tmp_path / "o")], path, says)
    assert main(["export", str(path), "--format", "csv", "-o", str(tmp_path / "o")]) == 0


def test_export_on_a_read_only_disk(session: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kw: Any) -> None:
        if self.is_relative_to(session):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_mkdir(self, *args, **kw)

    inside_a_file = session / "session.json" / "out"
    argv = ["export", str(session), "-o", str(inside_a_file)]
    refused(capsys, argv, inside_a_file, "Not a directory; export elsewhere with -o DIR")
    monkeypatch.setattr(Path, "mkdir", mkdir)
    says = "Read-only file system; export elsewhere with -o DIR"
    refused(capsys, ["export", str(session)], session / "export", says)


def test_a_failed_write_keeps_the_export_before(session: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "practice-Ada.csv").write_text("the export before\n")

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)  # the new file is written, then cannot be kept
    assert main(["export", str(session), "-o", str(tmp_path)]) == 2
    assert (tmp_path / "practice-Ada.csv").read_text() == "the export before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["practice-Ada.csv"]  # no half file left


def test_athletes_of_one_name_keep_their_own_files(tmp_path: Path, capsys) -> None:
    path = write_session(tmp_path, athletes=2, reps=1)
    meta = json.loads((path / "session.json").read_text())
    meta["athletes"] = {"pod-ada": '=HYPERLINK("http://x")', "pod-ben": '=HYPERLINK("http://x")'}
    (path / "session.json").write_text(json.dumps(meta))
    assert main(["export", str(path), "-o", str(tmp_path / "o")]) == 0
    files = sorted((tmp_path / "o").iterdir())
    names = ["practice-HYPERLINK-http-x-pod-ben.csv", "practice-HYPERLINK-http-x.csv"]
    assert [f.name for f in files] == names
    for f in files:
        with f.open() as fh:
            row = next(csv.DictReader(fh))
        assert row["athlete"] == '\'=HYPERLINK("http://x")'  # text, not a formula


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
