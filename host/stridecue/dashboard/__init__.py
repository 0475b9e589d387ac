"""The coach's web dashboard: live tiles per athlete, coach controls and replay.

``LiveState`` holds what the page shows, ``Feed`` turns records into it, ``LiveHub``
connects live links (and sends manual cues), ``ReplayPlayer`` plays a recorded
session, and ``Dashboard`` serves the page with Bokeh from the running event loop.
"""

from stridecue.dashboard.feed import Feed
from stridecue.dashboard.live import LiveHub
from stridecue.dashboard.replay import ReplayPlayer, Timeline
from stridecue.dashboard.server import DEFAULT_HOST, DEFAULT_PORT, Dashboard
from stridecue.dashboard.state import LiveState
from stridecue.dashboard.targets import Targets

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Dashboard",
    "Feed",
    "LiveHub",
    "LiveState",
    "ReplayPlayer",
    "Targets",
    "Timeline",
]
