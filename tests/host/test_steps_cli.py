"""``stridecue steps`` and ``stridecue import-imu`` on synthetic files, good and bad."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import scipy.io
from stridecue import engine
from stridecue.cli import main
from stridecue.firmware import micropython_exe
from stridecue.imu_files import HEADER, ImuData, read_csv, write_csv

ROOT = Path(__file__).resolve().parents[2]


def _synth() -> ModuleType:
    # the firmware tests' stride generator (pure Python, shared on purpose)
    spec = importlib.util.spec_from_file_location(
        "gait_synth", ROOT / "tests" / "firmware" / "gait_synth.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def synthetic(n: int = 5, length_m: float = 1.5) -> ImuData:
    rows = np.array(list(_synth().strides(n=n, length_m=length_m)), dtype=np.float64)
    g = 9.80665
    return ImuData(rows[:, 0] / 1000.0, rows[:, 1:4] / 1000.0 * g, np.deg2rad(rows[:, 4:7] / 10.0))


@pytest.fixture
def imu_csv(tmp_path: Path) -> Path:
    p = tmp_path / "walk.csv"
    write_csv(p, synthetic())
    return p


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["steps", *argv, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_steps_json_cpython(imu_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strides = run_json(capsys, str(imu_csv), "--engine", "cpython")
    assert len(strides) == 5
    assert set(strides[0]) == {
        "t_contact_s",
        "stride_time_s",
        "contact_time_s",
        "stride_length_m",
        "flags",
        "t_report_s",
    }
    assert strides[0]["flags"] == ["first"]
    # reported on a later sample than its contact, and not later than a stride after it
    for s in strides:
        lag = float(s["t_report_s"]) - float(s["t_contact_s"])  # type: ignore[arg-type]
        assert 0.0 < lag < 1.0
    for s in strides[1:]:
        assert s["flags"] == []
        assert s["stride_time_s"] == pytest.approx(0.8, abs=0.01)
        assert s["stride_length_m"] == pytest.approx(1.5, rel=0.02)


@pytest.mark.skipif(micropython_exe() is None, reason="micropython unix port not installed")
def test_steps_micropython_matches_cpython(
    imu_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mp = run_json(capsys, str(imu_csv), "--engine", "micropython")
    cp = run_json(capsys, str(imu_csv), "--engine", "cpython")
    assert mp == cp and len(mp) == 5


def test_steps_text_output(imu_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps", str(imu_csv), "--engine", "cpython"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("5 strides")
    assert "spm" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,c\n1,2,3\n", "first line must be the header t,ax,ay,az,gx,gy,gz"),
        (",".join(HEADER) + "\n0,1,2,3,4,5,x\n", ":2: non-numeric value"),
        (",".join(HEADER) + "\n0,1,2,3\n", ":2: expected 7 columns, got 4"),
        (",".join(HEADER) + "\n0,1,2,3,4,5,nan\n", ":2: NaN or infinite"),
        (",".join(HEADER) + "\n", "no samples after the header"),
        ("", "first line must be the header"),
    ],
)
def test_steps_bad_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(content)
    assert main(["steps", str(p), "--engine", "cpython"]) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_steps_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_steps_bad_options(imu_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps", str(imu_csv), "--engine", "cpython", "--rate-hz", "5"]) == 2
    assert "rate_hz=5: must be 20..2000 Hz" in capsys.readouterr().err
    assert main(["steps", str(imu_csv), "--engine", "cpython", "--acc-range-g", "64"]) == 2
    assert "acc_range_g=64" in capsys.readouterr().err


def test_import_pyshoe_mat_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = synthetic(n=3)
    src = tmp_path / "trial.mat"
    imu = np.column_stack([d.acc_mps2, d.gyr_rps])
    scipy.io.savemat(src, {"imu": imu, "ts": (d.t_s + 100.0)[None, :]})
    out = tmp_path / "trial.csv"
    assert main(["import-imu", str(src), str(out)]) == 0
    assert "samples at 200.0 Hz" in capsys.readouterr().out
    back = read_csv(out)
    assert back.t_s[0] == 0.0
    np.testing.assert_allclose(back.acc_mps2, d.acc_mps2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(back.gyr_rps, d.gyr_rps, rtol=1e-5, atol=1e-6)
    strides = run_json(capsys, str(out), "--engine", "cpython")
    assert len(strides) == 3


def test_import_gaitmap_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = synthetic(n=2)
    src = tmp_path / "imu_sample.csv"
    axes = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    lines = ["sensor," + ",".join(f"{s}_sensor" for _ in axes for s in ("left", "right"))]
    lines.append("axis," + ",".join(a for a in axes for _ in range(2)))
    for i in range(len(d)):
        vals = list(d.acc_mps2[i]) + [math.degrees(v) for v in d.gyr_rps[i]]
        lines.append(f"{i}," + ",".join(f"{v},{-v}" for v in vals))
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "right.csv"
    assert main(["import-imu", str(src), str(out), "--foot", "left"]) == 0
    back = read_csv(out)
    assert back.rate_hz() == pytest.approx(204.8, rel=1e-3)
    np.testing.assert_allclose(back.gyr_rps, d.gyr_rps, rtol=1e-5, atol=1e-6)


def test_import_bad_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mat = tmp_path / "x.mat"
    scipy.io.savemat(mat, {"other": np.zeros(3)})
    assert main(["import-imu", str(mat), str(tmp_path / "o.csv")]) == 2
    assert "needs the variables 'imu' and 'ts'" in capsys.readouterr().err
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a mat file")
    assert main(["import-imu", str(junk), str(tmp_path / "o.csv")]) == 2
    assert "not a readable MATLAB file" in capsys.readouterr().err
    assert main(["import-imu", str(tmp_path / "missing.mat"), str(tmp_path / "o.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_steps_gyro_lag_reaches_the_engine(
    imu_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lagged = run_json(capsys, str(imu_csv), "--engine", "cpython", "--gyro-lag-us", "10000")
    plain = run_json(capsys, str(imu_csv), "--engine", "cpython")
    direct = engine.run(read_csv(imu_csv), "cpython", None, 16, 2000, 10000)
    assert lagged == json.loads(json.dumps(direct))
    # the synthetic sensor has no lag: telling the engine it has one changes the lengths
    assert [s["stride_length_m"] for s in lagged] != [s["stride_length_m"] for s in plain]
    assert main(["steps", str(imu_csv), "--engine", "cpython", "--gyro-lag-us", "60000"]) == 2
    assert "gyro_lag_us=60000: must be 0..50000 us" in capsys.readouterr().err
