"""A relay setup file with a coach's mistakes: one line naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from stridecue.cli import main


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('team = "Ana,Bea"\nlegs_m = [100, 100]\nmarks_m = [8]\n', "team = 'Ana,Bea': give a list"),
        ('team = ["Ana", "Bea"]\nlegs_m = 100\nmarks_m = [8]\n', "legs_m = 100: give a list"),
        ('team = ["Ana", "Bea"]\nlegs_m = [100, 100]\nmarks_feet = 30\n', "marks_feet = 30"),
        ('team = ["Ana", "Bea"]\nlegs_m = [100, 100]\n', "marks_m (or marks_feet) needs 1"),
    ],
)
def test_a_bad_setup_file_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    setup = tmp_path / "team.toml"
    setup.write_text(text)
    session = tmp_path / "s"
    session.mkdir()
    argv = ["record", "sim:rep", "--relay", str(setup), "--sessions-dir", str(session)]
    assert main([*argv, "--headless"]) == 2
    err = capsys.readouterr().err
    assert f"{setup}: " in err and says in err and err.count("\n") == 1
    assert not list(session.iterdir())  # refused before any pod is asked
