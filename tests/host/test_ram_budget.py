"""The pod app's RAM budget on the MicroPython unix port (benchmarks/ram_budget.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_app_heap_within_64_kb() -> None:
    spec = importlib.util.spec_from_file_location(
        "ram_budget", ROOT / "benchmarks" / "ram_budget.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.measure(run_ms=3000)
    assert res["strides"] >= 2 and res["dropped"] == 0, res
    assert res["app_live_peak_bytes"] < mod.BUDGET_BYTES, res
    assert res["app_burst_peak_bytes"] < mod.BUDGET_BYTES, res
    assert res["code_bytes"] > 0
