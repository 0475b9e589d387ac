"""A laptop without Bluetooth (or with BlueZ stopped): one clear line, no session left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError
from stridecue.links.ble import NoBluetooth, no_bluetooth

COMMANDS = [
    ["scan", "--timeout", "1"],
    ["live", "ble:StrideCue-EE01", "--headless"],
    ["pair", "ble:StrideCue-EE01"],
    ["record", "ble:StrideCue-EE01", "--headless"],
    ["dashboard", "ble:StrideCue-EE01", "--port", "0"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_every_bluetooth_command_says_so_in_one_line(argv: list[str], tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    env = {
        **os.environ,
        # no system bus at all: what a laptop without BlueZ (or a container) looks like
        "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}",
        "STRIDECUE_SESSIONS": str(sessions),
        "PYTHONWARNINGS": "error",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "stridecue", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert "Bluetooth" in err[0] and "stridecue demo" in err[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not sessions.exists() or not any(sessions.iterdir())  # no empty session left


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), "not running"),
        (BleakDBusError("org.bluez.Error.NotReady", []), "turn Bluetooth on"),
        (BleakDBusError("org.bluez.Error.InProgress", []), "busy"),
        (BleakBluetoothNotAvailableError("off", None), "turn it on"),  # type: ignore[arg-type]
        (FileNotFoundError(2, "No such file or directory"), "no Bluetooth"),
    ],
)
def test_each_way_bluetooth_is_missing_has_its_fix(error: BaseException, words: str) -> None:
    e = no_bluetooth(error)
    assert isinstance(e, NoBluetooth) and words in str(e) and "\n" not in str(e)


def test_a_pod_error_is_not_mistaken_for_missing_bluetooth() -> None:
    assert no_bluetooth(BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort"])) is None
    assert no_bluetooth(TimeoutError()) is None
