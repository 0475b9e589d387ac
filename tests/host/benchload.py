"""A benchmark script (benchmarks/NAME.py) as a module, for the tests that keep its figures.

The benchmarks are scripts, not a package: each is loaded from its file, registered in
``sys.modules`` (dataclasses look their module up there) and may import its sibling
benchmarks by name, so the folder is on ``sys.path`` while it loads.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str, module: str | None = None) -> ModuleType:
    """benchmarks/``name``.py, registered as ``module`` (default ``name``)."""
    spec = importlib.util.spec_from_file_location(module or name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return mod
