"""A session of a third-party foot pod (a Stryd, a Polar Stride: RSC measurements only).

The strides are rebuilt from the pod's speed and cadence once a second, as the live
pipeline does, then analysed, reported and exported like a StrideCue pod's, each view
saying what is missing (contact time) and why.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import fitdecode
import pytest
from stridecue.cli import main
from stridecue.links.base import Channel, PodInfo, Received
from stridecue.protocol import RscMeasurement
from stridecue.recorder import Recorder
from stridecue.sessiondata import RSC_NOTE, load
from test_dashboard_data import START_NS, practice, strides_of

POD = "F1:22:33:44:55:66"


def write_rsc_session(root: Path, *, reps: int = 2, label: str = "stryd") -> Path:
    """A practice recorded from an RSC-only pod: one measurement a second."""
    path = root / label
    rec = Recorder(path, athletes={POD: "Rita"}, settings={"test": True})
    rec.meta["start_ns"] = START_NS
    rec.add_pod(PodInfo(pod=POD, name="Stryd", rsc_only=True), link="ble", athlete="Rita")
    strides = strides_of(practice(reps, 200.0, speed_mps=5.5), seed=3)
    distance = 0.0
    k = 0
    last_s = math.floor(strides[-1][0] / 1000.0)
    for sec in range(1, last_s + 1):
        # the stride in progress at this second: its cadence and speed
        while k < len(strides) - 1 and strides[k][0] / 1000.0 < sec:
            distance += strides[k][3] / 1000.0
            k += 1
        _t, st, _ct, sl = strides[k]
        m = RscMeasurement(
            speed_mps=round(sl / st, 2),
            cadence_spm=round(120_000 / st),
            total_distance_m=round(distance, 1),
            running=True,
        )
        host_ns = START_NS + sec * 10**9
        rec.write(Received(POD, host_ns, Channel.RSC, bytes(m), m))
    rec.close()
    return path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rsc_session(tmp_path_factory.mktemp("rsc"))


def test_strides_are_rebuilt_and_analysed(session: Path) -> None:
    data = load(session)
    (a,) = data.athletes
    assert a.rsc_only
    true = strides_of(practice(2, 200.0, speed_mps=5.5), seed=3)
    # every stride made is handed out once (fractions carry over): within a couple
    assert abs(len(a.strides) - len(true)) <= 4
    assert a.distance_m == pytest.approx(sum(s[3] for s in true) / 1000.0, rel=0.03)
    assert all(s.contact_time_s == 0 for s in a.strides)
    assert [s.seq for s in a.strides] == list(range(len(a.strides)))
    assert len(a.reps) == 2  # the same analyzer finds the reps
    for r in a.reps:
        assert r.summary["distance_m"] == pytest.approx(200.0, abs=15.0)
        assert r.summary.get("mean_contact_time_s") is None


def test_report_says_what_is_missing(session: Path, tmp_path: Path) -> None:
    assert main(["report", str(session), "-o", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert "No strides recorded" not in page
    assert RSC_NOTE in page


def test_csv_leaves_contact_empty(session: Path, tmp_path: Path) -> None:
    assert main(["export", str(session), "--format", "csv", "-o", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(load(session).athletes[0].strides)
    assert {r["contact_time_s"] for r in rows} == {""}
    assert {r["rep"] for r in rows} >= {"1", "2"}


def test_fit_has_no_stance_time(session: Path, tmp_path: Path) -> None:
    assert main(["export", str(session), "--format", "fit", "-o", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.fit")
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        records = [
            f for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "record"
        ]
    assert records
    assert not any(r.has_field("stance_time") for r in records)
    assert all(r.get_value("cadence") > 0 for r in records)
