"""Relay exchanges: the analysis on hand-computed runs, the CLI's interface, the setup."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stridecue import relay
from stridecue.cli import main
from stridecue.relay import RelayError, RelaySetup, S
from stridecue.sim import strides as st


def _steady(t0: float, n: int, stride_s: float, length_m: float) -> list[S]:
    return [S(t0 + (k + 1) * stride_s, stride_s, length_m) for k in range(n)]


# incoming: 10 m/s from -50 m at t = 0 (0.5 s, 5 m strides)
INCOMING = _steady(0.0, 24, 0.5, 5.0)


def _rows(strides: list[S]) -> list[str]:
    return ["t_s,stride_time_s,stride_length_m"] + [
        f"{s.t_s:.4f},{s.stride_time_s:.4f},{s.stride_length_m:.4f}" for s in strides
    ]


def _csv(tmp_path: Path, name: str, rows: list[str]) -> str:
    p = tmp_path / name
    p.write_text("\n".join(rows) + "\n")
    return str(p)


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["relay", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_handoff_in_the_zone_is_exact() -> None:
    # outgoing goes at 4.5 s (incoming at -5 m) at a steady 8 m/s: gap 14 - 2t hits
    # 1.5 m at t = 6.25 s, the outgoing runner 14 m into the zone
    ex = relay.exchange(INCOMING, _steady(4.5, 20, 0.5, 4.0), approach_m=50, mark_m=5)
    assert ex.start_t_s == pytest.approx(4.5)
    assert ex.incoming_at_start_m == pytest.approx(-5.0)
    assert ex.handoff_t_s == pytest.approx(6.25)
    assert ex.handoff_zone_m == pytest.approx(14.0)
    assert ex.in_zone
    assert ex.incoming_speed_mps == pytest.approx(10.0)
    assert ex.outgoing_speed_mps == pytest.approx(8.0)
    assert not ex.incoming_slowed
    # at steady speeds: (20 - 14) m x (10 - 8) / 8 = 1.5 m further out = 5 foot lengths
    assert ex.mark_advice_m == pytest.approx(1.5, abs=1e-6)
    assert ex.mark_advice_feet == pytest.approx(5.0, abs=1e-5)
    # baton: in at 5.0 s with the incoming runner, out at 30 m with the outgoing at 8.25 s
    assert ex.zone_time_s == pytest.approx(3.25)
    assert ex.gap[0] == pytest.approx((4.5, 5.0))
    assert ex.gap[-1] == pytest.approx((6.25, 1.5))


def test_handoff_past_the_zone_and_late_advice() -> None:
    ex = relay.exchange(INCOMING, _steady(4.0, 20, 0.5, 4.0), approach_m=50, mark_m=10)
    assert ex.handoff_t_s == pytest.approx(8.25)
    assert ex.handoff_zone_m == pytest.approx(34.0)
    assert not ex.in_zone
    assert ex.mark_advice_m == pytest.approx(-3.5, abs=1e-6)  # closer
    assert ex.zone_time_s == pytest.approx(3.0)  # the incoming runner carried it out
    text = "\n".join(relay.describe(ex))
    assert "PAST the end of the zone" in text and "3.5 m (12 foot lengths) closer" in text


def test_a_late_start_is_caught_standing() -> None:
    # the outgoing runner is still standing at 0 when the incoming runner arrives
    ex = relay.exchange(INCOMING, _steady(5.5, 20, 0.5, 4.0), approach_m=50, mark_m=5)
    assert ex.handoff_t_s == pytest.approx(4.85)  # incoming at -1.5 m
    assert ex.handoff_zone_m == 0.0 and ex.outgoing_speed_mps == 0.0
    assert ex.started_early_m == pytest.approx(-10.0)  # went with the incoming at +5 m


def test_slowing_incoming_runner_is_flagged() -> None:
    slow = INCOMING[:14] + [S(7.0 + 0.5 * (k + 1), 0.5, 4.0) for k in range(10)]
    ex = relay.exchange(slow, _steady(6.0, 20, 0.5, 3.0), approach_m=70, mark_m=5)
    assert ex.incoming_slowed
    assert ex.incoming_last_mps == pytest.approx(8.0) and ex.incoming_pace_mps == 10.0


@pytest.mark.parametrize(
    ("fault", "start_m", "slowed"),
    [
        (st.RelayFault(), 0.0, False),
        (st.RelayFault(start_m=2.0), 2.0, False),
        (st.RelayFault(start_m=-2.0), -2.0, False),
        (st.RelayFault(slow=0.15), 0.0, True),
    ],
)
def test_simulated_faults_are_measured_exactly(
    fault: st.RelayFault, start_m: float, slowed: bool
) -> None:
    run = st.relay(np.random.default_rng(3), speeds_mps=(10.0, 10.2), faults=[fault])
    a, b = run.runners
    ex = relay.exchange(a.strides, b.strides, approach_m=run.approach_m[0], mark_m=11.0)
    assert ex.started_early_m == pytest.approx(start_m, abs=1e-6)
    assert ex.incoming_slowed is slowed


def test_a_four_runner_relay_lines_up() -> None:
    run = st.relay(np.random.default_rng(4))
    assert len(run.runners) == 4
    for i in range(3):
        a, b = run.runners[i], run.runners[i + 1]
        ex = relay.exchange(a.strides, b.strides, approach_m=run.approach_m[i], mark_m=11.0)
        assert ex.incoming_at_start_m == pytest.approx(-11.0, abs=1e-6)
        assert ex.handoff_zone_m is not None


def test_cli_json_interface(tmp_path: Path) -> None:
    a = _csv(tmp_path, "in.csv", _rows(INCOMING))
    b = _csv(tmp_path, "out.csv", _rows(_steady(4.5, 20, 0.5, 4.0)))
    r = subprocess.run(
        [sys.executable, "-m", "stridecue", "relay", a, b, "--leg-m", "50", "--mark-m", "5",
         "--zone-m", "30", "--reach-m", "1.5", "--target-m", "20", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in (
        "start_t_s", "incoming_at_start_m", "handoff_t_s", "handoff_zone_m", "in_zone",
        "incoming_speed_mps", "outgoing_speed_mps", "incoming_slowed", "mark_advice_m",
    ):  # fmt: skip
        assert key in d
    assert d["handoff_zone_m"] == pytest.approx(14.0) and d["in_zone"] is True
    assert d["mark_advice_m"] == pytest.approx(1.5, abs=1e-3)
    assert d["incoming_slowed"] is False


def test_cli_text_and_settable_reach(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _csv(tmp_path, "in.csv", _rows(INCOMING))
    b = _csv(tmp_path, "out.csv", _rows(_steady(4.5, 20, 0.5, 4.0)))
    code, out, _ = _main(capsys, a, b, "--leg-m", "50", "--mark-m", "5")
    assert code == 0 and "14.0 m into the 30 m zone" in out and "foot lengths" in out
    code, out, _ = _main(capsys, a, b, "--leg-m", "50", "--mark-m", "5", "--reach-m", "1", "--json")
    assert json.loads(out)["handoff_t_s"] == pytest.approx(6.5)


@pytest.mark.parametrize(
    ("incoming", "outgoing", "extra", "message"),
    [
        (INCOMING, _steady(20.0, 5, 0.5, 4.0), (), "no overlap in time"),
        (_steady(5.0, 20, 0.5, 5.0), _steady(0.0, 5, 0.5, 4.0), (), "never starts"),
        (INCOMING, _steady(4.5, 5, 0.5, 4.0), ("--leg-m", "0"), "leg=0"),
        (INCOMING, _steady(4.5, 5, 0.5, 4.0), ("--mark-m", "-3"), "mark=-3"),
    ],
)
def test_cli_bad_input_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    incoming: list[S],
    outgoing: list[S],
    extra: tuple[str, ...],
    message: str,
) -> None:
    a = _csv(tmp_path, "in.csv", _rows(incoming))
    b = _csv(tmp_path, "out.csv", _rows(outgoing))
    opts = {"--leg-m": "50", "--mark-m": "5"}
    opts.update(dict(zip(extra[::2], extra[1::2], strict=True)))
    code, out, err = _main(capsys, a, b, *[x for kv in opts.items() for x in kv])
    assert code != 0 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["t_s,stride_time_s"], "header lacks stride_length_m"),
        (["t_s,stride_time_s,stride_length_m", "1.0,0.5,abc"], "is not a number"),
        (["t_s,stride_time_s,stride_length_m", "1.0,0.5,nan"], "stride rejected"),
        (["t_s,stride_time_s,stride_length_m", "1.0,0.5,4", "0.9,0.5,4"], "out of order"),
        (["t_s,stride_time_s,stride_length_m"], "no strides"),
    ],
)
def test_cli_refuses_a_bad_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[str], message: str
) -> None:
    a = _csv(tmp_path, "in.csv", rows)
    b = _csv(tmp_path, "out.csv", _rows(_steady(4.5, 5, 0.5, 4.0)))
    code, _, err = _main(capsys, a, b, "--leg-m", "50", "--mark-m", "5")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_setup_validation_and_defaults() -> None:
    s = RelaySetup(("A", "B", "C", "D"), (100.0,) * 4, marks_m=(9.0, 9.0, 9.0))
    assert s.zones_m == (30.0, 30.0, 30.0)
    assert s.approach_m == (80.0, 100.0, 100.0)
    long = RelaySetup(("A", "B"), (400.0, 400.0), marks_m=(5.0,))
    assert long.zones_m == (20.0,) and long.approach_m == (390.0,)
    feet = RelaySetup.from_dict(
        {"team": ["A", "B"], "legs_m": [100, 100], "marks_feet": [30], "foot_m": 0.3}
    )
    assert feet.marks_m == pytest.approx((9.0,))
    with pytest.raises(RelayError, match="2 to 4"):
        RelaySetup(("A",), (100.0,))
    with pytest.raises(RelayError, match="mark"):
        RelaySetup(("A", "B"), (100.0, 100.0), marks_m=(-1.0,))
    with pytest.raises(RelayError, match="unknown relay setting"):
        RelaySetup.from_dict({"team": ["A", "B"], "legz": [1]})


def test_team_plan_numbers() -> None:
    s = RelaySetup(("A", "B"), (100.0, 100.0), marks_m=(9.0,), targets_s=(10.5, 9.2))
    rows = relay.team_plan(s, [10.0, None])
    assert rows[0].projected_s == pytest.approx(10.0) and rows[0].diff_s == pytest.approx(-0.5)
    assert rows[1].projected_s is None and rows[1].team_target_s == pytest.approx(19.7)
    assert rows[1].team_projected_s is None
    assert "19.70" in "\n".join(relay.describe_plan(rows))
