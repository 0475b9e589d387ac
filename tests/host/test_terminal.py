"""The live table as a coach sees it: the real CLI in a real 80x24 terminal (a pty)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLEAR = "\x1b[H\x1b[J"


def _run_in_terminal(args: list[str], cwd: Path, cols: int, rows: int, timeout_s: float) -> str:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm", "COLUMNS": str(cols), "LINES": str(rows)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridecue", *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=10) == 0, out.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return out.decode(errors="replace").replace("\r\n", "\n")


def test_the_live_table_fits_80x24_and_keeps_the_dashboard_url(tmp_path: Path) -> None:
    args = ["demo", "--duration", "40", "--speed", "10", "--athletes", "8", "--dashboard"]
    text = _run_in_terminal(
        [*args, "--port", "0", "--sessions-dir", str(tmp_path)], tmp_path, 80, 24, 90
    )
    screens = [s for s in text.split(CLEAR)[1:] if "athlete" in s]
    assert len(screens) > 5, text[-2000:]
    mid = screens[len(screens) // 2]
    for screen in (screens[len(screens) // 4], mid, screens[-2]):
        lines = screen.split("\n")[:-1]  # the screen ends with a newline
        assert len(lines) <= 24, screen
        assert max(len(ln) for ln in lines) <= 80, screen
        assert re.search(r"^dashboard: http://127\.0\.0\.1:\d+/", screen, re.M), screen
        assert re.search(r"\d\d:\d\d$", lines[0])  # the practice clock, mm:ss
    rows = [ln for ln in mid.split("\n") if ln.startswith(("Ada ", "Hana "))]
    # a state in words (a board that lags on a busy machine may already look "resting")
    states = ("running", "waiting", "resting")
    assert len(rows) == 2 and all(any(s in r for s in states) for r in rows), mid
    assert "statistic" not in text and "threshold" not in text and "p50" not in text
    assert "Traceback" not in text
