"""`stridecue export`: per-stride CSV, and FIT written by garmin-fit-sdk read back by fitdecode."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import fitdecode
import pytest
from stridecue.cli import main
from stridecue.export import COLUMNS, encode_fit
from stridecue.export.fit_file import segments
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
        assert records[-1]["distance"] == pytest.approx(a.distance_m, abs=0.02)
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
        laps = msgs["lap"]
        assert len(laps) == len(segments(a))
        # a lap per rep and per recovery; the coach's lap mark (inside rep 1) splits it in two
        active = [lap for lap in laps if lap["intensity"] == "active"]
        lap_marks = [t for t, text in a.marks if text == "lap"]
        assert len(active) == len(a.reps) + len(lap_marks) == 3
        for rep in a.reps:
            t0 = data.start.timestamp() + rep.start_s
            t1 = data.start.timestamp() + rep.end_s
            inside = [x for x in active if t0 - 1 <= x["start_time"].timestamp() <= t1]
            got = sum(x["total_distance"] for x in inside)
            # the rep ends when slow strides confirm it (3 walking strides of ~1.4 m later;
            # the lap starts one jogging stride before the first fast one)
            assert 0.0 <= got - rep.summary["distance_m"] <= 3 * 1.6 + 1.7
        assert sum(lap["total_distance"] for lap in laps) == pytest.approx(a.distance_m, abs=0.1)
        (sess,) = msgs["session"]
        assert sess["sport"] == "running" and sess["num_laps"] == len(laps)
        assert sess["total_distance"] == pytest.approx(a.distance_m, abs=0.02)
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
