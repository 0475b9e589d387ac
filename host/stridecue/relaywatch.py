"""Relay practice, live: after each exchange the coach reads what happened on both tiles.

A :class:`stridecue.practice.Listener`: it keeps the team's strides on the practice's
one clock and, once the outgoing runner has run through the zone (and on a little),
measures the exchange exactly as the report does (:func:`stridecue.relay.session_attempts`)
and announces it on both runners' rows: the hand-off point, both speeds, and where to
put the check mark next time (docs/relay.md).
"""

from __future__ import annotations

from stridecue import relay
from stridecue.errors import StrideCueError
from stridecue.links.base import Received
from stridecue.practice import Listener, Practice, Row
from stridecue.protocol import StrideEvent, StrideFlag
from stridecue.relay import RelaySetup, S

PAST_ZONE_M = 10.0  # the outgoing runner is this far past the zone: the exchange is over


class RelayWatch(Listener):
    """Measures each exchange of a relay practice as soon as it is over."""

    def __init__(self, practice: Practice, setup: RelaySetup) -> None:
        self.practice = practice
        self.setup = setup
        self.strides: dict[str, list[S]] = {name: [] for name in setup.team}
        self.rows: dict[str, Row] = {}
        self.told: set[tuple[int, float]] = set()  # (exchange, start) already announced

    def record(self, row: Row, item: Received, t_s: float) -> None:
        rec = item.record
        name = row.athlete
        if name not in self.strides or not isinstance(rec, StrideEvent):
            return
        if rec.flags & StrideFlag.BACKFILLED and self.strides[name]:
            return  # late strides of a reconnect: the exchange was measured without them
        self.rows[name] = row
        self.strides[name].append(S(t_s, rec.stride_time_s, rec.stride_length_m))
        if self.setup.team.index(name) > 0:
            self._check()

    def _check(self) -> None:
        team = [(n, self.strides[n]) for n in self.setup.team]
        try:
            attempts = relay.session_attempts(team, self.setup)
        except StrideCueError:
            return  # not measurable yet (the incoming runner has no strides, ...)
        for at in attempts:
            key = (at.leg, round(at.exchange.start_t_s, 2))
            ran = sum(s.stride_length_m for s in at.outgoing_strides)
            if key in self.told or ran < at.exchange.zone_m + PAST_ZONE_M:
                continue
            self.told.add(key)
            lines = relay.describe(at.exchange, at.incoming, at.outgoing)
            for name in (at.incoming, at.outgoing):
                row = self.rows.get(name)
                if row is not None:
                    for line in lines:
                        self.practice.announce(row, line)
