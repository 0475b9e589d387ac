"""What the page's buttons call: coach controls (live) and the replay player."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from stridecue.analysis.plan import Plan
from stridecue.analysis.targets import Targets

SPEEDS = (1.0, 2.0, 4.0, 8.0, 16.0)


class Controls(Protocol):
    """Coach actions on one athlete; the live hub and replay both implement it."""

    @property
    def can_cue(self) -> bool:
        """True when a manual cue can reach a pod (live), False in replay."""
        ...

    async def cue(self, pod: str) -> None:
        """Buzz the athlete's pod now (the coach's manual cue always goes through)."""

    def lap(self, pod: str) -> None:
        """Mark a lap/split for the athlete at the current time."""

    def start_rep(self, pod: str) -> None: ...

    def stop_rep(self, pod: str) -> None: ...

    def set_targets(self, pod: str, targets: Targets) -> Targets:
        """Apply the coach's targets (cadence, stride length, 400 m goal, rep distance,
        plan); returns those applied (with a rep distance and no plan: the roster's plan)."""
        ...

    def plans(self, pod: str) -> Mapping[float, Plan]:
        """The athlete's roster plans by rep distance (m); none in a replay."""
        ...


class Player(Protocol):
    """Replay transport: play/pause, 1x-16x, seek."""

    @property
    def playing(self) -> bool: ...

    @property
    def speed(self) -> float: ...

    @property
    def duration_s(self) -> float: ...

    def play(self) -> None: ...

    def pause(self) -> None: ...

    def set_speed(self, speed: float) -> None: ...

    def seek(self, t_s: float) -> None: ...
