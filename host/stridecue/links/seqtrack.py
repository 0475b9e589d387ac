"""Every stride sequence number exactly once: drop repeats, remember holes, backfill them.

A pod numbers its strides +1 each (docs/protocol.md, stride event ``seq``). The
tracker lets each number through once, notes the ones skipped (a dropped
notification, or strides made while the link was down) and, after a reconnect,
the link asks the pod for them with BACKFILL.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable

from stridecue.protocol import ControlReply, ControlRequest
from stridecue.protocol.records import Result

log = logging.getLogger(__name__)

MAX_GAP = 100_000  # a jump larger than this is a pod reset, not a hole to fill


class SeqTracker:
    def __init__(self) -> None:
        self.high: int | None = None  # newest sequence number seen
        self.missing: set[int] = set()
        self.lost = 0  # asked for but gone from the pod for good
        self.duplicates = 0
        self._filled = asyncio.Event()

    def accept(self, seq: int) -> bool:
        """True the first time ``seq`` is seen; records holes it reveals."""
        high = self.high
        if high is None or seq == high + 1:
            self.high = seq
            return True
        if seq > high:
            if seq - high <= MAX_GAP:
                self.missing.update(range(high + 1, seq))
            else:
                log.warning(
                    "stride seq jumped from %d to %d: pod reset? not backfilling", high, seq
                )
            self.high = seq
            return True
        if seq in self.missing:
            self.missing.discard(seq)
            self._filled.set()
            return True
        self.duplicates += 1
        return False

    def expect_up_to(self, last_seq: int) -> None:
        """The pod says its newest stride is ``last_seq`` (status after a reconnect)."""
        if self.high is not None and self.high < last_seq <= self.high + MAX_GAP:
            self.missing.update(range(self.high + 1, last_seq + 1))
            self.high = last_seq

    def ranges(self) -> list[tuple[int, int]]:
        """The holes as (from_seq, count) runs, count ≤ 65535 (one BACKFILL each)."""
        out: list[tuple[int, int]] = []
        for s in sorted(self.missing):
            if out and out[-1][0] + out[-1][1] == s and out[-1][1] < 0xFFFF:
                out[-1] = (out[-1][0], out[-1][1] + 1)
            else:
                out.append((s, 1))
        return out

    def give_up(self, first: int, count: int) -> None:
        gone = self.missing.intersection(range(first, first + count))
        if gone:
            log.warning(
                "strides %d..%d are gone from the pod: %d lost", first, first + count - 1, len(gone)
            )
            self.lost += len(gone)
            self.missing.difference_update(gone)

    async def wait_filled(self, first: int, count: int, timeout_s: float) -> bool:
        """Wait until none of first..first+count-1 is missing; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        want = range(first, first + count)
        while any(s in self.missing for s in want):
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._filled.clear()
            try:
                await asyncio.wait_for(self._filled.wait(), left)
            except TimeoutError:
                return False
        return True


async def backfill(
    tracker: SeqTracker,
    control: Callable[[ControlRequest], Awaitable[ControlReply]],
    token: Callable[[], int],
    *,
    per_record_s: float = 0.02,
) -> int:
    """Ask the pod for every missing stride; returns how many are still missing."""
    for first, count in tracker.ranges():
        reply = await control(ControlRequest.backfill(token(), first, count))
        if reply.result is Result.NOT_FOUND:
            tracker.give_up(first, count)
            continue
        if reply.result is not Result.OK or len(reply.payload) < 6:
            log.warning("BACKFILL %d+%d refused: %s", first, count, reply.result.name)
            continue
        got_first, n = struct.unpack_from("<IH", reply.payload)
        if got_first > first:
            tracker.give_up(first, got_first - first)
        if n and not await tracker.wait_filled(got_first, n, 1.0 + n * per_record_s):
            log.warning("BACKFILL %d+%d: not every record arrived", got_first, n)
        if got_first + n < first + count:
            tracker.give_up(got_first + n, first + count - got_first - n)
    return len(tracker.missing)
