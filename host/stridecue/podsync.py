"""Store and forward: what a pod measured on its own becomes a session folder, once.

A pod starts its own session when it is worn and moving, with no host around
(docs/firmware.md, "Without the laptop"), and keeps it on flash, flagged AUTO,
until a host has stored it. :func:`sync` downloads every such session that no
host has stored yet, writes it as a normal session folder (session.json and
``pods/<pod>.scf`` with the strides as pod records, exactly as the pod sent
them, see :mod:`stridecue.session`), and only after the folder is written and
closed tells the pod (MARK_SYNCED) that it may delete it. So a sync that dies
half way loses nothing, and a second sync downloads nothing: a session already
marked is skipped, and one written but not marked (the host died in between) is
found in the sessions folder by its ``pod_sync`` entry and only marked.

Times: a stride's host time is its device contact time plus the link's time
sync (host - device clock), when the session was recorded since the pod's last
restart (its clock is the one the sync measured; a wrap of the pod's 2**30 ms
tick counter since then is undone). A session from before a restart is placed
by the date the pod noted at its start, if it knew one (a host STARTed a
session in that boot), else it ends at the time of the sync: its strides keep
their own spacing, and ``pod_sync.clock`` in session.json says which.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stridecue.errors import LinkError
from stridecue.links.base import PodInfo, Received
from stridecue.links.podlink import PodLink
from stridecue.protocol import StrideEvent
from stridecue.protocol.records import SessionFlag, StoredSession
from stridecue.recorder import Recorder
from stridecue.session import META, find_sessions, slug

log = logging.getLogger(__name__)

TICKS_PERIOD_MS = 1 << 30  # the pod's ms tick counter wraps here (MicroPython ticks_ms)
SYNCED = "time sync"  # pod_sync.clock: mapped with the link's time sync
POD_START = "the pod's start time"  # from before a restart: the date the pod noted
UNKNOWN = "unknown"  # from before a restart, date unknown: placed to end at the sync


@dataclass(frozen=True, slots=True)
class Synced:
    """One session the pod recorded alone, now in the sessions folder."""

    session: StoredSession
    path: Path
    downloaded: bool  # False: an earlier sync had written it, only the mark was missing


async def sync(
    link: PodLink, root: Path, *, say: Callable[[str], None] = log.info, idle_s: float = 2.0
) -> list[Synced]:
    """Download every session the pod recorded alone that no host has stored yet.

    ``link`` is connected. Raises LinkError when a session cannot be read whole
    (no stride came for ``idle_s``, twice): it stays on the pod, and nothing of
    it is written.
    """
    offset = link.info.clock_offset_ms
    if offset is None:
        offset, _ = await link.time_sync()
    out: list[Synced] = []
    for listed in await link.list_sessions():
        if listed.flags & SessionFlag.AUTO and listed.flags & SessionFlag.RUNNING:
            say(f"session {listed.session_id}: still recording (it ends at rest); sync again then")
        if not listed.waiting:
            continue
        s = await link.session_info(listed.session_id)
        if not s.waiting:
            continue
        if not s.records:  # nothing measured (a pod drops these itself): nothing to keep
            await link.mark_synced(s.session_id, 0)
            continue
        path = find_synced(root, link.pod, s)
        fresh = path is None
        if path is None:
            items = await link.read_session(s, idle_s=idle_s)
            if len(items) != s.records:
                raise LinkError(
                    f"{link.spec}: session {s.session_id}: {len(items)} of {s.records} "
                    "strides arrived; nothing stored, it stays on the pod: run the sync again"
                )
            path = write(root, link, s, items, offset)
        await link.mark_synced(s.session_id, s.records)
        say(f"session {s.session_id}: {s.records} strides -> {path}")
        out.append(Synced(s, path, fresh))
    return out


def find_synced(root: Path, pod: str, s: StoredSession) -> Path | None:
    """The folder an earlier sync wrote for ``s`` of ``pod``, if any."""
    key = _key(pod, s)
    for path in find_sessions(root):
        try:
            meta = json.loads((path / META).read_text())
            entry = meta["settings"]["pod_sync"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(entry, dict) and {k: entry.get(k) for k in key} == key:
            return path
    return None


def _key(pod: str, s: StoredSession) -> dict[str, Any]:
    return {"pod": pod, "session_id": s.session_id, "first_seq": s.first_seq, "records": s.records}


def write(
    root: Path, link: PodLink, s: StoredSession, items: list[Received], offset_ms: float
) -> Path:
    """The session folder of ``s``: its strides at their host times, then session.json."""
    strides = [i.record for i in items]
    assert all(isinstance(r, StrideEvent) for r in strides)
    device = _unwrapped([r.t_contact_ms for r in strides if isinstance(r, StrideEvent)])
    offset, clock = _offset(s, device, offset_ms, time.time_ns() / 1e6)
    # integer ns from the offset on: a float of epoch ns (~1.7e18) is only good to 256 ns,
    # which would put a jitter into the strides' spacing
    offset_ns = round(offset * 1e6)
    times = [t * 1_000_000 + offset_ns for t in device]
    first = strides[0]
    assert isinstance(first, StrideEvent)
    start_ns = times[0] - first.stride_time_ms * 1_000_000
    entry = {**_key(link.pod, s), "start_time_s": s.start_time_s, "clock": clock}
    rec = Recorder.create(
        root,
        f"sync-{slug(link.info.name or link.pod)}-s{s.session_id}",
        settings={"pod_sync": entry},
        start_ns=start_ns,
    )
    info = PodInfo(
        pod=link.pod,
        name=link.info.name,
        address=link.info.address,
        firmware=link.info.firmware,
        clock_offset_ms=None if clock == UNKNOWN else offset,
        clock_uncertainty_ms=link.info.clock_uncertainty_ms if clock == SYNCED else None,
    )
    try:
        rec.add_pod(info, link=link.spec)
        for item, host_ns in zip(items, times, strict=True):
            rec.write(item._replace(pod=link.pod, host_ns=host_ns))
    finally:
        rec.close(end_ns=times[-1])
    return rec.path


def _unwrapped(ts: list[int]) -> list[int]:
    """Device times in order, a wrap of the tick counter inside the session undone."""
    out: list[int] = []
    add = 0
    for t in ts:
        if out and t + add < out[-1] - TICKS_PERIOD_MS // 2:
            add += TICKS_PERIOD_MS
        out.append(t + add)
    return out


def _offset(
    s: StoredSession, device: list[int], synced_ms: float, now_ms: float
) -> tuple[float, str]:
    """host - device (ms) for this session's strides, and how it was found."""
    if not s.flags & SessionFlag.EARLIER_BOOT:
        off = synced_ms
        while device[-1] + off > now_ms + 1000:  # the counter wrapped since: earlier lap
            off -= TICKS_PERIOD_MS
        return off, SYNCED
    if s.start_time_s:
        return s.start_time_s * 1000.0 - device[0], POD_START
    return now_ms - device[-1], UNKNOWN
