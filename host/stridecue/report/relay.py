"""Find a relay exchange: when the outgoing runner starts, and when they have run the zone."""

from __future__ import annotations

from dataclasses import dataclass

from stridecue.sessiondata import AthleteData

ZONE_M = 30.0  # World Athletics 4x100 m exchange zone (since 2018)


@dataclass(frozen=True, slots=True)
class Exchange:
    incoming: AthleteData
    outgoing: AthleteData
    t_start_s: float  # outgoing runner's first stride of the leg
    t_zone_end_s: float  # outgoing runner has covered ZONE_M
    incoming_speed_mps: float | None  # incoming runner's last stride speed before the zone ends
    outgoing_speed_mps: float | None  # outgoing runner's speed at the end of the zone


def find_exchange(incoming: AthleteData, outgoing: AthleteData) -> Exchange | None:
    """The outgoing runner's first rep that starts after the incoming runner's first one."""
    if not incoming.reps or not outgoing.reps:
        return None
    t_in = incoming.reps[0].start_s
    later = [r for r in outgoing.reps if r.start_s > t_in]
    if not later:
        return None
    t0 = later[0].start_s
    run = 0.0
    t_end = t0
    out_speed = None
    for s in outgoing.strides:
        if s.t_s <= t0:
            continue
        run += s.stride_length_m
        t_end, out_speed = s.t_s, s.speed_mps
        if run >= ZONE_M:
            break
    before = [s for s in incoming.strides if s.t_s <= t_end]
    in_speed = before[-1].speed_mps if before else None
    return Exchange(incoming, outgoing, t0, t_end, in_speed, out_speed)
