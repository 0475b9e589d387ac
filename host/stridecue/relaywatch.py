"""Relay practice, live: after each exchange the coach reads what happened on both tiles.

A :class:`stridecue.practice.Listener`: it keeps the team's strides on the practice's
one clock and, once the outgoing runner has run through the zone (and on a little),
measures the exchange exactly as the report does (:func:`stridecue.relay.session_attempts`)
and announces it on both runners' rows: the hand-off point, both speeds, and where to
put the check mark next time (docs/relay.md).

:class:`RelayDesk` is the practice's relay: the setup in force (from ``--relay`` or
set on the dashboard, replacing an earlier one), kept in the recorded session, with
its :class:`RelayWatch` and, when the setup asks for it, the go buzz
(:class:`stridecue.gobuzz.GoBuzz`, experimental). :func:`desk_for` gives a practice's
one desk; the dashboard's relay panel listens to it (:class:`RelayListener`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from stridecue import relay
from stridecue.errors import StrideCueError
from stridecue.gobuzz import GoBuzz
from stridecue.links.base import Received
from stridecue.practice import Listener, Practice, Row
from stridecue.protocol import StrideEvent, StrideFlag
from stridecue.relay import Attempt, RelaySetup, S, leg_targets

PAST_ZONE_M = 10.0  # the outgoing runner is this far past the zone: the exchange is over


class RelayWatch(Listener):
    """Measures each exchange of a relay practice as soon as it is over."""

    def __init__(self, practice: Practice, setup: RelaySetup) -> None:
        self.practice = practice
        self.setup = setup
        self.strides: dict[str, list[S]] = {name: [] for name in setup.team}
        self.rows: dict[str, Row] = {}
        self.told: set[tuple[int, float]] = set()  # (exchange, start) already announced
        self.on_exchange: list[Callable[[Attempt], None]] = []  # each, once it is over

    def record(self, row: Row, item: Received, t_s: float) -> None:
        rec = item.record
        name = row.name
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
            for tell in self.on_exchange:
                tell(at)


class RelayListener:
    """What a :class:`RelayDesk` tells (the dashboard's relay panel)."""

    def relay_set(self, setup: RelaySetup) -> None:
        """A new setup is in force (exchanges measured so far belong to the old one)."""

    def relay_exchange(self, attempt: Attempt) -> None:
        """An exchange is over and measured."""

    def relay_stride(self, runner: str, t_s: float) -> None:
        """A stride of a runner of the team (their leg moves on)."""


def describe_setup(setup: RelaySetup) -> str:
    """The setup in one line of a coach's words (the session's mark)."""
    legs = ", ".join(f"{n} {m:g} m" for n, m in zip(setup.team, setup.legs_m, strict=True))
    marks = ", ".join(
        f"{m:.1f} m ({m / setup.foot_m:.0f} feet) before a {z:g} m zone"
        for m, z in zip(setup.marks_m, setup.zones_m, strict=True)
    )
    buzz = "; go buzz on (experimental)" if setup.go_buzz else ""
    return f"relay set: {legs}; check marks {marks}{buzz}"


class RelayDesk(Listener):
    """A practice's relay: the setup in force, its watch and go buzz, kept in the session.

    Subscribed once to the practice (:func:`desk_for`); :meth:`apply` swaps what it
    forwards the practice's records to.
    """

    def __init__(self, practice: Practice) -> None:
        self.practice = practice
        self.setup: RelaySetup | None = None
        self.watch: RelayWatch | None = None
        self.buzzes: list[GoBuzz] = []
        self.listeners: list[RelayListener] = []
        self._unstored = False  # a setup applied before the session folder was made
        self._legs_set: set[str] = set()  # pods given their leg's defaults

    def apply(self, setup: RelaySetup) -> None:
        """Put ``setup`` in force: a new watch (and go buzz), stored in the session."""
        for b in self.buzzes:
            b.cancel()
        self.setup = setup
        self.watch = RelayWatch(self.practice, setup)
        for row in self.practice.rows.values():
            if row.name in setup.team:
                self.watch.rows[row.name] = row
        self.watch.on_exchange.append(self._exchange)
        self.buzzes = [
            GoBuzz(
                self.practice,
                setup.team[i],
                setup.team[i + 1],
                approach_m=setup.approach_m[i],
                mark_m=setup.marks_m[i],
            )
            for i in range(len(setup.team) - 1)
            if setup.go_buzz and self.practice.send_cues  # --no-cues: no pod buzzes
        ]
        self._unstored = True
        self._store()
        self._legs_set.clear()
        for row in list(self.practice.rows.values()):
            self._leg_defaults(row)
        for listener in list(self.listeners):
            listener.relay_set(setup)

    def _leg_defaults(self, row: Row) -> None:
        """A team runner's analyzer preset and plan from their leg (once per setup)."""
        setup = self.setup
        if setup is None or row.name not in setup.team or row.pod in self._legs_set:
            return
        self._legs_set.add(row.pod)
        wanted = leg_targets(setup, row.name, row.targets)
        if wanted != row.targets:
            self.practice.set_targets(row.pod, wanted)

    def _store(self) -> None:
        """The setup into the session (``settings.relay``, the latest; ``relay_history``,
        each with when it was set) and a mark the report and a replay show."""
        rec = self.practice.recorder
        setup = self.setup
        if rec is None or setup is None or not self._unstored:
            return
        self._unstored = False
        settings = rec.meta.setdefault("settings", {})
        d = setup.as_dict()
        history = settings.setdefault("relay_history", [])
        if not history and isinstance(settings.get("relay"), dict):  # given at the start
            history.append({"host_ns": rec.meta.get("start_ns", 0), "relay": settings["relay"]})
        if history and history[-1]["relay"] == d:
            rec.save_meta()
            return  # the same setup as at the start (``--relay``): nothing new to keep
        history.append({"host_ns": time.time_ns(), "relay": d})
        settings["relay"] = d
        rec.save_meta()
        self.practice.mark(describe_setup(setup))

    def record(self, row: Row, item: Received, t_s: float) -> None:
        if self._unstored:
            self._store()
        if self.watch is None or self.setup is None:
            return
        self._leg_defaults(row)  # a runner who joined after the setup
        self.watch.record(row, item, t_s)
        for b in self.buzzes:
            b.record(row, item, t_s)
        if isinstance(item.record, StrideEvent) and row.name in self.setup.team:
            for listener in list(self.listeners):
                listener.relay_stride(row.name, t_s)

    def _exchange(self, attempt: Attempt) -> None:
        for listener in list(self.listeners):
            listener.relay_exchange(attempt)


_desks: weakref.WeakKeyDictionary[Practice, RelayDesk] = weakref.WeakKeyDictionary()


def desk_for(practice: Practice) -> RelayDesk:
    """The practice's one relay desk (made and subscribed on first use)."""
    desk = _desks.get(practice)
    if desk is None:
        desk = _desks[practice] = RelayDesk(practice)
        practice.subscribe(desk)
    return desk
