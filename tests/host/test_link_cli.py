"""The scan, pair, live, record, replay and sessions commands, run as a user runs them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bluez.fwpod import FirmwarePod
from bluez.pods import BlePodLink, heart_rate_strap
from bluez.standin import StandInBluez
from stridecue.cli import main
from stridecue.links import Channel, PodInfo, Received, ReplayOptions, open_link
from stridecue.liveview import View
from stridecue.practice import Practice
from stridecue.protocol import RscMeasurement, StrideEvent
from stridecue.recorder import Recorder
from stridecue.session import Session
from test_ble_link import bluez  # noqa: F401  (the stand-in BlueZ fixture)

COMMANDS = {
    "scan": "StrideCue service",
    "pair": "pairing mode",
    "live": "cadence, stride length",
    "record": "Ctrl-C or --duration",
    "replay": "byte for byte",
    "sessions": "athletes",
}


def cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stridecue", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in this process (its start-up imports every command once)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def acli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in a thread (its own event loop) while this loop serves the stand-in BlueZ."""
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and f"usage: stridecue {command}" in out
    assert COMMANDS[command] in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["live", "bogus:x"], "unknown link 'bogus:x': use one of ble:NAME-or-ADDRESS"),
        (["record", "serial:/dev/nope-0"], "cannot open serial port /dev/nope-0"),
        (["record", "sim:jog"], "unknown scenario 'jog': allowed"),
        (["record", "sim:steady,fast"], "must be NAME=NUMBER"),
        (["live", "replay:x", "--athlete", "Ana"], "--athlete 'Ana': write POD=NAME"),
        (["replay", "nowhere"], "no session 'nowhere'"),
        (["record", "sim:steady", "--duration", "-3"], "--duration=-3 is out of range"),
        (
            ["record", "serial:/dev/nope-1", "serial:/dev/nope-2"],
            "2 of 2 links did not connect:\n  cannot open serial port /dev/nope-1",
        ),
        (["replay", "x", "--speed", "0"], "--speed=0 is out of range: allowed 0.1..1000"),
        (["scan", "--timeout", "0.1"], "--timeout=0.1 is out of range"),
        (["pair", "serial:/dev/ttyACM0"], "only Bluetooth pods are paired"),
    ],
)
def test_bad_input_says_how_to_fix_it(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--sessions-dir", str(tmp_path)] if args[0] not in ("pair", "scan") else []
    code, out, err = run_main(capsys, *args, *extra)
    assert code == 2, out + err
    assert message in err


def test_record_a_simulated_pod_then_list_and_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = str(tmp_path)
    r = cli(
        "record",
        "sim:steady,speed=20",
        "--athlete",
        "sim-steady=Ana",
        "--duration",
        "6",
        "--headless",
        "--label",
        "track",
        "--sessions-dir",
        sessions,
        stdin="lap 1\ncue Ana\n",
    )
    assert r.returncode == 0, r.stderr
    assert "Ana: " in r.stdout and "session recorded:" in r.stdout
    (path,) = [p for p in tmp_path.iterdir() if p.name.endswith("-track")]
    s = Session.open(path)
    assert s.meta["athletes"] == {"sim-steady": "Ana"} and s.meta["end_time"]
    assert s.meta["pods"]["sim-steady"]["link"] == "sim:steady,speed=20"
    strides = [StrideEvent.from_bytes(f.raw) for f in s.files["sim-steady"].frames if f.raw[0] == 1]
    assert len(strides) >= 40
    assert [e.seq for e in strides] == list(range(strides[0].seq, strides[0].seq + len(strides)))
    assert [m.text for m in s.marks()] == ["lap 1"]
    assert any(f.channel == 3 for f in s.files["sim-steady"].frames)  # the coach's cue, sent
    code, out, _ = run_main(capsys, "sessions", "--sessions-dir", sessions)
    # the length on the practice's clock: the athletes' time, 20x the few wall seconds
    assert code == 0 and path.name in out and "Ana" in out
    assert re.search(r"0:0[0-2]:\d\d  Ana", out), out
    code, out, err = run_main(
        capsys, "replay", path.name, "--sessions-dir", sessions, "--fast", "--headless"
    )
    assert code == 0, err
    assert f"Ana: {len(strides)} strides" in out
    # a recording cut short mid-frame still replays, and says what was skipped
    f = path / "pods" / "sim-steady.scf"
    os.truncate(f, f.stat().st_size - 3)
    code, out, err = run_main(capsys, "replay", str(path), "--fast", "--headless", "--no-analysis")
    assert code == 0 and "damaged recording: sim-steady.scf" in err
    assert "skipped (record cut short)" in err
    assert json.loads((path / "session.json").read_text())["pods"]["sim-steady"]["firmware"]


async def test_scan_pair_and_record_over_ble(
    bluez: StandInBluez,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIDECUE_SESSIONS", str(tmp_path))
    pod = FirmwarePod(tmp_path / "pod-store")
    radio = BlePodLink(bluez, "AA:BB:CC:DD:EE:01", pod)
    heart_rate_strap(bluez, "11:22:33:44:55:66")
    code, out, err = await acli(capsys, "scan", "--timeout", "1")
    assert code == 0, err
    assert "StrideCue-EE01" in out and "AA:BB:CC:DD:EE:01" in out and "87%" in out
    assert "HRM-Pro" not in out
    code, out, err = await acli(capsys, "pair", "ble:StrideCue-EE01")
    assert code == 2 and "pairing mode" in err
    radio.device.peripheral.pairing_mode = True
    code, out, err = await acli(capsys, "pair", "ble:StrideCue-EE01")
    assert code == 0 and "bonded with StrideCue-EE01" in out, err
    (tmp_path / "roster.toml").write_text('"StrideCue-EE01" = "Ana"\n')

    async def run() -> None:
        while True:
            await asyncio.sleep(0.05)
            pod.stride()

    runner = asyncio.create_task(run())
    try:
        code, out, err = await acli(
            capsys, "record", "ble:StrideCue-EE01", "--duration", "2", "--headless"
        )
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert code == 0, err
    (path,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "pod-store"]
    s = Session.open(path)
    assert s.athletes == {"AA:BB:CC:DD:EE:01": "Ana"}
    assert s.meta["pods"]["AA:BB:CC:DD:EE:01"]["firmware"] == "0.1.0"
    seqs = [
        StrideEvent.from_bytes(f.raw).seq
        for f in s.files["AA:BB:CC:DD:EE:01"].frames
        if f.raw[0] == 1
    ]
    assert len(seqs) >= 15 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_live_view_rows_show_each_athlete(tmp_path: Path) -> None:
    """The terminal table: one row per athlete with cadence, stride, contact, state, alerts."""
    with Recorder(tmp_path / "s", athletes={"p1": "Ana"}) as rec:
        rec.add_pod(PodInfo(pod="p1", firmware="0.1.0"), "ble:p1")
        rec.add_pod(PodInfo(pod="stryd", rsc_only=True), "ble:stryd")
        for i in range(30):
            raw = bytes(StrideEvent(i, 700 * i, 700, 205, 2450))
            rec.write(
                Received("p1", 10**18 + i * 10**6, Channel.POD, raw, StrideEvent.from_bytes(raw))
            )
        rsc = RscMeasurement(4.0, 176, 1.36, 100.0, True)
        rec.write(Received("stryd", 10**18 + 40 * 10**6, Channel.RSC, bytes(rsc), rsc))
    practice = Practice([open_link(f"replay:{tmp_path / 's'}", ReplayOptions(speed=0))])
    out = io.StringIO()
    view = View(practice, "replay", out, live=True)
    await practice.connect()
    await practice.run()
    view.draw()
    text = out.getvalue()
    assert "athlete" in text and "cadence" in text and "contact" in text
    (ana,) = [line for line in text.splitlines() if line.startswith("Ana ")]
    # no pod column (it repeated the name); the state in words; pace per 100 m
    assert ana.split()[1:6] == ["finished", "30", "171", "2.45", "m"] and "205 ms" in ana
    assert "28.6 s" in ana  # 2.45 m per 0.7 s: 3.5 m/s
    assert all(len(line) <= 80 for line in view.screen(80, 24))
    # a rep's summary is long: on an 80-column screen it wraps, nothing of it is cut off
    rep = (
        "rep 1: 400 m (measured 393 m, x1.018), 100 m splits 14.6 / 13.3 / 13.6 / 14.6 s, "
        "0.4 s behind plan; last 200 m vs first: cadence 236 -> 230 steps/min (-2.5 %), "
        "stride 2.02 -> 1.90 m (-5.9 %); stride shortened"
    )
    view.line(practice.rows["p1"], rep)
    screen = view.screen(80, 24)
    assert all(len(line) <= 80 for line in screen) and len(screen) <= 24
    start = next(i for i, line in enumerate(screen) if "rep 1: 400 m" in line)
    shown = " ".join(line.strip() for line in screen[start:])
    assert "Ana: " + rep in shown, shown
    (stryd,) = [line for line in text.splitlines() if line.startswith("stryd ")]
    assert "RSC only" in stryd and "176" in stryd


def test_sessions_lists_a_recording_that_was_never_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder(tmp_path / "crashed", athletes={"p1": "Ana"})
    rec.add_pod(PodInfo(pod="p1"))
    for i in range(3):
        raw = bytes(StrideEvent(i, 700 * i, 700, 205, 2450))
        rec.write_sent("p1", Channel.POD, raw, 10**18 + i * 61 * 10**9)  # 2 min apart
    # no close(): the recorder was killed
    code, out, _ = run_main(capsys, "sessions", "--sessions-dir", str(tmp_path))
    assert code == 0 and "crashed" in out and "0:02:02" in out and "Ana" in out
    assert "not closed" in out
    rec.close()
