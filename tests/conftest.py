"""Shared fixtures: repository paths and the real recordings in ../shared/data."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STRIDECUE_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The validation recordings; tests that need them skip with the reason when absent."""
    if not DATA.is_dir():
        pytest.skip(f"real recordings not found at {DATA} (set STRIDECUE_DATA to their folder)")
    return DATA


@pytest.fixture(autouse=True, scope="module")
def _collect_leaks() -> Iterator[None]:
    """Collect garbage after each module, so an unclosed socket or file is reported against
    the module that left it open rather than whichever later test next runs the collector."""
    yield
    gc.collect()
