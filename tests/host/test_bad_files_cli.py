"""Every file a user gives `steps`, `import-imu` or `analyze`, however broken: one line
on stderr that names the file and says what to do, a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from stridecue.cli import main
from stridecue.imu_files import HEADER, ImuData, read_csv, write_csv

ROOT = Path(__file__).resolve().parents[2]
CSV_HEADER = ",".join(HEADER) + "\n"
STRIDES_HEADER = "t_s,stride_time_s,stride_length_m,contact_time_s\n"


def synthetic(n: int = 4) -> ImuData:
    # the firmware tests' stride generator (as in test_steps_cli.py)
    spec = importlib.util.spec_from_file_location(
        "gait_synth", ROOT / "tests" / "firmware" / "gait_synth.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = np.array(list(mod.strides(n=n, length_m=1.5)), dtype=np.float64)
    g = 9.80665
    return ImuData(rows[:, 0] / 1000.0, rows[:, 1:4] / 1000.0 * g, np.deg2rad(rows[:, 4:7] / 10.0))


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], names: Path, says: str) -> str:
    """Run the CLI: non-zero exit, one stderr line naming ``names`` and saying ``says``."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert str(names) in err, err
    assert says in err, err
    assert len(err) < 400, err  # a message, not a dump of the file
    return err


def _samples(n: int = 50, rate_hz: float = 200.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, (n, 6)), np.arange(n) / rate_hz


def _mat(path: Path, **variables: object) -> Path:
    scipy.io.savemat(path, variables)
    return path


def _with_nan(a: np.ndarray, i: int) -> np.ndarray:
    a = a.copy()
    a[i] = np.nan
    return a


def _good_mat(tmp_path: Path) -> Path:
    imu, ts = _samples()
    return _mat(tmp_path / "trial.mat", imu=imu, ts=ts)


# --- steps: the IMU CSV ---------------------------------------------------------------


def attacks(header: str, row: str) -> dict[str, bytes]:
    """The same broken files for any CSV reader, from its header line and one good row."""
    head, good = header.encode(), row.encode()
    return {
        "invalid_utf8": head + b"\xff\xfe" + good,
        "binary": bytes(range(256)) * 8,
        "nul_bytes": head + good.replace(b"\n", b"\x00\n"),
        "huge_line": head + b"1" * 200_000 + b"\n",
        "huge_first_line": b"t" * 100_000 + b"\n",
    }


SAYS = {"invalid_utf8": "not UTF-8 text", "binary": "not UTF-8 text", "huge_line": "field larger"}
READERS = {  # command: header, a good row, what it says of a NUL byte and of a huge first line
    "steps": (CSV_HEADER, "0,1,2,3,4,5,6\n", ":2: non-numeric value", "first line must be"),
    "analyze": (STRIDES_HEADER, "1,0.5,2,0.1\n", "line 2: contact_time_s=", "header lacks"),
}


@pytest.mark.parametrize("attack", [*SAYS, "nul_bytes", "huge_first_line"])
@pytest.mark.parametrize("command", READERS)
def test_broken_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, attack: str
) -> None:
    header, row, nul, first = READERS[command]
    p = tmp_path / f"{attack}.csv"
    p.write_bytes(attacks(header, row)[attack])
    says = {**SAYS, "nul_bytes": nul, "huge_first_line": first}[attack]
    engine = ["--engine", "cpython"] if command == "steps" else []
    refused(capsys, [command, str(p), *engine], p, says)


IMU_CSV: dict[str, tuple[str, str]] = {
    "header_only": (CSV_HEADER, "no samples after the header"),
    "one_sample": (CSV_HEADER + "0,0,0,9.8,0,0,0\n", "only 1 sample"),
    "inf": (CSV_HEADER + "0,1,2,3,4,5,6\n0.005,inf,2,3,4,5,6\n", ":3: NaN or infinite"),
    "time_backwards": (
        CSV_HEADER + "0,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n0.005,1,2,3,4,5,6\n",
        ":4: t=0.005 s is not after the sample before it",
    ),
    "time_repeated": (CSV_HEADER + "0,1,2,3,4,5,6\n0,1,2,3,4,5,6\n", ":3: t=0 s is not after"),
}


@pytest.mark.parametrize("case", IMU_CSV, ids=list(IMU_CSV))
def test_steps_bad_imu_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    content, says = IMU_CSV[case]
    p = tmp_path / f"{case}.csv"
    p.write_text(content)
    refused(capsys, ["steps", str(p), "--engine", "cpython"], p, says)


