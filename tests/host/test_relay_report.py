"""A relay practice recorded with its setup: the report measures every exchange."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from stridecue.cli import main
from stridecue.links import Channel, PodInfo
from stridecue.protocol import StrideEvent
from stridecue.recorder import Recorder
from stridecue.relay import RelaySetup
from stridecue.sim import strides as S

START_NS = time.time_ns()  # the recording starts now: the relay on its clock


def _relay_session(tmp_path: Path) -> Path:
    run = S.relay(np.random.default_rng(4), speeds_mps=(9.0, 9.4), approach_m=(80.0,))
    setup = RelaySetup(
        ("Ana", "Bea"), (100.0, 100.0), zones_m=(30.0,), marks_m=(11.0,), approach_m=(80.0,)
    )
    path = tmp_path / "relay"
    with Recorder(path, settings={"relay": setup.as_dict()}) as rec:
        for k, (name, sc) in enumerate(zip(("Ana", "Bea"), run.runners, strict=True)):
            pod = f"pod-{name.lower()}"
            rec.add_pod(PodInfo(pod=pod, clock_offset_ms=START_NS / 1e6), athlete=name)
            for seq, s in enumerate(sc.strides):
                ev = StrideEvent(
                    seq,
                    round(s.t_s * 1000),
                    round(s.stride_time_s * 1000),
                    round(s.contact_time_s * 1000),
                    round(s.stride_length_m * 1000),
                )
                host_ns = START_NS + round(s.t_s * 1e9) + 50_000_000 + k
                rec.write_sent(pod, Channel.POD, bytes(ev), host_ns)
    return path


def test_the_report_measures_each_exchange_of_a_relay_practice(tmp_path: Path) -> None:
    path = _relay_session(tmp_path)
    assert main(["report", str(path)]) == 0
    page = (path / "report" / "index.html").read_text()
    assert "<h3>Exchange 1: Ana \u2192 Bea</h3>" in page
    assert "check mark" in page and "exchange-1.png" in page
    assert re.search(r"Bea went at 0:\d\d\.\d\d with Ana", page)  # practice time, 1/100 s
    assert (path / "report" / "exchange-1.png").stat().st_size > 10_000


def test_live_each_exchange_is_told_on_both_tiles_once_it_is_over() -> None:
    import asyncio

    from cuepod import CuePod
    from stridecue.practice import Listener, Practice, Row
    from stridecue.relaywatch import RelayWatch
    from stridecue.session import Received
    from stridecue.timeline import SessionClock

    run = S.relay(np.random.default_rng(4), speeds_mps=(9.0, 9.4), approach_m=(80.0,))
    setup = RelaySetup(
        ("Ana", "Bea"), (100.0, 100.0), zones_m=(30.0,), marks_m=(11.0,), approach_m=(80.0,)
    )
    practice = Practice([], clock=SessionClock(START_NS))
    notes: list[tuple[str, str]] = []

    class Notes(Listener):
        def note(self, row: Row, text: str) -> None:
            notes.append((row.athlete, text))

    practice.subscribe(Notes())
    practice.subscribe(RelayWatch(practice, setup))
    pods = {n: CuePod(f"pod-{n.lower()}") for n in ("Ana", "Bea")}
    for n, pod in pods.items():
        practice.add_athlete(pod.target, n, link=pod)
    events = sorted(
        (s.t_s, name, seq, s)
        for name, sc in zip(("Ana", "Bea"), run.runners, strict=True)
        for seq, s in enumerate(sc.strides)
    )

    async def feed() -> None:
        for t, name, seq, s in events:
            ev = StrideEvent(
                seq,
                round(t * 1000),
                round(s.stride_time_s * 1000),
                round(s.contact_time_s * 1000),
                round(s.stride_length_m * 1000),
            )
            host_ns = START_NS + round(t * 1e9) + 50_000_000
            item = Received(pods[name].target, host_ns, Channel.POD, bytes(ev), ev)
            await practice.handle(item, pods[name])

    asyncio.run(feed())
    told = [text for who, text in notes if who == "Bea"]
    assert told == [text for who, text in notes if who == "Ana"]  # both tiles, the same words
    assert any(t.startswith("Hand-off at ") and "into the 30 m zone" in t for t in told), told
    assert sum(t.startswith("Bea went at ") for t in told) == 1  # told once, not per stride


def test_relay_session_takes_the_name_stridecue_sessions_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _relay_session(tmp_path)
    monkeypatch.setenv("STRIDECUE_SESSIONS", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)  # not the sessions folder: the name alone
    assert main(["relay", "relay", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exchanges"][0]["incoming"] == "Ana"
    # one CSV where a session was meant, or no such session: one line, exit 2
    csv = tmp_path / "ana.csv"
    csv.write_text("t_s,stride_time_s,stride_length_m\n")
    for arg, says in ((str(csv), "give two stride CSVs"), ("nosuch", "no session 'nosuch'")):
        assert main(["relay", arg]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1
