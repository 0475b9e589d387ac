"""A private system-type dbus-daemon for one test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow user="*"/>
  </policy>
</busconfig>
"""


@contextmanager
def dbus_daemon(tmp: Path) -> Iterator[str]:
    """Start dbus-daemon with a permissive config; yields its bus address."""
    exe = shutil.which("dbus-daemon")
    if exe is None:
        raise RuntimeError("dbus-daemon not found: apt-get install dbus")
    conf = tmp / "bus.conf"
    conf.write_text(CONFIG.format(socket=tmp / "bus.sock"))
    p = subprocess.Popen(
        [exe, f"--config-file={conf}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert p.stdout is not None
        address = p.stdout.readline().strip()
        if not address:
            raise RuntimeError(f"dbus-daemon exited with {p.wait()}")
        yield address
    finally:
        p.terminate()
        p.wait(timeout=5)
        if p.stdout is not None:
            p.stdout.close()
