"""The one reader of a session folder (`Session.items`) and the consumers that read through it.

Order over pods, the sent frames, the sped-up simulation's time, and a frame that does
not decode: skipped and described once, the same by the replay link, the dashboard's
timeline and the session model (report, exports).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from stridecue.dashboard import Timeline
from stridecue.links import Channel, PodInfo, Received, ReplayOptions, open_link
from stridecue.links.replay import ReplayLink
from stridecue.protocol import ControlRequest, Cue, RscMeasurement, Status, StrideEvent
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder
from stridecue.session import Session, encode_stored
from stridecue.sessiondata import load
from test_dashboard_data import START_NS, write_session

T0 = 1_764_000_000_000_000_000
MS = 1_000_000


def _stride(seq: int) -> bytes:
    return bytes(StrideEvent(seq, 1000 + 700 * seq, 700, 200, 2400))


def small_session(path: Path, speed: float = 1.0) -> Path:
    """Two StrideCue pods and an RSC pod, with a tie in host time, a cue and a control sent."""
    status = bytes(Status(80, 0, 5, 5, 0, 1, (0, 1, 0), 0))
    rsc = bytes(RscMeasurement(3.0, 180, 1.2, 10.0, True))
    with Recorder(path, settings={"speed": speed}) as rec:
        rec.meta["start_ns"] = T0
        for pod in ("p1", "p2", "rsc"):
            rec.add_pod(PodInfo(pod=pod, rsc_only=pod == "rsc"))
        rec.write_sent("p1", Channel.POD, _stride(0), T0)
        rec.write_sent("p1", Channel.POD, _stride(1), T0 + 300 * MS)
        rec.write_sent("p1", Channel.CUE, bytes(Cue(Pattern.RHYTHM)), T0 + 350 * MS)
        rec.write_sent("p1", Channel.POD, status, T0 + 400 * MS)
        rec.write_sent("p1", Channel.CONTROL, bytes(ControlRequest.start(7, 123)), T0 + 450 * MS)
        rec.write_sent("p2", Channel.POD, _stride(0), T0 + 100 * MS)
        rec.write_sent("p2", Channel.POD, _stride(1), T0 + 300 * MS)  # the same ns as p1's
        rec.write_sent("rsc", Channel.RSC, rsc, T0 + 200 * MS)
        rec.mark("lap", athlete="p2", host_ns=T0 + 500 * MS)
    return path


def _key(r: Received) -> tuple[str, int, Channel, str]:
    return r.pod, (r.host_ns - T0) // MS, r.channel, type(r.record).__name__


def test_items_in_host_order_over_pods_ties_in_file_order(tmp_path: Path) -> None:
    s = Session.open(small_session(tmp_path / "s"))
    got = list(s.items())
    assert [_key(r) for r in got] == [
        ("p1", 0, Channel.POD, "StrideEvent"),
        ("p2", 100, Channel.POD, "StrideEvent"),
        ("rsc", 200, Channel.RSC, "RscMeasurement"),
        ("p1", 300, Channel.POD, "StrideEvent"),
        ("p2", 300, Channel.POD, "StrideEvent"),  # a tie keeps the pods' file order
        ("p1", 400, Channel.POD, "Status"),
    ]
    assert all(type(r.channel) is Channel for r in got)
    assert got[3].record == StrideEvent.from_bytes(_stride(1)) and got[3].raw == _stride(1)
    sent = [_key(r) for r in s.items(include_sent=True) if r.channel in (Channel.CUE, 4)]
    assert sent == [("p1", 350, Channel.CUE, "Cue"), ("p1", 450, Channel.CONTROL, "ControlRequest")]
    assert len(list(s.items(include_sent=True))) == 8
    assert s.problems == [] and s.frames_skipped == 0


def test_scaled_puts_a_sped_up_simulation_on_the_athletes_time(tmp_path: Path) -> None:
    normal = Session.open(small_session(tmp_path / "a"))
    fast = Session.open(small_session(tmp_path / "b", speed=4.0))
    assert fast.speed == 4.0 and normal.speed == 1.0
    base = [r.host_ns for r in fast.items(include_sent=True)]
    scaled = list(fast.items(include_sent=True, scaled=True))
    assert [r.host_ns for r in scaled] == [T0 + (t - T0) * 4 for t in base]
    assert [r.record for r in scaled] == [r.record for r in fast.items(include_sent=True)]
    # at real time, scaled changes nothing
    assert list(normal.items(scaled=True)) == list(normal.items())
    assert fast.athlete_ns(T0 + 500 * MS) == T0 + 2000 * MS
    assert fast.clock().host_s(T0 + 500 * MS) == pytest.approx(2.0)


def test_timeline_reads_through_the_reader(tmp_path: Path) -> None:
    path = small_session(tmp_path / "s", speed=2.0)
    tl = Timeline.load(path)
    assert tl.t0_ns == T0
    assert [(it.pod, (it.host_ns - T0) // MS, it.kind) for it in tl.items] == [
        ("p1", 0, "record"),
        ("p2", 200, "record"),
        ("rsc", 400, "record"),  # an RSC pod replays as it showed live
        ("p1", 600, "record"),
        ("p2", 600, "record"),
        ("p1", 700, "record"),  # the cue sent
        ("p1", 800, "record"),  # the status; the control request is not shown
        ("p2", 1000, "mark"),
    ]
    assert isinstance(tl.items[5].payload, Cue)
    assert tl.duration_s == pytest.approx(1.0)


def _append(path: Path, pod_file: str, channel: int, host_ns: int, raw: bytes) -> None:
    """A checked record (good CRC) whose payload is whatever the test says."""
    with (path / "pods" / pod_file).open("ab") as f:
        f.write(encode_stored(channel, host_ns, raw))


async def _replayed(path: Path) -> tuple[list[Received], list[str]]:
    link = open_link(f"replay:{path}", ReplayOptions(speed=0))
    assert isinstance(link, ReplayLink)
    await link.connect()
    got = [r async for r in link.records()]
    await link.close()
    return got, link.problems


async def test_a_bad_frame_is_skipped_and_reported_alike_by_every_reader(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clean = write_session(tmp_path / "a", athletes=2, reps=1)
    path = write_session(tmp_path / "b", athletes=2, reps=1)
    mid = START_NS + 30_000 * MS
    _append(path, "pod-ada.scf", Channel.POD, mid, b"\x09\x01\x00")  # an unknown record kind
    _append(path, "pod-ben.scf", Channel.POD, mid + 1, _stride(5)[:10])  # a stride cut short
    _append(path, "pod-ben.scf", Channel.CUE, mid + 2, _stride(5))  # not a cue
    _append(path, "pod-ben.scf", 9, mid + 3, b"\x01")  # a channel nobody knows
    with caplog.at_level(logging.WARNING):
        replayed, link_problems = await _replayed(path)
    assert sum("record kind 0x09" in r.getMessage() for r in caplog.records) == 1
    tl = Timeline.load(path)
    data = load(path)
    assert len(link_problems) == 4
    assert link_problems == tl.problems == data.problems
    text = "\n".join(link_problems)
    assert "pod-ada: pod frame at host ns" in text and "record kind 0x09 is unknown" in text
    assert "cut short" in text or "need 18" in text
    assert "pod-ben: cue frame" in text and "channel 9 is unknown" in text
    # every other frame reads as in the clean session
    clean_replay, clean_problems = await _replayed(clean)
    link = open_link(f"replay:{clean}")
    await link.connect()
    assert isinstance(link, ReplayLink)
    offsets = [i.clock_offset_ms for i in link.pod_infos()]
    assert offsets == [START_NS / 1e6, START_NS / 1e6]  # the time sync replays too
    await link.close()
    assert clean_problems == []
    assert [r.raw for r in replayed] == [r.raw for r in clean_replay]
    assert [it.payload for it in tl.items] == [it.payload for it in Timeline.load(clean).items]
    clean_data = load(clean)
    for a, b in zip(data.athletes, clean_data.athletes, strict=True):
        assert a.strides == b.strides and a.cues == b.cues and a.reps == b.reps
    # logged once per session read, however often its frames are read
    caplog.clear()
    s = Session.open(path)
    for _ in range(3):
        list(s.items(include_sent=True))
    assert s.frames_skipped == 4 and len(s.problems) == 4
    assert sum("record kind 0x09" in r.getMessage() for r in caplog.records) == 1


def test_damaged_tail_and_bad_frame_both_listed(tmp_path: Path) -> None:
    path = small_session(tmp_path / "s")
    _append(path, "p2.scf", Channel.POD, T0 + 600 * MS, b"\x01\x01")
    with (path / "pods" / "p1.scf").open("ab") as f:
        f.write(b"\xa5\x01")  # a record cut short: the recorder was killed
    s = Session.open(path)
    assert len(s.problems) == 1 and "cut short" in s.problems[0]
    assert len(list(s.items())) == 6
    assert len(s.problems) == 2 and s.problems[1].startswith("p2: pod frame at host ns")


def test_metadata_is_checked_at_open(tmp_path: Path) -> None:
    from stridecue.session import SessionError

    path = small_session(tmp_path / "s")
    meta = json.loads((path / "session.json").read_text())
    for bad, message in (
        ({"pods": []}, r'"pods" is \[\], not an object'),
        ({"start_ns": "soon"}, '"start_ns" is'),
        ({"analysis": {"settings": {"settle_strides": 3.5}}}, "settle_strides=3.5"),
        ({"analysis": {"targets": [{"host_ns": 1}]}}, "names no pod"),
    ):
        (path / "session.json").write_text(json.dumps({**meta, **bad}))
        with pytest.raises(SessionError, match=message):
            Session.open(path)
