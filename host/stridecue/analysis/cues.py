"""Cue policy for one pod: which alert becomes a vibration, and when.

Rules, in order:

1. A coach's manual cue always goes through, at once, even over a cue in flight.
2. No automatic cue outside a rep (recovery jogs, walking back): suppressed.
3. At most one cue in flight per pod: a cue occupies the pod for its pattern's length.
4. After a cue ends, ``refractory_s`` passes before the next automatic one.
5. When both problems are active, the higher ``priority`` is cued first.
6. While a problem stays active it is re-cued every ``repeat_s``; once the athlete has
   recovered it is not cued again.

Every decision (sent, deferred, suppressed, stopped) is kept in ``log`` with its reason,
which includes the detector, its statistic and threshold for automatic cues.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stridecue.analysis.types import Event, EventKind
from stridecue.errors import ConfigError
from stridecue.protocol.records import Cue, Pattern

_log = logging.getLogger(__name__)
_PATTERN: dict[str, Pattern] = {
    EventKind.RHYTHM_LOSS: Pattern.RHYTHM,
    EventKind.STRIDE_SHORTENING: Pattern.STRIDE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CueSettings:
    """Timing and priorities of the cue policy."""

    refractory_s: float = 2.0
    repeat_s: float = 6.0
    rhythm_pattern_s: float = 0.6
    stride_pattern_s: float = 0.8
    rhythm_priority: int = 2
    stride_priority: int = 1
    intensity_pct: int = 100

    def __post_init__(self) -> None:
        for name in ("refractory_s", "repeat_s", "rhythm_pattern_s", "stride_pattern_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= 600.0):
                raise ConfigError(f"{name}={v!r} must be within 0..600 s")
        if not 0 <= self.intensity_pct <= 100:
            raise ConfigError(f"intensity_pct={self.intensity_pct} must be within 0..100")


@dataclass(frozen=True, slots=True)
class CueDecision:
    """One decision: ``action`` is send, defer, suppress or stop; ``cue`` is set on send."""

    t_s: float
    problem: str
    action: str
    reason: str
    cue: Cue | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class CuePolicy:
    """Turns one pod's analyzer events (and coach presses) into cue decisions."""

    def __init__(self, settings: CueSettings | None = None) -> None:
        self.settings = s = settings or CueSettings()
        self.log: list[CueDecision] = []
        self.in_rep = False
        self.busy_until_s = -math.inf
        self.quiet_until_s = -math.inf
        self._active: dict[str, dict[str, Any]] = {}
        self._last_cue_s: dict[str, float] = {}
        self._length: dict[str, float] = {
            EventKind.RHYTHM_LOSS: s.rhythm_pattern_s,
            EventKind.STRIDE_SHORTENING: s.stride_pattern_s,
        }
        self._priority: dict[str, int] = {
            EventKind.RHYTHM_LOSS: s.rhythm_priority,
            EventKind.STRIDE_SHORTENING: s.stride_priority,
        }

    def manual(self, t_s: float, duration_ms: int = 400) -> CueDecision:
        """The coach pressed the button: always sent, whatever else is happening."""
        cue = Cue(Pattern.PULSE, self.settings.intensity_pct, 1, duration_ms)
        self.busy_until_s = t_s + duration_ms / 1000.0
        self.quiet_until_s = self.busy_until_s + self.settings.refractory_s
        return self._note(
            t_s, "manual", "send", "manual cue from the coach always goes through", cue
        )

    def update(self, t_s: float, events: Iterable[Event] = ()) -> list[CueDecision]:
        """Take this stride's events at time ``t_s``; the decisions they (or time) caused."""
        if not self._active and not events:
            return []  # the usual stride: nothing to decide
        out: list[CueDecision] = []
        for e in events:
            self._on_event(e, out)
        self._maybe_send(t_s, out)
        return out

    def _on_event(self, e: Event, out: list[CueDecision]) -> None:
        k = e.kind
        if k == EventKind.REP_START:
            self.in_rep = True
        elif k == EventKind.REP_END:
            self.in_rep = False
            for p in list(self._active):
                del self._active[p]
                out.append(self._note(e.t_s, p, "stop", "rep ended"))
        elif k in _PATTERN:
            if not self.in_rep:
                out.append(self._note(e.t_s, k, "suppress", "not in a rep (recovery jog)"))
                return
            self._active[k] = e.detail
        elif k == EventKind.RECOVERED:
            p = str(e.detail.get("problem", ""))
            if self._active.pop(p, None) is not None:
                out.append(self._note(e.t_s, p, "stop", "athlete recovered", evidence=e.detail))

    def _maybe_send(self, t: float, out: list[CueDecision]) -> None:
        if not self._active or not self.in_rep:
            return
        due = [
            p
            for p in self._active
            if t >= self._last_cue_s.get(p, -math.inf) + self.settings.repeat_s
        ]
        if not due:
            return
        due.sort(key=lambda p: -self._priority[p])
        top = due[0]
        ev = self._active[top]
        if t < self.busy_until_s or t < self.quiet_until_s:
            why = "cue in flight" if t < self.busy_until_s else "refractory time"
            if self._last_deferral(top) != why:
                out.append(self._note(t, top, "defer", why, evidence=ev))
            return
        self.busy_until_s = t + self._length[top]
        self.quiet_until_s = self.busy_until_s + self.settings.refractory_s
        self._last_cue_s[top] = t
        cue = Cue(_PATTERN[top], self.settings.intensity_pct)
        reason = (
            f"{ev.get('detector', '?')} statistic {ev.get('statistic', '?')} "
            f"> threshold {ev.get('threshold', '?')}"
        )
        out.append(self._note(t, top, "send", reason, cue, ev))
        for p in due[1:]:
            out.append(self._note(t, p, "defer", f"lower priority than {top}", evidence=ev))

    def _last_deferral(self, problem: str) -> str | None:
        for d in reversed(self.log):
            if d.problem == problem:
                return d.reason if d.action == "defer" else None
        return None

    def _note(
        self,
        t: float,
        problem: str,
        action: str,
        reason: str,
        cue: Cue | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> CueDecision:
        d = CueDecision(t, problem, action, reason, cue, dict(evidence or {}))
        self.log.append(d)
        _log.debug("cue %s %s at %.3f s: %s", action, problem, t, reason)
        return d
