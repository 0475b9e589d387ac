"""A plan given with a rep distance means the same on every command: a bare ``even:S``
runs S seconds over the rep (as in the roster), a plan that ends past the rep is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from stridecue.analysis.plan import Plan
from stridecue.cli import main
from stridecue.commands import pod as podcmd
from stridecue.commands._practice import start_targets
from stridecue.errors import ConfigError


def test_a_bare_even_plan_runs_over_the_rep() -> None:
    assert Plan.for_rep("even:93", 600.0).checkpoints == ((600.0, 93.0),)
    assert Plan.for_rep("even:93", 600.0).spec == "even:93/600"
    assert Plan.for_rep("even:50", 400.0) == Plan.parse("even:50")
    assert Plan.for_rep("even:50", None) == Plan.parse("even:50")
    # a shorter plan is carried on at its last pace, as before
    assert Plan.for_rep("100:12,200:25", 300.0).checkpoints == ((100.0, 12.0), (200.0, 25.0))
    # a bad rep distance is refused where it is checked, not as a plan
    assert Plan.for_rep("even:50", -400.0) == Plan.parse("even:50")


@pytest.mark.parametrize(
    ("spec", "rep"),
    [("even:93/600", 400.0), ("100:11.5,200:24,400:50", 300.0), ("shape:50", 200.0)],
)
def test_a_plan_past_the_rep_is_one_line(spec: str, rep: float) -> None:
    with pytest.raises(ConfigError, match=rf"ends at \d+ m, past the {rep:g} m rep") as e:
        Plan.for_rep(spec, rep)
    assert "\n" not in str(e.value)


def test_the_command_line_plan_follows_the_rep_distance() -> None:
    got = start_targets(["even:93", "Ana=even:90"], 600.0, {"pod-a": "Ana"})
    assert got[""].plan is not None and got[""].plan.checkpoints == ((600.0, 93.0),)
    assert got["Ana"].plan is not None and got["Ana"].plan.checkpoints == ((600.0, 90.0),)
    with pytest.raises(ConfigError, match="ends at 600 m, past the 400 m rep"):
        start_targets(["even:93/600"], 400.0, {})


def test_record_refuses_a_600_m_plan_for_400_m_reps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["record", "sim:rep", "--headless", "--sessions-dir", str(tmp_path)]
    assert main([*argv, "--rep-distance", "400", "--plan", "even:93/600"]) == 2
    err = capsys.readouterr().err
    assert "ends at 600 m, past the 400 m rep" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing recorded


def test_pod_config_puts_a_bare_even_plan_over_the_guards_rep() -> None:
    # --split-plan even:93 --guard 600: 15.5 s every 100 m, not 93 s per 400 m stretched
    assert podcmd.split_plan_ms("even:93", 600.0) == (15500, 31000, 46500, 62000, 77500, 93000)
    with pytest.raises(ConfigError, match="ends at 600 m, past the 400 m rep"):
        podcmd.split_plan_ms("even:93/600", 400.0)


def test_analyze_refuses_a_plan_past_the_rep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("t_s,stride_time_s,stride_length_m\n")
    assert main(["analyze", str(csv), "--plan", "even:93/600", "--rep-distance", "400"]) == 2
    err = capsys.readouterr().err
    assert "ends at 600 m, past the 400 m rep" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("100:11,5,200:24,400:50", "write decimals with a dot (11.5, not 11,5)"),
        ("even:12,5", "write decimals with a dot (11.5, not 11,5)"),
        ("100:11.5,200,400:50", "'200' is not metres:seconds"),  # a missing time, not a comma
        ("shape:50/600", "shape: is a 400 m race shape, with no distance"),
    ],
)
def test_plan_texts_in_odd_forms_say_how_to_fix_them(spec: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        Plan.parse(spec)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_spaces_around_a_plans_parts_are_fine() -> None:
    assert (
        Plan.parse(" 100 : 11.5 , 200:24, 400:50 ").checkpoints
        == Plan.parse("100:11.5,200:24,400:50").checkpoints
    )


def test_a_roster_plan_line_without_quotes_says_how_plan_lines_look(tmp_path: Path) -> None:
    from stridecue import roster as rosters

    path = tmp_path / "roster.toml"
    path.write_text('"pod-a" = "Ana"\n\n[plan."Ana"]\n400 = even:50\n')
    with pytest.raises(ConfigError, match=r'plan lines under \[plan."NAME"\] are 400 = "even:50"'):
        rosters.load(path)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("even:0.5", r"400 m in 0.5 s is faster than anyone runs .* check the seconds"),
        ("100:5,200:24", r"100 m in 5 s is faster than anyone runs"),
        ("even:50/0.001", r"ends at 0.001 m: a plan covers at least 20 m"),
    ],
)
def test_an_impossible_plan_is_one_line(spec: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        Plan.parse(spec)
