"""`stridecue import-fit`: a running FIT file as a session; bad files are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stridecue.cli import main
from stridecue.export import encode_fit
from stridecue.sessiondata import load
from test_dashboard_data import write_session


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A StrideCue session and its first athlete's FIT export."""
    root = tmp_path_factory.mktemp("s")
    session = write_session(root, athletes=1, reps=2)
    data = load(session)
    fit = root / "ada.fit"
    fit.write_bytes(encode_fit(data, data.athletes[0]))
    return session, fit


def test_round_trip(exported: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    session, fit = exported
    assert main(["import-fit", str(fit), "--athlete", "Ada", "--sessions-dir", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    assert str(folder) in capsys.readouterr().out
    meta = json.loads((folder / "session.json").read_text())
    assert meta["settings"]["source"] == "fit"
    assert meta["settings"]["missing"] == ["stride_timing"]  # the export has stance time
    orig = load(session).athletes[0]
    back = load(folder)
    (a,) = back.athletes
    assert a.name == "Ada"
    # tolerances: strides rebuilt from per-second cadence are within 3 % in number,
    # the distance within 1 % (the records' distance is the reps' one distance)
    assert len(a.strides) == pytest.approx(len(orig.strides), rel=0.03)
    assert a.distance_m == pytest.approx(orig.distance_m, rel=0.01)
    # the FIT's clock is the session's: the same start, strides at the same times
    assert back.start_ns == pytest.approx(load(session).start_ns, abs=1e9)
    assert a.strides[-1].t_s == pytest.approx(orig.strides[-1].t_s, abs=1.5)
    assert all(0.1 < s.contact_time_s < 0.4 for s in a.strides)
    # analysed like any session: the same reps
    assert len(a.reps) == len(orig.reps) == 2
    for r, o in zip(a.reps, orig.reps, strict=True):
        assert r.summary["distance_m"] == pytest.approx(o.summary["distance_m"], rel=0.03)
    # and exported again
    out = tmp_path / "csv"
    assert main(["export", str(folder), "--format", "csv", "-o", str(out)]) == 0


def test_bad_files_are_one_line(exported: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    _session, fit = exported
    blob = fit.read_bytes()
    cases = {
        "notfit.fit": (b"this is not a FIT file at all, just text\n" * 3, "not a FIT file"),
        "cut.fit": (blob[: len(blob) // 2], "truncated or corrupted"),
        "empty.fit": (b"", "not a FIT file"),
    }
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        code = main(["import-fit", str(path), "--sessions-dir", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip()
        assert code != 0, name
        assert words in err and len(err.splitlines()) == 1, (name, err)
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_no_records_and_not_running(tmp_path: Path, capsys) -> None:
    from datetime import UTC, datetime

    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    when = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

    def fit(sport: str, records: int) -> bytes:
        enc = Encoder()
        enc.write_mesg({"mesg_num": mesg["FILE_ID"], "type": "activity",
                        "manufacturer": "development", "time_created": when})  # fmt: skip
        for k in range(records):
            enc.write_mesg({"mesg_num": mesg["RECORD"], "timestamp": when, "cadence": 0,
                            "distance": float(k)})  # fmt: skip
        enc.write_mesg({"mesg_num": mesg["SESSION"], "timestamp": when, "start_time": when,
                        "sport": sport})  # fmt: skip
        return enc.close()

    for name, data, words in (
        ("none.fit", fit("running", 0), "no records"),
        ("bike.fit", fit("cycling", 5), "not running"),
        ("still.fit", fit("running", 5), "no running cadence"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        assert main(["import-fit", str(path), "--sessions-dir", str(tmp_path / "o")]) != 0
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, (name, err)
