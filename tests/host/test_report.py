"""`stridecue report`: the HTML report and its figures, from a session the Recorder wrote."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread
from stridecue.cli import main
from stridecue.report import load
from stridecue.report.relay import ZONE_M, find_exchange
from test_bad_files_cli import refused
from test_dashboard_data import write_session


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # staggered starts: each athlete begins 40 s after the previous (a relay-like order)
    return write_session(tmp_path_factory.mktemp("s"), athletes=3, reps=2, stagger_s=40.0)


def _png_ok(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 10_000, path
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 800
    assert float(np.std(img[..., :3])) > 0.05  # not a blank canvas


def test_load_puts_strides_on_one_clock_and_finds_reps(session: Path) -> None:
    data = load(session)
    assert [a.name for a in data.athletes] == ["Ada", "Ben", "Cleo"]
    firsts = [a.strides[0].t_s for a in data.athletes]
    # the pods' clocks differ by the stagger; on the session clock they line up
    assert firsts[1] - firsts[0] == pytest.approx(40.0, abs=0.05)
    assert firsts[2] - firsts[1] == pytest.approx(40.0, abs=0.05)
    for a in data.athletes:
        assert len(a.reps) == 2
        for r in a.reps:
            assert 190.0 <= r.summary["distance_m"] <= 215.0
            # the last 100 m fades by up to 12 %: the last split is the slowest
            assert r.splits_s[-1] > min(r.splits_s)
            assert r.fatigue_index == pytest.approx(r.splits_s[-1] / min(r.splits_s) - 1, abs=1e-3)
        assert a.battery_pct is not None
        assert len(a.cues) == 1 and a.cues[0][1] == "pulse"
        assert any(e.kind == "stride_shortening" for e in a.alerts)


def test_report_command_writes_html_and_figures(session: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rep"
    code = main(["report", str(session), "-o", str(out), "--relay", "Ada,Ben,Cleo",
                 "--goal-400", "52"])  # fmt: skip
    assert code == 0
    assert str(out / "index.html") in capsys.readouterr().out
    page = (out / "index.html").read_text()
    for name in ("Ada", "Ben", "Cleo"):
        assert f"<h2 id='{name}'>" in page
        _png_ok(out / f"{name}-session.png")
        _png_ok(out / f"{name}-splits.png")
    assert page.count("<td>rep 1</td>") == 3 and page.count("<td>rep 2</td>") == 3
    assert "strides shortening" in page and "Fatigue index" in page
    assert "Last 200 m against the first" in page and "-halves.png" in page  # where fatigue shows
    # every image the page shows was written
    for src in re.findall(r"<img src='([^']+)'", page):
        assert (out / src).is_file(), src
    _png_ok(out / "relay-1.png")
    _png_ok(out / "relay-2.png")
    assert "Ada → Ben" in page


def test_relay_exchange_is_the_outgoing_runners_first_rep(session: Path) -> None:
    data = load(session)
    ada, ben = data.athlete("Ada"), data.athlete("ben")
    x = find_exchange(ada, ben)
    assert x is not None
    assert x.t_start_s == ben.reps[0].start_s
    zone = sum(s.stride_length_m for s in ben.strides if x.t_start_s < s.t_s <= x.t_zone_end_s)
    assert ZONE_M <= zone < ZONE_M + 4.5
    assert x.outgoing_speed_mps is not None and x.outgoing_speed_mps > 3.0


def test_report_bad_input_says_what_to_do(session: Path, tmp_path: Path, capsys) -> None:
    assert main(["report", str(session), "--relay", "Ada,Zed", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no athlete 'Zed'" in err and "Ada, Ben, Cleo" in err
    assert not (tmp_path / "index.html").exists()
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "stridecue sessions" in capsys.readouterr().err


def test_report_of_a_jog_without_reps(tmp_path: Path) -> None:
    session = write_session(tmp_path, athletes=1, reps=0)
    assert main(["report", str(session), "-o", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "index.html").read_text()
    assert "No rep detected" in page and "No alerts." in page
    _png_ok(tmp_path / "r" / "Ada-session.png")
    assert not (tmp_path / "r" / "Ada-splits.png").exists()


def test_report_on_a_read_only_disk(session: Path, capsys, monkeypatch) -> None:
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kw: Any) -> None:
        if self.is_relative_to(session):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_mkdir(self, *args, **kw)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    says = "Read-only file system; write the report elsewhere with -o DIR"
    refused(capsys, ["report", str(session)], session / "report", says)


def test_athletes_of_one_name_keep_their_own_figures(tmp_path: Path) -> None:
    path = write_session(tmp_path, athletes=2, reps=0)
    meta = json.loads((path / "session.json").read_text())
    meta["athletes"] = {"pod-ada": "Ada", "pod-ben": "Ada"}
    (path / "session.json").write_text(json.dumps(meta))
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "index.html").read_text()
    figures = re.findall(r"<img src='([^']+)'", page)
    assert figures == ["Ada-session.png", "Ada-pod-ben-session.png"]
    for name in figures:
        _png_ok(tmp_path / "r" / name)
