"""The pod app's RAM on the MicroPython unix port (benchmarks/ram_budget.py).

The 64 KB budget is the whole app's peak heap (its module code and everything
it allocates) with the code in place (ROMFS or frozen), judged on a 32-bit
build of the unix port: the pods' MCUs are 32-bit. The wheel's unix port is
64-bit (8-byte pointers): there the app's own heap must still fit the budget,
and the whole app must keep running in the heap it needs today, a guard
against regressions. With a 32-bit build at hand (STRIDECUE_MICROPYTHON32,
built as docs/firmware.md says) the budget itself is checked.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest
from benchload import load

KB = 1024
# 64-bit port, code in ROMFS: measured 77 KB (2026-12); a regression guard
X64_ROMFS_HEAP = 84 * KB


def _ram_budget() -> ModuleType:
    return load("ram_budget")


def test_app_heap_within_64_kb() -> None:
    rb = _ram_budget()
    res = rb.measure(run_ms=3000)
    assert res["strides"] >= 2 and res["dropped"] == 0 and res["tasks_died"] == 0, res
    assert res["app_live_peak_bytes"] < rb.BUDGET_BYTES, res
    assert res["app_burst_peak_bytes"] < rb.BUDGET_BYTES, res
    # in a session the app makes little garbage: no per-sample or per-wake allocation
    assert res["app_burst_peak_bytes"] - res["app_live_peak_bytes"] < 8 * KB, res
    assert res["code_bytes"] > 0


def test_whole_app_runs_in_its_heap_on_the_64_bit_port() -> None:
    rb = _ram_budget()
    env, extra = rb.build(romfs=True)
    res = rb.runs_in(env, extra, 3000, X64_ROMFS_HEAP)
    assert res is not None, f"the whole app no longer runs in {X64_ROMFS_HEAP // KB} KB"
    assert res["heap_free_at_base"] <= X64_ROMFS_HEAP and res["strides"] >= 2


def test_whole_app_within_64_kb_on_a_32_bit_port() -> None:
    exe = os.environ.get("STRIDECUE_MICROPYTHON32")
    if not exe:
        pytest.skip(
            "no 32-bit unix port: set STRIDECUE_MICROPYTHON32 to one built as "
            "docs/firmware.md 'RAM budget' says (the wheel's port is 64-bit)"
        )
    rb = _ram_budget()
    rb.EXE = exe
    assert rb.unix_march() == "x86", f"{exe} is not a 32-bit x86 unix port"
    res = rb.measure(run_ms=3000, romfs=True)
    assert res["code_bytes"] + res["app_burst_peak_bytes"] < rb.BUDGET_BYTES, res
    env, extra = rb.build(romfs=True)
    assert rb.runs_in(env, extra, 3000, rb.BUDGET_BYTES) is not None
