"""The session recorder and replay: byte-exact round trip, kill -9, damaged tails, full disk."""

from __future__ import annotations

import errno
import io
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from stridecue.errors import LinkError
from stridecue.links import Channel, PodInfo, Received, ReplayOptions, open_link
from stridecue.links.replay import ReplayLink
from stridecue.protocol import Cue, RscMeasurement, Status, StrideEvent
from stridecue.protocol.records import Pattern
from stridecue.recorder import Recorder, StorageFull
from stridecue.session import MAGIC, Session

T0 = 1_764_000_000_000_000_000  # a fixed host time, ns


def stride(seq: int) -> bytes:
    return bytes(StrideEvent(seq, 1000 + 700 * seq, 700, 200 + seq % 7, 2400 + seq % 50))


def items(n: int) -> list[Received]:
    """Two StrideCue pods and one RSC-only pod, interleaved, with a status now and then."""
    out: list[Received] = []
    for i in range(n):
        t = T0 + i * 350_000_000
        for pod in ("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"):
            raw = stride(i)
            out.append(Received(pod, t, Channel.POD, raw, StrideEvent.from_bytes(raw)))
        if i % 10 == 0:
            raw = bytes(Status(80, 0, 5, 5, 0, i, (0, 1, 0), i // 60))
            out.append(
                Received("AA:BB:CC:DD:EE:01", t + 1, Channel.POD, raw, Status.from_bytes(raw))
            )
        rsc = RscMeasurement(3.0, 180, 1.2, 10.0 * i, True)
        out.append(Received("stryd", t + 2, Channel.RSC, bytes(rsc), rsc))
    return out


def record(path: Path, got: list[Received], cues: int = 3) -> Path:
    with Recorder(path, athletes={"AA:BB:CC:DD:EE:01": "Ana"}) as rec:
        for pod in ("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02", "stryd"):
            rec.add_pod(PodInfo(pod=pod, firmware="0.1.0", rsc_only=pod == "stryd"), f"ble:{pod}")
        for k, item in enumerate(got):
            rec.write(item)
            if k % (len(got) // cues) == 7:
                rec.write_sent(item.pod, Channel.CUE, bytes(Cue(Pattern.RHYTHM)), item.host_ns + 5)
        rec.mark("rep 1 start", athlete="Ana", host_ns=T0)
    return path


async def replay_all(path: Path, **opts: Any) -> list[Received]:
    link = open_link(f"replay:{path}", ReplayOptions(**opts))
    await link.connect()
    out = [item async for item in link.records()]
    await link.close()
    return out


async def test_record_replay_round_trip_is_byte_exact(tmp_path: Path) -> None:
    src = items(200)
    a = record(tmp_path / "a", src)
    back = await replay_all(a, speed=0)
    key = [(r.pod, r.host_ns, r.channel, r.raw) for r in src]
    assert sorted(key) == sorted((r.pod, r.host_ns, r.channel, r.raw) for r in back)
    assert [r.record for r in back if r.pod == "stryd"] == [
        r.record for r in src if r.pod == "stryd"
    ]
    # record the replay again, sent cues included: every frame file is identical
    again = await replay_all(a, speed=0, include_sent=True)
    b = tmp_path / "b"
    with Recorder(b) as rec:
        for item in again:
            rec.write(item)
    for f in (a / "pods").iterdir():
        assert (b / "pods" / f.name).read_bytes() == f.read_bytes(), f.name
    s = Session.open(a)
    assert s.meta["athletes"] == {"AA:BB:CC:DD:EE:01": "Ana"}
    assert s.meta["pods"]["stryd"]["rsc_only"] is True
    assert s.marks()[0].text == "rep 1 start"
    assert sum(1 for _, f in s.merged() if f.channel == Channel.CUE) == 3
    assert s.duration_s() > 0


async def test_replay_paced_at_n_times(tmp_path: Path) -> None:
    src = items(11)  # 3.5 s of recording
    path = record(tmp_path / "s", src)
    t = time.monotonic()
    back = await replay_all(path, speed=10.0)
    took = time.monotonic() - t
    assert len(back) == len(src)
    assert 0.3 <= took < 1.5, took  # 3.5 s / 10


async def test_bad_names_and_speeds(tmp_path: Path) -> None:
    with pytest.raises(LinkError, match="stridecue sessions"):
        await replay_all(tmp_path / "missing")
    with pytest.raises(LinkError, match="negative"):
        open_link("replay:x", ReplayOptions(speed=-1))
    with pytest.raises(LinkError, match="ble:NAME-or-ADDRESS"):
        open_link("bluetooth:pod")
    with pytest.raises(LinkError, match="names no PORT"):
        open_link("serial:")


@pytest.mark.parametrize("cut", [5, 17])
async def test_truncated_tail_reported_and_valid_part_replays(tmp_path: Path, cut: int) -> None:
    path = record(tmp_path / "s", items(50), cues=1)
    f = path / "pods" / "AA-BB-CC-DD-EE-02.scf"
    size = f.stat().st_size
    os.truncate(f, size - cut)
    link = open_link(f"replay:{path}", ReplayOptions(speed=0))
    assert isinstance(link, ReplayLink)
    await link.connect()
    got = [r async for r in link.records()]
    (tail,) = link.bad_tails
    assert tail.path == f and tail.offset == size - 34 and tail.nbytes == 34 - cut
    assert "cut short" in tail.reason and f"{34 - cut} bytes from offset {size - 34}" in str(tail)
    pod2 = [r.seq for r in got if r.pod == "AA:BB:CC:DD:EE:02"]
    assert pod2 == list(range(49))  # the last stride is gone, every other one plays


async def test_corrupted_tail_reported(tmp_path: Path) -> None:
    path = record(tmp_path / "s", items(50), cues=1)
    f = path / "pods" / "AA-BB-CC-DD-EE-02.scf"
    data = bytearray(f.read_bytes())
    data[-10] ^= 0x40  # inside the last stride's payload
    f.write_bytes(bytes(data))
    s = Session.open(path)
    (tail,) = s.bad_tails
    assert tail.offset == len(data) - 34 and tail.nbytes == 34 and "CRC" in tail.reason
    assert len(s.files["AA:BB:CC:DD:EE:02"].frames) == 49


class FullDisk(io.FileIO):
    """A real file on a disk with ``room`` bytes left: a short write, then ENOSPC."""

    room = 600

    def write(self, data: Any) -> int:
        left = FullDisk.room - self.tell()
        if left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(bytes(data)[:left])


def test_full_disk_keeps_what_was_written(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "s", opener=lambda p: FullDisk(p, "ab"))
    rec.add_pod(PodInfo(pod="p1"))
    written = 0
    with pytest.raises(StorageFull, match=r"disk full .* frames .* are kept .* free some space"):
        for item in items(100):
            rec.write(Received("p1", item.host_ns, item.channel, item.raw, item.record))
            written += 1
    rec.close()
    s = Session.open(tmp_path / "s")
    assert s.bad_tails == []  # the partial record was cut back off
    assert len(s.files["p1"].frames) == written > 0
    assert (tmp_path / "s" / "pods" / "p1.scf").stat().st_size <= FullDisk.room


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from stridecue.links import Channel, PodInfo
    from stridecue.protocol import StrideEvent
    from stridecue.recorder import Recorder, StorageFull
    rec = Recorder(Path(sys.argv[1]))
    rec.add_pod(PodInfo(pod="pod"))
    seq = 0
    try:
        while True:
            raw = bytes(StrideEvent(seq, seq * 700, 700, 200, 2400))
            rec.write_sent("pod", Channel.POD, raw, 1 + seq)
            print(seq, flush=True)
            seq += 1
    except StorageFull as e:
        print("FULL", e, flush=True)
    """
)


def test_sigkill_mid_session_replays_every_flushed_frame(tmp_path: Path) -> None:
    path = tmp_path / "s"
    p = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None
    last = -1
    for line in p.stdout:
        last = int(line)
        if last >= 500:
            break
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    p.stdout.close()
    s = Session.open(path)
    frames = s.files["pod"].frames
    assert len(frames) >= last + 1  # every frame reported written is there
    assert [StrideEvent.from_bytes(f.raw).seq for f in frames] == list(range(len(frames)))
    assert s.bad_tails == []


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_file_size_limit_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "s"
    r = subprocess.run(
        [sys.executable, "-c", WRITER, str(path)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        timeout=60,
        check=False,
    )
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("FULL disk full while recording"), r.stdout[-500:] + r.stderr
    s = Session.open(path)
    frames = s.files["pod"].frames
    assert len(frames) == int(lines[-2]) + 1 and s.bad_tails == []
    f = path / "pods" / "pod.scf"
    assert f.read_bytes().startswith(MAGIC) and f.stat().st_size <= 4096
