"""``stridecue demo``: runs by itself, ends by itself, and leaves a session that replays."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stridecue.cli import main
from stridecue.demo import Demo, squad
from stridecue.errors import LinkError
from stridecue.protocol import Cue, StrideEvent, decode_record
from stridecue.protocol.records import Kind
from stridecue.session import Session, find_sessions


def _cli(
    args: list[str], cwd: Path, timeout_s: float
) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "stridecue", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "PYTHONWARNINGS": "error", "STRIDECUE_SESSIONS": str(cwd / "sessions")},
        check=False,
    )
    return proc, time.monotonic() - t0


def test_plain_demo_ends_by_itself_and_records_a_session(tmp_path: Path) -> None:
    # the README's main command, exactly as typed: 60 s of practice at 10x
    proc, wall = _cli(["demo"], tmp_path, timeout_s=90)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert wall < 45.0
    assert "session recorded:" in proc.stdout
    sessions = find_sessions(tmp_path / "sessions")
    assert len(sessions) == 1
    s = Session.open(sessions[0])
    assert sorted(s.athletes.values()) == ["Ada", "Ben", "Cleo"]
    strides: dict[str, list[StrideEvent]] = {}
    cues = 0
    for pod, frame in s.merged():
        rec = decode_record(frame.raw)
        if isinstance(rec, StrideEvent):
            strides.setdefault(pod, []).append(rec)
        elif frame.raw[0] == Kind.CUE:
            assert isinstance(rec, Cue)
            cues += 1
    assert set(strides) == set(s.pods)
    for pod, evs in strides.items():
        assert len(evs) > 50, pod  # a minute of running
        assert [e.seq for e in evs] == sorted({e.seq for e in evs})
    assert cues >= 1  # the fading athlete is cued
    assert s.bad_tails == []


def test_headless_demo_with_options(tmp_path: Path) -> None:
    args = ["demo", "--headless", "--duration", "30", "--speed", "20", "--athletes", "2"]
    proc, _ = _cli([*args, "--sessions-dir", "out"], tmp_path, timeout_s=60)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert re.search(r"^\d\d:\d\d Ada: run finished$", proc.stdout, re.M)  # at mm:ss of practice
    assert re.search(r"^\d\d:\d\d Ben: run finished$", proc.stdout, re.M)
    assert re.search(r"Ada: \d+ m at 4.5 m/s; finished", proc.stdout)
    assert "motor" not in proc.stdout and "wall" not in proc.stdout  # developer words: -v only
    (path,) = find_sessions(tmp_path / "out")
    assert len(Session.open(path).pods) == 2


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--athletes", "0"], "--athletes"),
        (["--athletes", "9"], "--athletes"),
        (["--speed", "0"], "--speed"),
        (["--duration", "5"], "--duration"),
    ],
)
def test_out_of_range_options_are_refused_with_the_allowed_range(
    args: list[str], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--headless", "--sessions-dir", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert field in err and "allowed" in err
    assert not any(tmp_path.iterdir())  # nothing started, nothing recorded


def test_squad_paces_differ_and_one_athlete_fades() -> None:
    plan = squad(3, 60.0)
    paces = [a.pace_mps for a, _ in plan]
    assert len(set(paces)) == 3
    fading = [sc for a, sc in plan if a.fades]
    assert len(fading) == 1
    assert any(c.kind == "stride_shortening" for c in fading[0].change_points)


def test_a_pod_that_dies_is_reported_and_the_demo_still_ends(tmp_path: Path) -> None:
    # a "board" that exits at once: the link is lost, the demo says so and stops
    dead = tmp_path / "dead-board"
    dead.write_text("#!/bin/sh\necho 'simboard: cannot start (test)' >&2\nexit 3\n")
    dead.chmod(0o755)
    demo = Demo(
        duration_s=20.0, athletes=1, speed=20.0, sessions_dir=tmp_path / "s", interpreter=str(dead)
    )
    t0 = time.monotonic()
    # the board dies before or after the host opened its pty: either way the demo
    # ends at once and says why, in the board's own words
    try:
        result = asyncio.run(demo.run())
    except LinkError as e:
        assert re.search(r"simulated pod of Ada stopped .*cannot start \(test\)", str(e))
    else:
        (a,) = result.athletes
        assert not a.done
        assert "cannot start (test)" in a.error
    assert time.monotonic() - t0 < 20.0
    # a session is made once the boards answer: none, or one closed cleanly
    sessions = find_sessions(tmp_path / "s")
    assert len(sessions) <= 1
    assert all(Session.open(p).meta["end_time"] is not None for p in sessions)


def test_demo_serves_the_dashboard_while_it_runs(tmp_path: Path) -> None:
    import urllib.request

    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "stridecue", "demo", "--headless", "--athletes", "2"),
            *("--duration", "30", "--speed", "2", "--dashboard", "--port", "0"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "STRIDECUE_SESSIONS": str(tmp_path / "sessions")},
    )
    try:
        assert proc.stdout is not None
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/\S*)", line)
            url = m.group(1) if m else ""
        assert url, "the demo did not print its dashboard URL"
        with urllib.request.urlopen(url, timeout=30) as resp:
            page = resp.read().decode()
        assert resp.status == 200
        assert "bokeh" in page.lower() and "cdn." not in page.lower()  # served here, offline
    finally:
        proc.kill()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("command", ["live", "record", "replay", "demo"])
def test_practice_commands_offer_the_dashboard(command: str) -> None:
    from stridecue.cli import build_parser

    args = build_parser().parse_args(
        [command, *(["X"] if command != "demo" else []), "--dashboard", "--port", "0"]
    )
    assert (args.dashboard, args.port, args.host) == (True, 0, "127.0.0.1")