def _write_walk(path: Path, t_scale: float = 1.0, acc_scale: float = 1.0) -> Path:
    d = synthetic()
    write_csv(path, ImuData(d.t_s * t_scale, d.acc_mps2 * acc_scale, d.gyr_rps))
    return path


def test_steps_timestamps_in_ms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write_walk(tmp_path / "ms.csv", t_scale=1000.0)
    refused(capsys, ["steps", str(p), "--engine", "cpython"], p, "column t must be in seconds")


def test_steps_acc_in_wrong_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write_walk(tmp_path / "mg.csv", acc_scale=1000.0 / 9.80665)  # mg, not m/s^2
    refused(capsys, ["steps", str(p), "--engine", "cpython"], p, "ax..az must be m/s^2")


def test_steps_recording_longer_than_the_engine_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "weeks.csv"
    p.write_text(CSV_HEADER + "".join(f"{t},0,0,9.8,0,0,0\n" for t in (0, 0.005, 0.01, 2e6)))
    refused(capsys, ["steps", str(p), "--engine", "cpython"], p, "split it")


def test_steps_on_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, ["steps", str(tmp_path)], tmp_path, "is a folder")


def test_steps_on_a_device(capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, ["steps", os.devnull], Path(os.devnull), "is not a regular file")


def test_steps_accepts_bom_and_negative_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write_walk(tmp_path / "walk.csv")
    p = tmp_path / "bom.csv"
    d = read_csv(src)
    write_csv(p, ImuData(d.t_s - 100.0, d.acc_mps2, d.gyr_rps))
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())  # as a spreadsheet saves it
    assert main(["steps", str(p), "--engine", "cpython"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("4 strides")


def _closed_reader(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI into a pipe whose reader has already gone (``| head`` that ended)."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run(
            [sys.executable, "-m", "stridecue", *argv],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(w)


def test_steps_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    p = _write_walk(tmp_path / "walk.csv")
    r = _closed_reader("steps", str(p), "--engine", "cpython")
    assert r.stderr == ""
    assert r.returncode == 141  # as a shell reports a writer stopped by SIGPIPE


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs Linux /dev/full")
def test_steps_output_on_a_full_disk(tmp_path: Path) -> None:
    p = _write_walk(tmp_path / "walk.csv")
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [sys.executable, "-m", "stridecue", "steps", str(p), "--engine", "cpython"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert r.returncode != 0
    assert r.stderr.splitlines() == [
        "stridecue steps: error: cannot write the output: No space left on device; "
        "the output is cut short"
    ]


# --- import-imu -----------------------------------------------------------------------


def _import(
    capsys: pytest.CaptureFixture[str], src: Path, out: Path, names: Path, says: str
) -> None:
    refused(capsys, ["import-imu", str(src), str(out)], names, says)


def test_import_binary_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "rec.csv"
    src.write_bytes(bytes(range(256)) * 8)
    _import(capsys, src, tmp_path / "o.csv", src, "not UTF-8 text")


MATS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty_imu": (
        lambda p: _mat(p, imu=np.zeros((0, 6)), ts=np.zeros(0)),
        "'imu' is empty",
    ),
    "string_variables": (lambda p: _mat(p, imu="walk", ts="0 0.005"), "'imu' holds text"),
    "cell_array": (
        lambda p: _mat(p, imu=np.array([np.zeros(3), "x"], dtype=object), ts=np.zeros(2)),
        "'imu' holds a cell array",
    ),
    "imu_transposed": (lambda p: _mat(p, imu=_samples()[0].T, ts=_samples()[1]), "'imu' is 6 x 50"),
    "ts_too_short": (
        lambda p: _mat(p, imu=_samples()[0], ts=_samples()[1][:40]),
        "'imu' has 50 samples, 'ts' 40",
    ),
    "all_nan": (
        lambda p: _mat(p, imu=np.full((50, 6), np.nan), ts=_samples()[1]),
        "sample 1: NaN or infinite value (50 of 50 samples",
    ),
    "nan_time": (
        lambda p: _mat(p, imu=_samples()[0], ts=_with_nan(_samples()[1], 9)),
        "sample 10: NaN or infinite",
    ),
    "time_backwards": (
        lambda p: _mat(p, imu=_samples()[0], ts=_samples()[1][::-1]),
        "sample 2: t=0.24 s is not after",
    ),
}


@pytest.mark.parametrize("case", MATS, ids=list(MATS))
def test_import_bad_mat(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    make, says = MATS[case]
    src = make(tmp_path / f"{case}.mat")
    out = tmp_path / "o.csv"
    _import(capsys, src, out, src, says)
    assert not out.exists()  # refused: nothing written


def test_import_matlab_header_then_garbage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "garbage.mat"
    src.write_bytes(_good_mat(tmp_path).read_bytes()[:128] + b"\x99" * 200)
    _import(capsys, src, tmp_path / "o.csv", src, "not a readable MATLAB file")


def test_import_mat_that_crashes_the_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an element whose data type code is out of range makes scipy's reader crash the
    # interpreter (scipy 1.17); the reader runs in a child process, so this one reports it
    raw = bytearray(_good_mat(tmp_path).read_bytes())
    name = raw.index(b"\x01\x00\x02\x00ts\x00\x00")
    raw[name + 8] = 0xAD  # the type code of the 'ts' data element
    src = tmp_path / "crash.mat"
    src.write_bytes(bytes(raw))
    _import(capsys, src, tmp_path / "o.csv", src, "not a readable MATLAB file")


def test_import_matlab_v73(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "v73.mat"
    src.write_bytes(b"MATLAB 7.3 MAT-file".ljust(124) + b"\x00\x02IM" + bytes(512))
    _import(capsys, src, tmp_path / "o.csv", src, "save(name, 'imu', 'ts', '-v7')")


def _gaitmap(path: Path, rows: list[str]) -> Path:
    axes = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    head = [
        "sensor," + ",".join("right_sensor" for _ in axes),
        "axis," + ",".join(axes),
    ]
    path.write_text("\n".join(head + rows) + "\n")
    return path


def test_import_gaitmap_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _gaitmap(tmp_path / "imu_sample.csv", [])
    _import(capsys, src, tmp_path / "o.csv", src, "no samples in it")


def test_import_gaitmap_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _gaitmap(tmp_path / "imu_sample.csv", ["0,1,2,3,4,5,6", "1,1,2,nan,4,5,6"])
    _import(capsys, src, tmp_path / "o.csv", src, ":4: NaN or infinite")


def test_import_source_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _import(capsys, tmp_path, tmp_path / "o.csv", tmp_path, "is a folder")


def test_import_output_folder_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "no" / "such" / "o.csv"
    _import(capsys, _good_mat(tmp_path), out, out, "does not exist")


def test_import_output_inside_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _good_mat(tmp_path)
    out = src / "o.csv"
    _import(capsys, src, out, out, "is not a folder")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_import_output_folder_unwritable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        out = folder / "o.csv"
        _import(capsys, _good_mat(tmp_path), out, out, "Permission denied")
    finally:
        folder.chmod(0o755)


def test_import_output_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _import(capsys, _good_mat(tmp_path), out, out, "is a folder")


def test_import_output_is_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _good_mat(tmp_path)
    before = src.read_bytes()
    _import(capsys, src, src, src, "is the recording being read")
    assert src.read_bytes() == before


def test_import_refused_keeps_the_old_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.csv"
    out.write_text("kept\n")
    src = MATS["all_nan"][0](tmp_path / "nan.mat")
    _import(capsys, src, out, src, "NaN")
    assert out.read_text() == "kept\n"


# --- analyze: the stride CSV ----------------------------------------------------------


def test_analyze_huge_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "s.csv"
    p.write_text(STRIDES_HEADER + "1,0.5," + "9x" * 5000 + ",0.1\n")
    refused(capsys, ["analyze", str(p)], p, "line 2: stride_length_m='9x9x")


def test_analyze_on_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, ["analyze", str(tmp_path)], tmp_path, "cannot open")


def test_analyze_accepts_a_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bom.csv"
    rows = "".join(f"{0.48 * (i + 1):.2f},0.48,3.6,0.11\n" for i in range(30))
    p.write_bytes(b"\xef\xbb\xbf" + (STRIDES_HEADER + rows).encode())
    assert main(["analyze", str(p), "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_analyze_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text(STRIDES_HEADER + "".join(f"{0.48 * i:.2f},0.48,3.6,0.11\n" for i in range(99)))
    r = _closed_reader("analyze", str(p), "--all", "--json")
    assert r.stderr == ""
    assert r.returncode == 141


# --- help text ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["steps", "import-imu", "analyze"])
def test_help_reads_as_plain_text(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and ":mod:" not in out
