"""The coach's web dashboard: live tiles per athlete, coach controls and replay.

``LiveState`` holds what the page shows; ``Feed`` turns what a practice publishes
into it; ``PracticeControls`` puts the page's buttons on the practice (a manual cue is
the practice's own); ``ReplayPlayer`` drives a practice over a recorded session with
seek; ``Dashboard`` serves the page with Bokeh from the running event loop;
``serve_practice`` puts all of it beside a running practice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

DEFAULT_HOST = "127.0.0.1"  # loopback: a tablet needs --host 0.0.0.0 on purpose
DEFAULT_PORT = 8765

if TYPE_CHECKING:
    from stridecue.dashboard.feed import Feed
    from stridecue.dashboard.live import PracticeControls, serve_practice
    from stridecue.dashboard.replay import ReplayPlayer, Timeline
    from stridecue.dashboard.server import Dashboard
    from stridecue.dashboard.state import LiveState

# Exports load on first use: Bokeh takes a second to import, and the CLI (every
# `stridecue` command) and the report import light parts of this package.
_WHERE = {
    "Feed": "feed",
    "PracticeControls": "live",
    "serve_practice": "live",
    "ReplayPlayer": "replay",
    "Timeline": "replay",
    "Dashboard": "server",
    "LiveState": "state",
}


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Dashboard",
    "Feed",
    "LiveState",
    "PracticeControls",
    "ReplayPlayer",
    "Timeline",
    "serve_practice",
]
