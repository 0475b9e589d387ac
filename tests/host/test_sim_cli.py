"""``stridecue simulate``: a scenario to an IMU CSV plus its truth; bad input is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from stridecue.cli import main
from stridecue.imu_files import read_csv


def test_simulate_writes_the_imu_csv_and_its_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "walk.csv"
    args = ["simulate", "walk", str(out), "--param", "strides=12", "--rate", "208"]
    assert main(args) == 0
    data = read_csv(out)
    assert data.rate_hz() == pytest.approx(208.0, rel=1e-3)
    truth = (tmp_path / "walk.truth.csv").read_text().splitlines()
    assert truth[0].startswith("t_s,stride_time_s,stride_length_m,contact_time_s")
    assert len(truth) == 1 + 12
    assert "12 strides of truth" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["simulate", "marathon"], ["unknown scenario", "fatigue-400"]),
        (["simulate", "steady", "--param", "pace=4"], ["pace", "speed_mps"]),
        (["simulate", "steady", "--param", "speed_mps"], ["NAME=NUMBER"]),
        (["simulate", "steady", "--param", "speed_mps=11"], ["speed_mps=11", "1.0..10.0"]),
        (["simulate", "steady", "--rate", "10"], ["rate_hz=10", "allowed"]),
    ],
)
def test_bad_input_names_the_field(
    args: list[str], words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*args[:2], str(tmp_path / "x.csv"), *args[2:]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err
    assert not (tmp_path / "x.csv").exists()
