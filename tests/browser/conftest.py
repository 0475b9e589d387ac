"""Browser tests: Debian's chromium driven by Playwright, the dashboard on its own loop thread."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserkit import CHROMIUM_ARGS, LoopThread, chromium_path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API holds an event loop in this thread while it
    runs, so it must be stopped before other modules' asyncio tests start."""
    exe = chromium_path()
    if exe is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $STRIDECUE_ARTIFACTS or artifacts/browser (gitignored)."""
    root = Path(os.environ.get("STRIDECUE_ARTIFACTS", Path(__file__).parents[2] / "artifacts"))
    out = root / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()
