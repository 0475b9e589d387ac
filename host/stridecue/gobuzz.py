"""Go buzz (experimental): buzz the outgoing runner's pod as the incoming runner
reaches the check mark, from the incoming runner's own strides.

The incoming runner's position is ``-approach_m`` at their first stride plus the
lengths of the strides reported since; between reports it is extrapolated at their
speed over the last few strides. A stride is reported some time after its contact
(the pod decides the stride, then the link carries it: ~137 ms + ~20 ms), which the
predictor measures on every report (arrival time minus contact time) and so does not
need told. When the runner will reach the mark before the next report is expected,
the buzz is scheduled so it *arrives* at the pod (``link_s`` after it is sent) as
they reach the mark; it is sent at once if that moment has passed.

:class:`GoPredictor` is the decision alone (used by the simulator benchmark,
benchmarks/relay.py); :class:`GoBuzz` is the practice subscriber that sends the cue.
It is a prediction from stride lengths: a stride-length bias ``b`` puts the runner
``b`` x (approach - mark) metres off at the mark (docs/relay.md).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from stridecue.links.base import Received
from stridecue.practice import CueBy, Listener, Practice, Row
from stridecue.protocol import Cue, StrideEvent
from stridecue.protocol.records import Pattern
from stridecue.relay import PAUSE_S

LINK_S = 0.020  # host to pod, one way (a BLE connection interval or a USB write)
GO_CUE = Cue(Pattern.PULSE, 100, 1, 300)


class GoPredictor:
    """When to send the go buzz, from the incoming runner's stride reports."""

    def __init__(
        self, approach_m: float, mark_m: float, link_s: float = LINK_S, speed_strides: int = 3
    ) -> None:
        if not (approach_m > mark_m > 0):
            raise ValueError(f"need approach_m ({approach_m}) > mark_m ({mark_m}) > 0")
        self.mark_x = -mark_m
        self.link_s = link_s
        self.x = -approach_m  # position at the newest reported contact
        self.t_s = math.nan  # that contact's time
        self._recent: deque[tuple[float, float]] = deque(maxlen=speed_strides)
        self.fired = False
        self.report_delay_s = math.nan  # arrival - contact of the newest report

    @property
    def speed_mps(self) -> float:
        t = sum(st for st, _ in self._recent)
        return sum(sl for _, sl in self._recent) / t if t > 0 else math.nan

    def on_stride(
        self, t_s: float, stride_time_s: float, stride_length_m: float, now_s: float
    ) -> float | None:
        """Take a stride reported at ``now_s``; the time to send the buzz, or None (not
        yet: a later report will be closer). Returns a time only once."""
        if self.fired:
            return None
        self.x += stride_length_m
        self.t_s = t_s
        self.report_delay_s = now_s - t_s
        if stride_time_s > 0:
            self._recent.append((stride_time_s, stride_length_m))
        v = self.speed_mps
        if not v > 0:
            return None
        t_mark = t_s + (self.mark_x - self.x) / v  # in the past once they are past it
        send = t_mark - self.link_s
        next_report = now_s + (self._recent[-1][0] if self._recent else 0.5)
        if send > next_report:
            return None
        self.fired = True
        return max(send, now_s)


class GoBuzz(Listener):
    """Subscribe to a live practice: buzz ``outgoing``'s pod at ``incoming``'s mark.

    Once per attempt: a pause of more than :data:`stridecue.relay.PAUSE_S` in the
    incoming runner's strides starts a new run, and the predictor starts again."""

    def __init__(
        self,
        practice: Practice,
        incoming: str,
        outgoing: str,
        *,
        approach_m: float,
        mark_m: float,
        link_s: float = LINK_S,
    ) -> None:
        self.practice = practice
        self.incoming = incoming
        self.outgoing = outgoing
        self._args = (approach_m, mark_m, link_s)
        self.predictor = GoPredictor(approach_m, mark_m, link_s)
        self.sent_at_s: float | None = None  # the newest buzz, session seconds
        self.buzzes: list[float] = []  # every buzz sent (one per attempt), session seconds
        self._last_contact_s = math.nan
        self._tasks: set[asyncio.Task[bool]] = set()
        self._timers: list[asyncio.TimerHandle] = []

    def record(self, row: Row, item: Received, t_s: float) -> None:
        if self.incoming not in (row.pod, row.athlete):
            return
        rec = item.record
        if not isinstance(rec, StrideEvent):
            return
        begin = t_s - rec.stride_time_ms / 1000.0
        if begin - self._last_contact_s > PAUSE_S:  # a new run: a new attempt at the exchange
            self.predictor = GoPredictor(*self._args)
        self._last_contact_s = t_s
        now = self.practice.now_s()
        send = self.predictor.on_stride(
            t_s, rec.stride_time_ms / 1000.0, rec.stride_length_mm / 1000.0, now
        )
        if send is None:
            return
        speed = getattr(self.practice.clock, "speed", 1.0) or 1.0
        loop = asyncio.get_running_loop()
        self._timers = [h for h in self._timers if not h.cancelled()]
        self._timers.append(loop.call_later(max(0.0, send - now) / speed, self._go))

    def cancel(self) -> None:
        """Send no buzz still scheduled (the setup was replaced)."""
        for h in self._timers:
            h.cancel()
        self._timers.clear()

    def _go(self) -> None:
        out = self.practice.find(self.outgoing)
        if out is None:
            return
        self.sent_at_s = self.practice.now_s()
        self.buzzes.append(self.sent_at_s)
        task = asyncio.ensure_future(
            self.practice._send(out, GO_CUE, "go: incoming runner at the mark", CueBy.AUTO, 0)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
