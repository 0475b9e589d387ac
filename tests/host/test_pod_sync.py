"""Store and forward against the pod's own service code (CPython, no transport):
``stridecue pod sync`` downloads what the pod measured alone, once, as a session
folder, and the pod keeps it until then; ``stridecue pod config`` sets what it
does alone. The whole app on the unix port: test_pod_app.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import pytest
from bluez.fwpod import FirmwarePod
from stridecue import cli, podsync
from stridecue.commands import pod as podcmd
from stridecue.errors import LinkError
from stridecue.protocol import StrideEvent, StrideFlag
from stridecue.protocol.records import ConfigKey, SessionFlag
from stridecue.session import Session
from stridecue.sessiondata import load
from test_podlink import WireLink

FIRST = int(StrideFlag.FIRST)
START = bytes.fromhex("04010101") + (1700000000).to_bytes(4, "little")
STOP = bytes.fromhex("04010202")


class Host:
    """A host that STARTs and STOPs a session (the replies are not looked at)."""

    def reply(self, conn: int, buf: bytes, n: int) -> None: ...

    def record(self, conn: int, buf: bytes, n: int) -> bool:
        return True


def own_session(fw: FirmwarePod, n: int, flags: int = 0) -> list[int]:
    """A session the pod starts by itself (motion), n strides, then rest ends it."""
    assert fw.pod.auto_start() is not None
    seqs = []
    for i in range(n):
        t = fw.clock_ms()
        seqs.append(fw.pod.on_stride(t, 700, 210, 2400 - i, FIRST if i == 0 else flags))
    fw.pod.auto_stop()
    return seqs


async def connected(fw: FirmwarePod) -> WireLink:
    link = WireLink(fw, time_sync_rounds=2)
    await link.connect()
    return link


def strides_of(path: Path) -> list[StrideEvent]:
    return [i.record for i in Session.open(path).items() if isinstance(i.record, StrideEvent)]


async def test_a_sync_downloads_each_own_session_once_with_every_stride(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    first = own_session(fw, 5)
    fw.pod.control(START, Host())
    fw.stride()  # a host's session: the host recorded it live, sync leaves it
    fw.pod.control(STOP, Host())
    second = own_session(fw, 7, int(StrideFlag.LOW_QUALITY))
    link = await connected(fw)
    root = tmp_path / "sessions"
    got = await podsync.sync(link, root)
    assert [s.session.session_id for s in got] == [1, 3] and all(s.downloaded for s in got)
    for synced, seqs in zip(got, (first, second), strict=True):
        st = strides_of(synced.path)
        assert [s.seq for s in st] == seqs  # every stride, in order, once
        assert all(s.flags & StrideFlag.BACKFILLED for s in st)  # sent again, not live
        assert st[0].flags & StrideFlag.FIRST  # the standing start is kept
        meta = json.loads((synced.path / "session.json").read_text())
        assert meta["settings"]["pod_sync"]["clock"] == podsync.SYNCED
        assert meta["pods"][link.pod]["clock_offset_ms"] == link.info.clock_offset_ms
    assert all(s.flags & StrideFlag.LOW_QUALITY for s in strides_of(got[1].path)[1:])
    # the strides sit at their contact times on the host clock
    offset = link.info.clock_offset_ms
    assert offset is not None
    for item in Session.open(got[0].path).items():
        assert isinstance(item.record, StrideEvent)
        # (within 1 us: a float of today's ns since 1970 keeps only 256 ns steps)
        assert abs(item.host_ns - (item.record.t_contact_ms + offset) * 1e6) < 1000
    listed = await link.list_sessions()
    assert [s.flags & SessionFlag.SYNCED for s in listed] == [
        SessionFlag.SYNCED,
        0,
        SessionFlag.SYNCED,
    ]
    assert await podsync.sync(link, root) == []  # a second sync: nothing
    assert len(list(root.iterdir())) == 2
    fw.pod.auto_start()  # the athlete is off again: not fetched while it records
    said: list[str] = []
    assert await podsync.sync(link, root, say=said.append) == []
    assert said == ["session 4: still recording (it ends at rest); sync again then"]
    fw.pod.auto_stop()  # (no stride: nothing kept)
    data = load(got[1].path)  # the report's model reads it like a recording
    assert [s.seq for s in data.athletes[0].strides] == second
    await link.close()


async def test_a_sync_that_died_before_the_mark_writes_nothing_twice(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    seqs = own_session(fw, 4)
    link = await connected(fw)
    root = tmp_path / "sessions"
    real_mark = link.mark_synced

    async def host_dies(session: int, records: int) -> None:
        raise LinkError("the laptop went to sleep")

    link.mark_synced = host_dies  # type: ignore[method-assign]
    with pytest.raises(LinkError):
        await podsync.sync(link, root)
    (written,) = list(root.iterdir())
    assert [s.seq for s in strides_of(written)] == seqs
    assert (await link.list_sessions())[0].waiting  # still the pod's to keep
    link.mark_synced = real_mark  # type: ignore[method-assign]
    (again,) = await podsync.sync(link, root)
    assert again.path == written and not again.downloaded  # found, only marked now
    assert list(root.iterdir()) == [written] and await podsync.sync(link, root) == []
    await link.close()


async def test_strides_that_do_not_arrive_leave_the_session_on_the_pod(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    own_session(fw, 6)
    link = await connected(fw)
    send = link.cable.record

    def lossy(conn: int, buf: bytes, n: int) -> bool:
        seq = int.from_bytes(bytes(buf[2:6]), "little")
        return True if seq == 3 else send(conn, buf, n)  # seq 3 never gets through

    link.cable.record = lossy  # type: ignore[method-assign]
    with pytest.raises(LinkError, match="5 of 6 strides arrived; nothing stored"):
        await podsync.sync(link, tmp_path / "sessions", idle_s=0.05)
    assert not (tmp_path / "sessions").exists() and (await link.list_sessions())[0].waiting
    await link.close()


async def test_a_session_from_before_a_restart_keeps_its_spacing(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    own_session(fw, 3)  # the pod never knew the date
    fw.pod.control(START, Host())
    fw.pod.control(STOP, Host())
    own_session(fw, 3)  # after a host's START: the pod knows the date
    rebooted = FirmwarePod(tmp_path / "pod")
    link = await connected(rebooted)
    got = await podsync.sync(link, tmp_path / "sessions")
    assert [s.session.session_id for s in got] == [1, 3]
    clocks = []
    for s in got:
        assert s.session.flags & SessionFlag.EARLIER_BOOT
        meta = json.loads((s.path / "session.json").read_text())
        clocks.append(meta["settings"]["pod_sync"]["clock"])
        st = strides_of(s.path)
        times = [i.host_ns for i in Session.open(s.path).items()]
        gaps_ns = [b - a for a, b in itertools.pairwise(times)]
        want_ms = [b.t_contact_ms - a.t_contact_ms for a, b in itertools.pairwise(st)]
        assert gaps_ns == [ms * 1_000_000 for ms in want_ms]  # exact: no float epoch jitter
    assert clocks == [podsync.UNKNOWN, podsync.POD_START]
    assert got[1].path.name.startswith("2023-11-14T2213")  # 1700000000: its own date
    await link.close()


def test_the_tick_counter_wrap_is_undone() -> None:
    period = podsync.TICKS_PERIOD_MS
    assert podsync._unwrapped([period - 700, 100, 800]) == [
        period - 700,
        period + 100,
        period + 800,
    ]


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["pod", *argv])


async def test_pod_config_sets_what_the_pod_does_alone(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    link = await connected(fw)
    args = parse(
        "config",
        "wire:pod",
        "--cadence",
        "205-230",  # above the default band 160-200: the high bound moves first
        "--shortening",
        "on",
        "--patterns",
        "cadence=stride,shortening=identify",
        "--rest-stop",
        "30",
    )
    have = await podcmd.configure(link, args)
    assert have[ConfigKey.FALLBACK_LOW_SPM] == 205 and have[ConfigKey.FALLBACK_HIGH_SPM] == 230
    assert have[ConfigKey.FALLBACK_CUES] == 1 and have[ConfigKey.FALLBACK_SHORTENING] == 1
    assert have[ConfigKey.CADENCE_PATTERN] == 2 and have[ConfigKey.SHORTENING_PATTERN] == 3
    assert have[ConfigKey.REST_STOP_S] == 30 and have[ConfigKey.AUTO_START] == 1
    have = await podcmd.configure(link, parse("config", "wire:pod", "--cadence", "150-170"))
    assert (have[ConfigKey.FALLBACK_LOW_SPM], have[ConfigKey.FALLBACK_HIGH_SPM]) == (150, 170)
    have = await podcmd.configure(link, parse("config", "wire:pod", "--cadence", "off"))
    assert have[ConfigKey.FALLBACK_CUES] == 0 and have[ConfigKey.FALLBACK_LOW_SPM] == 150
    text = podcmd.describe("wire:pod", have)
    assert "cadence cue        off: outside 150-170 steps/min, buzz stride" in text
    assert "pacer              off" in text and "shortening guard   off" in text
    have = await podcmd.configure(
        link,
        parse(
            "config", "wire:pod", "--pacer", "178/2", "--split-buzz", "on", "--scale", "1.03",
            "--guard", "400",
        ),
    )  # fmt: skip
    assert have[ConfigKey.PACER_SPM] == 178 and have[ConfigKey.PACER_EVERY_STEPS] == 2
    assert have[ConfigKey.SPLIT_BUZZ] == 1 and have[ConfigKey.DISTANCE_SCALE_PERMILLE] == 1030
    assert have[ConfigKey.GUARD_REP_M] == 400
    text = podcmd.describe("wire:pod", have)
    assert "pacer              on: 178 steps/min, a pulse every 2 steps" in text
    assert "split buzz         on: each 100 m of a rep, distance x 1.030" in text
    assert "shortening guard   on: reps of 400 m, buzz identify" in text
    have = await podcmd.configure(link, parse("config", "wire:pod", "--pacer", "170"))
    assert have[ConfigKey.PACER_SPM] == 170 and have[ConfigKey.PACER_EVERY_STEPS] == 2
    have = await podcmd.configure(
        link, parse("config", "wire:pod", "--pacer", "off", "--guard", "off")
    )
    assert have[ConfigKey.PACER_SPM] == 0 and have[ConfigKey.GUARD_REP_M] == 0
    rebooted = FirmwarePod(tmp_path / "pod")  # kept on the pod's flash
    assert rebooted.pod.get(ConfigKey.SHORTENING_PATTERN) == 3
    assert rebooted.pod.get(ConfigKey.DISTANCE_SCALE_PERMILLE) == 1030
    assert rebooted.pod.get(ConfigKey.SPLIT_BUZZ) == 1
    await link.close()


async def test_pod_config_puts_the_split_plan_on_the_pod(tmp_path: Path) -> None:
    fw = FirmwarePod(tmp_path / "pod")
    link = await connected(fw)
    plan_keys = [ConfigKey(k) for k in range(16, 22)]
    have = await podcmd.configure(link, parse("config", "wire:pod"))
    assert [have[k] for k in plan_keys] == [0] * 6
    assert "split plan         none: each 100 m is one pulse" in podcmd.describe("p", have)
    # the coach's checkpoints; 300 m half-way between 200 m and 400 m
    have = await podcmd.configure(
        link,
        parse("config", "wire:pod", "--split-buzz", "on", "--split-plan", "100:11.5,200:24,400:50"),
    )
    assert [fw.pod.get(k) for k in plan_keys] == [11500, 24000, 37000, 50000, 0, 0]
    text = podcmd.describe("wire:pod", have)
    assert "split plan         100 m 11.5 s, 200 m 24.0 s, 300 m 37.0 s, 400 m 50.0 s" in text
    # even pace for a 600 m rep: 75 s, 12.5 s each 100 m, past a minute in mm:ss
    have = await podcmd.configure(link, parse("config", "wire:pod", "--split-plan", "even:75/600"))
    assert [have[k] for k in plan_keys] == [12500, 25000, 37500, 50000, 62500, 75000]
    assert "500 m 1:02.5, 600 m 1:15.0" in podcmd.describe("wire:pod", have)
    # the race shape for a 400 m rep, the rep from --guard; a shorter plan stretched to it
    have = await podcmd.configure(
        link, parse("config", "wire:pod", "--split-plan", "shape:50", "--guard", "400")
    )
    assert [have[k] for k in plan_keys] == [12250, 24000, 36250, 50000, 0, 0]
    have = await podcmd.configure(
        link, parse("config", "wire:pod", "--split-plan", "100:12,200:25", "--rep-distance", "300")
    )
    assert [have[k] for k in plan_keys] == [12000, 25000, 38000, 0, 0, 0]
    rebooted = FirmwarePod(tmp_path / "pod")  # kept on the pod's flash
    assert [rebooted.pod.get(k) for k in plan_keys] == [12000, 25000, 38000, 0, 0, 0]
    have = await podcmd.configure(link, parse("config", "wire:pod", "--split-plan", "off"))
    assert [have[k] for k in plan_keys] == [0] * 6
    await link.close()


def test_the_plan_the_pods_coach_uses_is_the_increasing_prefix() -> None:
    assert podcmd.plan_prefix((12000, 25000, 0, 50000, 0, 0)) == (12000, 25000)
    assert podcmd.plan_prefix((12000, 11000, 30000, 0, 0, 0)) == (12000,)
    assert podcmd.plan_prefix((0, 12000, 0, 0, 0, 0)) == ()


async def test_pod_config_tells_an_older_pod_has_no_split_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bluez import fwpod

    monkeypatch.setattr(fwpod.service, "N_KEYS", 15)  # a firmware with keys 1-15
    fw = FirmwarePod(tmp_path / "pod")
    link = await connected(fw)
    have = await podcmd.configure(link, parse("config", "wire:pod", "--guard", "400"))
    assert ConfigKey.PLAN_100_MS not in have and have[ConfigKey.GUARD_REP_M] == 400
    assert "split plan         not on this firmware" in podcmd.describe("wire:pod", have)
    with pytest.raises(LinkError, match="this pod's firmware has no split plan; install"):
        await podcmd.configure(link, parse("config", "wire:pod", "--split-plan", "even:50"))
    await link.close()


BAD_PLANS = {  # `pod config --split-plan` refused in one line before the pod is asked
    "100:12,200:11": "is not increasing",
    "even:90/800": "the pod holds a plan for reps of 100 to 600 m",
    "100:11.5,200:24 --rep-distance 700": "give --rep-distance up to 600",
    "even:50 --rep-distance 50": "for a 50 m rep",
    "fast": "is not metres:seconds",
}


@pytest.mark.parametrize("option", BAD_PLANS)
def test_pod_config_refuses_a_plan_the_pod_cannot_hold(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, *more = option.split()
    assert cli.main(["pod", "config", "serial:/dev/null", "--split-plan", spec, *more]) == 2
    err = capsys.readouterr().err
    assert BAD_PLANS[option] in err and err.count("\n") == 1, err
    assert "Traceback" not in err


REFUSED = {  # what `pod config` refuses before it talks to the pod, and why
    "--cadence 185-170": "100 <= LO < HI <= 240",
    "--cadence fast": "LO-HI steps/min",
    "--shortening yes": "write on or off",
    "--patterns cadence=pulse": "PATTERN one of rhythm, stride, identify",
    "--patterns split=rhythm": "ALERT one of cadence, shortening",
    "--pacer 90": "100 <= SPM <= 240",
    "--pacer 180/0": "1 <= N <= 16",
    "--pacer fast": "SPM or SPM/N",
    "--split-buzz yes": "write on or off",
    "--scale 1.5": "from 0.8 to 1.2",
    "--guard 50": "in metres (100-10000)",
}


@pytest.mark.parametrize("option", REFUSED)
def test_pod_config_refuses_what_the_pod_would(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse("config", "serial:/dev/null", *option.split())
    assert REFUSED[option] in capsys.readouterr().err


def test_pod_commands_need_a_pod(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["pod", "sync", "replay:nothing"]) == 2
    assert "`stridecue pod` talks to a pod" in capsys.readouterr().err
    assert cli.main(["pod", "config", "serial:/dev/null", "--rest-stop", "5"]) == 2
    assert "--rest-stop 5: use 10 to 3600 seconds" in capsys.readouterr().err
