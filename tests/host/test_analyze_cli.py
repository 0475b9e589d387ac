"""`stridecue analyze` as a user runs it: a real process over real CSV files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stridecue.cli import main
from stridecue.sim import strides as S


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stridecue", "analyze", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same CLI in this process (faster than a subprocess per case)."""
    code = main(["analyze", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _write(tmp_path: Path, rows: list[str], name: str = "s.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(rows) + "\n")
    return p


def test_json_lines_for_a_shortening(tmp_path: Path) -> None:
    sc = S.shortening(np.random.default_rng(0), S.SPRINT, 0.10, 60, 40, noise=S.Noise(phi=0.3))
    r = _cli(str(_write(tmp_path, S.to_csv_rows(sc.strides))), "--json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events, r.stdout
    for e in events:
        assert set(e) == {"t_s", "stride_index", "kind", "detail"}
        assert e["kind"] in ("rhythm_loss", "stride_shortening", "recovered")
    short = [e for e in events if e["kind"] == "stride_shortening"]
    assert 60 <= short[0]["stride_index"] <= 64
    assert short[0]["t_s"] == round(sc.strides[short[0]["stride_index"]].t_s, 4)
    assert short[0]["detail"]["detector"] == "cusum_shorter"


def test_without_contact_column_and_with_all(tmp_path: Path) -> None:
    sc = S.session(np.random.default_rng(1), S.SPRINT, n_reps=2, jog_s=30)
    p = _write(tmp_path, S.to_csv_rows(sc.strides, contact=False))
    r = _cli(str(p), "--json", "--all", "--goal-400m", "52")
    assert r.returncode == 0, r.stderr
    kinds = [json.loads(line)["kind"] for line in r.stdout.splitlines()]
    assert kinds.count("rep_start") == 2 and kinds.count("rep_summary") == 2
    splits = [json.loads(x)["detail"] for x in r.stdout.splitlines() if '"split"' in x]
    assert "vs_goal_s" in splits[0]
    human = _cli(str(p))
    assert human.returncode == 0 and "stride_shortening" in human.stdout


def test_target_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = S.steady(np.random.default_rng(2), S.SPRINT, 80, S.Noise(time_cv=0, length_cv=0))
    p = str(_write(tmp_path, S.to_csv_rows(sc.strides)))
    assert _main(capsys, p, "--json") == (0, "", "")
    code, out, _ = _main(capsys, p, "--json", "--target-stride-length", "3.9")
    assert [json.loads(x)["kind"] for x in out.splitlines()] == ["stride_shortening"]
    code, _, err = _main(capsys, p, "--json", "--target-cadence", "500")
    assert code == 2 and "target_cadence_spm" in err
    code, out, _ = _main(capsys, p, "--json", "--goal-400m", "50", "--goal-baseline")
    lengths = [json.loads(x)["detail"]["baseline_stride_length_m"] for x in out.splitlines()]
    assert lengths == [3.84]
    code, _, err = _main(capsys, p, "--goal-baseline")
    assert code == 2 and "--goal-400 SECONDS" in err  # the name `report` uses too
    code, out, _ = _main(capsys, p, "--json", "--goal-400", "50", "--goal-baseline")
    assert [json.loads(x)["detail"]["baseline_stride_length_m"] for x in out.splitlines()] == [3.84]


def test_bad_values_are_counted_not_fatal(tmp_path: Path) -> None:
    rows = ["t_s,stride_time_s,stride_length_m,contact_time_s"]
    rows += [f"{0.48 * (i + 1):.3f},0.48,3.6,0.11" for i in range(40)]
    rows += ["30,nan,3.6,0.1", "31,0.48,-2,", "5,0.48,3.6,0.1", "32,9.0,3.6,0.1"]
    r = _cli(str(_write(tmp_path, rows)), "--json")
    assert r.returncode == 0
    assert "non_finite=1" in r.stderr and "stride_length_out_of_range=1" in r.stderr
    assert "out_of_order=1" in r.stderr and "stride_time_out_of_range=1" in r.stderr
    r = _cli(str(_write(tmp_path, rows)), "--json", "--max-stride-length", "4.6")
    assert "stride_length_out_of_range=1" in r.stderr  # -2 m is still impossible


def test_bad_csv_gives_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "empty.csv": ([], "empty"),
        "header.csv": (["time,stride"], "header lacks t_s, stride_time_s, stride_length_m"),
        "text.csv": (["t_s,stride_time_s,stride_length_m", "1,abc,3"], "stride_time_s='abc'"),
        "short.csv": (["t_s,stride_time_s,stride_length_m", "1,0.5"], "line 2: 2 fields"),
    }
    for name, (rows, msg) in cases.items():
        p = tmp_path / name
        p.write_text("\n".join(rows))
        code, _, err = _main(capsys, str(p), "--json")
        assert code == 2, name
        assert msg in err, (name, err)
    code, _, err = _main(capsys, str(tmp_path / "missing.csv"))
    assert code == 2 and "cannot open" in err
    # and as a real process: a clean message, no traceback
    r = _cli(str(tmp_path / "text.csv"), "--json")
    assert r.returncode == 2 and "stride_time_s='abc'" in r.stderr
    assert "Traceback" not in r.stderr


def test_nothing_to_report_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "rest.csv"
    p.write_text("t_s,stride_time_s,stride_length_m\n")
    code, out, _ = _main(capsys, str(p))
    assert code == 0 and out.startswith("nothing to report: no rhythm loss or stride shortening")
    code, out, _ = _main(capsys, str(p), "--json")
    assert code == 0 and out == ""  # JSON lines: an empty stream, nothing else
