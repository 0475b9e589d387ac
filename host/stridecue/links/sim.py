"""``sim:SCENARIO``: the pod firmware's simulation board, spawned on a pty.

The spawner belongs to the simulator (``stridecue.sim.pod``); until it is part of
this install, opening a ``sim:`` link says so instead of pretending.
"""

from __future__ import annotations

from typing import Any

from stridecue.errors import LinkError
from stridecue.links.base import Link
from stridecue.protocol import Cue


class SimLink(Link):
    scheme = "sim"

    def __init__(self, spec: str, target: str, **options: Any) -> None:
        raise LinkError(
            f"{spec}: simulated pods are not available yet in this version of stridecue; "
            "use replay:SESSION or serial:PORT"
        )

    async def connect(self) -> None:  # pragma: no cover - never constructed
        raise NotImplementedError

    async def write_cue(self, cue: Cue) -> None:  # pragma: no cover
        raise NotImplementedError

    async def _send_control(self, data: bytes) -> None:  # pragma: no cover
        raise NotImplementedError

    async def close(self) -> None:  # pragma: no cover
        raise NotImplementedError
