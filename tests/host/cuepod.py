"""A pod at the hardware edge for pipeline tests: connected, and keeps the cues written to it."""

from __future__ import annotations

from stridecue.links.base import Link, LinkState
from stridecue.protocol import Cue


class CuePod(Link):
    """Connected from the start; a test pushes its records through the practice itself."""

    scheme = "test"
    has_pod = False  # no control requests: nothing to START

    def __init__(self, name: str = "pod") -> None:
        super().__init__(f"test:{name}", name)
        self.cues: list[Cue] = []
        self.state = LinkState.CONNECTED

    async def connect(self) -> None: ...

    async def write_cue(self, cue: Cue) -> None:
        self.cues.append(cue)

    async def _send_control(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def lose(self) -> None:
        """The radio link drops (the link starts reconnecting)."""
        self._set_state(LinkState.RECONNECTING)
