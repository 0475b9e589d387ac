"""Type check of the pod firmware against the MicroPython ESP32-S3 board stubs,
and its wire constants against the host's protocol enums.

mypy runs on firmware/main.py and the hardware-facing stridepod modules with the
MicroPython stdlib stubs as its typeshed (so CPython-only APIs are errors) and
the board's `machine`, `bluetooth`, `micropython`, `time` stubs on its path, with
--check-untyped-defs (the firmware has no annotations by design: STYLE.md 4), so
every call into `machine.I2C`, `PWM`, `ADC`, `WDT`, `bluetooth.BLE`, `time.ticks_*`
is checked against the board's real signatures. Errors inside the stub package
itself are not ours and are silenced per module; nothing else is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from stridecue import firmware
from stridecue.protocol.records import (
    ConfigKey,
    Kind,
    Opcode,
    Pattern,
    PodCoach,
    Result,
    SessionFlag,
    StrideFlag,
)

ROOT = Path(__file__).resolve().parents[1]
STUBS = "micropython-esp32-esp32_generic_s3-stubs"
CHECKED = [
    "main.py",
    "stridepod/app.py",
    "stridepod/battery.py",
    "stridepod/bonds.py",
    "stridepod/ble.py",
    "stridepod/fallback.py",
    "stridepod/haptics.py",
    "stridepod/lsm6dso32.py",
    "stridepod/rt.py",
    "stridepod/serial_link.py",
    "stridepod/service.py",
    "stridepod/store.py",
]
# the stub package's own defects (undefined names inside machine.pyi, etc.)
STUB_MODULES = ["machine", "bluetooth", "micropython", "time", "_mpy_shed.*", "_mpy_shed"]


def _stub_dir(tmp: Path) -> tuple[Path, Path]:
    try:
        dist = metadata.distribution(STUBS)
        std = metadata.distribution("micropython-stdlib-stubs")
    except metadata.PackageNotFoundError:
        pytest.fail(f"{STUBS} is not installed: pip install -e '.[dev]'")
    board = tmp / "board"
    for f in dist.files or []:
        if f.suffix == ".pyi":
            dst = board / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(dist.locate_file(f))), dst)
    shed = Path(str(std.locate_file("_mpy_shed")))
    shutil.copytree(shed, board / "_mpy_shed")
    typeshed = Path(str(std.locate_file("stdlib"))).parent
    return board, typeshed


def _mypy(tmp: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    board, typeshed = _stub_dir(tmp)
    cfg = tmp / "mypy.ini"
    cfg.write_text(
        "[mypy]\ncheck_untyped_defs = True\nwarn_unused_ignores = True\n"
        # firmware's `try: from micropython import const / except: def const`
        # fallbacks and the MicroPython/CPython branches of rt.py are redefinitions
        "disable_error_code = misc, no-redef\n"
        + "".join(f"\n[mypy-{m}]\nignore_errors = True\n" for m in STUB_MODULES)
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(cfg),
            "--custom-typeshed-dir",
            str(typeshed),
            "--no-site-packages",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp / "cache"),
            *files,
        ],
        cwd=ROOT / "firmware",
        env={"MYPYPATH": str(board), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_firmware_type_checks_against_board_stubs(tmp_path: Path) -> None:
    r = _mypy(tmp_path, CHECKED)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"no issues found in {len(CHECKED)} source files" in r.stdout


def test_the_check_catches_a_wrong_hardware_call(tmp_path: Path) -> None:
    bad = tmp_path / "_typecheck_probe.py"
    bad.write_text(
        "import machine\n\n\ndef f():\n"
        "    pwm = machine.PWM(machine.Pin(7), freq=20000)\n"
        "    pwm.duty_u16(1, 2, 3)\n"
        "    machine.I2C(0).readfrom_mem_into(0x6A, 0x0F)\n"
    )
    r = _mypy(tmp_path, [str(bad)])
    assert r.returncode == 1
    assert "_typecheck_probe.py:6" in r.stdout and "_typecheck_probe.py:7" in r.stdout


def _consts(module: str, prefix: str) -> dict[str, int]:
    mod = firmware.load(module)
    return {k[len(prefix) :]: v for k, v in vars(mod).items() if k.startswith(prefix)}


def test_firmware_wire_constants_agree_with_the_host_enums() -> None:
    # same names where both sides spell them alike, same values everywhere
    assert _consts("proto", "PAT_") == {p.name: p.value for p in Pattern}
    assert _consts("proto", "OP_") == {o.name: o.value for o in Opcode}
    assert _consts("proto", "KIND_") == {k.name: k.value for k in Kind}
    # the host adds UNKNOWN (255) for a result a newer pod may send; the pod never does
    assert sorted(_consts("proto", "R_").values()) == sorted(
        r for r in Result if r is not Result.UNKNOWN
    )
    assert sorted(_consts("proto", "F_").values()) == sorted(f.value for f in StrideFlag)
    assert _consts("proto", "SF_") == {f.name: f.value for f in SessionFlag}
    assert sorted(_consts("proto", "CS_").values()) == sorted(f.value for f in PodCoach)
    keys = sorted(_consts("service", "K_").values())
    assert keys == sorted(ConfigKey) == list(range(1, firmware.load("service").N_KEYS + 1))
