"""The session folder: what a recording leaves on disk, and how to read it back.

::

    2026-11-24T084000Z-practice/
      session.json        metadata: athletes, pods, firmware, start/end, settings
      pods/<pod>.scf      every frame of one pod, append-only (format below)
      marks.jsonl         the coach's marks, one JSON object a line

A ``.scf`` file ("StrideCue frames") starts with the 8-byte magic ``SCFRAME1``,
then one record per frame, each self-delimiting and checked on its own::

    offset size  field
    0      1     marker 0xA5
    1      1     channel: 1 pod record, 2 RSC measurement, 3 cue sent, 4 control sent
    2      2     n, payload length (u16 LE, 1..1024)
    4      8     host receive (or send) time, ns since the Unix epoch (u64 LE)
    12     n     payload: the frame's bytes exactly as they crossed the link
    12+n   4     CRC-32 (zlib) of bytes 0..12+n, u32 LE

A record is written with a single ``write`` and flushed, so a killed recorder
leaves at most one partial record at the end. The reader stops at the first
record that is cut short or fails its CRC, reports where and how many bytes it
skipped, and yields everything before it.

``session.json`` holds (every key optional to a reader; checked at
:meth:`Session.open`)::

    format        1 (FORMAT_VERSION)
    host_version  the stridecue that recorded it
    start_time    ISO 8601 UTC; start_ns: the same in ns since the Unix epoch
    end_time, duration_s, frames   set when the recorder closes (null until then)
    athletes      {pod: athlete name}
    pods          {pod: {link, file, name, address, firmware, rsc_only,
                         clock_offset_ms, ...}}
    settings      {how it was recorded: "speed" (a simulation run faster than
                   real time), "dashboard", ...}
    analysis      the analysis that ran live (absent in sessions recorded before
                  it was stored: a reader then uses the defaults):
                  {"settings": AnalyzerSettings.to_json() (absent: defaults),
                   "targets": [{"pod", "host_ns", "cadence_spm", "stride_length_m",
                                "goal_400_s"}, ...]}
                  targets are a history, in the order the coach set them: each
                  entry replaces that pod's targets from ``host_ns`` on (live, the
                  analyzer takes them from its next rep); null means unset.

One reader, :meth:`Session.items`, decodes the frames for every consumer (the
``replay:`` link, the dashboard's replay, the report and the exports). A frame
that does not decode is skipped and described in :attr:`Session.problems`, the
same for all of them.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from stridecue.analysis.settings import AnalyzerSettings
from stridecue.analysis.targets import Targets
from stridecue.errors import StrideCueError
from stridecue.protocol import ControlRequest, Cue, Record, RscMeasurement, StrideEvent
from stridecue.protocol.fastdecode import fast_decode
from stridecue.timeline import SessionClock

log = logging.getLogger(__name__)

MAGIC = b"SCFRAME1"
MARKER = 0xA5
HEADER = struct.Struct("<BBHQ")
CRC = struct.Struct("<I")
CRC_RESIDUE = 0x2144DF1C  # zlib.crc32(m + CRC.pack(zlib.crc32(m))) for every m
MAX_PAYLOAD = 1024
META = "session.json"
PODS = "pods"
MARKS = "marks.jsonl"
SUFFIX = ".scf"
FORMAT_VERSION = 1


class Channel(enum.IntEnum):
    """What a stored or received frame is; the recorder keeps this byte with it."""

    POD = 1  # a StrideCue record from the pod (stride, status, reply, log)
    RSC = 2  # a standard RSC Measurement (0x2A53) from a pod without the StrideCue service
    CUE = 3  # a cue record the host wrote to the pod
    CONTROL = 4  # a control request the host wrote to the pod


class Received(NamedTuple):
    """One record as received: its raw bytes, decoded form and host receive time."""

    pod: str  # the pod's id on this link (BLE address, serial port, recorded id)
    host_ns: int  # host wall clock at receipt, ns since the Unix epoch
    channel: Channel
    raw: bytes
    record: Record | RscMeasurement

    @property
    def seq(self) -> int | None:
        r = self.record
        return r.seq if isinstance(r, StrideEvent) else None

    @property
    def device_ms(self) -> int | None:
        r = self.record
        return r.t_contact_ms if isinstance(r, StrideEvent) else None


class SessionError(StrideCueError):
    """A session folder that is missing, unreadable or not a session."""


class TargetsChange(NamedTuple):
    """Targets a coach set for one pod, in force from ``host_ns`` on."""

    pod: str
    host_ns: int
    targets: Targets


Decoded = Record | RscMeasurement


def _unknown_channel(channel: int) -> Callable[[bytes], Decoded]:
    def decode(raw: bytes) -> Decoded:
        raise StrideCueError(f"channel {channel} is unknown")

    return decode


#: how the frames of each channel byte decode (pod records take the stride fast path),
#: a list indexed by the byte: the reader's lookup per frame is one subscript
_DECODERS: list[Callable[[bytes], Decoded]] = [_unknown_channel(c) for c in range(256)]
_DECODERS[Channel.POD] = fast_decode
_DECODERS[Channel.RSC] = RscMeasurement.from_bytes
_DECODERS[Channel.CUE] = Cue.from_bytes
_DECODERS[Channel.CONTROL] = ControlRequest.from_bytes
#: by channel byte: left out of :meth:`Session.items` unless sent frames are asked for
_DROP_SENT = [c in (Channel.CUE, Channel.CONTROL) for c in range(256)]
_KEEP_ALL = [False] * 256
_CHANNELS: dict[int, Channel] = {int(c): c for c in Channel}
_NEW = tuple.__new__  # Received is a NamedTuple: skip its Python-level __new__


class StoredFrame(NamedTuple):
    channel: int
    host_ns: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class BadTail:
    """Bytes at the end of a frame file that do not form whole, checked records."""

    path: Path
    offset: int
    nbytes: int
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.path.name}: {self.nbytes} bytes from offset {self.offset} skipped "
            f"({self.reason}); everything before them replays"
        )


def encode_stored(channel: int, host_ns: int, raw: bytes) -> bytes:
    """One on-disk record (header, payload, CRC-32)."""
    if not 1 <= len(raw) <= MAX_PAYLOAD:
        raise SessionError(f"frame of {len(raw)} bytes: a stored frame holds 1..{MAX_PAYLOAD}")
    head = HEADER.pack(MARKER, channel, len(raw), host_ns) + raw
    return head + CRC.pack(zlib.crc32(head))


class FrameFile:
    """The checked contents of one ``.scf`` file, as three parallel columns."""

    __slots__ = ("_frames", "bad_tail", "channels", "path", "raws", "times")

    def __init__(
        self,
        path: Path,
        channels: list[int] | None = None,
        times: list[int] | None = None,
        raws: list[bytes] | None = None,
        bad_tail: BadTail | None = None,
    ) -> None:
        self.path = path
        self.channels = channels or []
        self.times = times or []  # host ns
        self.raws = raws or []
        self.bad_tail = bad_tail
        self._frames: list[StoredFrame] | None = None

    @property
    def frames(self) -> list[StoredFrame]:
        if self._frames is None:
            self._frames = list(map(StoredFrame, self.channels, self.times, self.raws))
        return self._frames

    def __len__(self) -> int:
        return len(self.raws)

    @classmethod
    def read(cls, path: Path) -> FrameFile:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            if MAGIC.startswith(data):  # killed before the header was complete
                return cls(path, bad_tail=BadTail(path, 0, len(data), "file header cut short"))
            raise SessionError(f"{path}: not a StrideCue frame file (no {MAGIC!r} header)")
        ff = cls(path)
        ff.bad_tail = scan(data, len(MAGIC), ff)
        return ff


def scan(data: bytes, start: int, into: FrameFile) -> BadTail | None:
    """Parse records from ``start`` into ``into``; stop at the first bad one and say why."""
    path = into.path
    add_ch = into.channels.append
    add_t = into.times.append
    add_raw = into.raws.append
    unpack_head = HEADER.unpack_from
    crc32 = zlib.crc32
    view = memoryview(data)
    off = start
    end = len(data)
    hs = HEADER.size
    while off < end:
        if end - off < hs:
            return BadTail(path, off, end - off, "record header cut short")
        marker, channel, n, host_ns = unpack_head(data, off)
        if marker != MARKER or not 1 <= n <= MAX_PAYLOAD:
            return BadTail(path, off, end - off, "not a record start (corrupted)")
        stop = off + hs + n
        if stop + 4 > end:
            return BadTail(path, off, end - off, "record cut short")
        # the CRC-32 of a record followed by its own CRC (LE) is always CRC_RESIDUE
        if crc32(view[off : stop + 4]) != CRC_RESIDUE:
            return BadTail(path, off, end - off, "CRC mismatch (corrupted)")
        add_ch(channel)
        add_t(host_ns)
        add_raw(data[off + hs : stop])
        off = stop + 4
    return None


def slug(pod: str) -> str:
    """A file-name-safe form of a pod id (``AA:BB:…`` → ``AA-BB-…``)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", pod).strip("-.")
    return s or "pod"


def iso(ns: int) -> str:
    """A host time (ns since the Unix epoch) as session.json writes times."""
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Mark:
    host_ns: int
    text: str
    athlete: str = ""


@dataclass(slots=True)
class Session:
    """A recorded session folder, read back."""

    path: Path
    meta: dict[str, Any]
    files: dict[str, FrameFile] = field(default_factory=dict)  # pod id -> frames
    #: what could not be read: damaged file ends (found at open), then every frame
    #: that does not decode (found by the first :meth:`items`), one line each
    problems: list[str] = field(default_factory=list)
    _bad: set[int] = field(default_factory=set, repr=False)  # indices in columns()
    _settings: AnalyzerSettings | None = field(default=None, repr=False)
    _targets: list[TargetsChange] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Session:
        p = Path(path)
        meta_path = p / META
        if not meta_path.is_file():
            raise SessionError(
                f"{p} is not a session folder (no {META}); "
                "list recorded sessions with `stridecue sessions`"
            )
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as e:
            raise SessionError(f"{meta_path}: unreadable metadata ({e})") from e
        session = cls(p, _checked(meta, meta_path))
        session._settings, session._targets = _analysis(meta.get("analysis"), meta_path)
        for pod, info in meta.get("pods", {}).items():
            f = p / PODS / str(info.get("file", slug(pod) + SUFFIX))
            if f.is_file():
                session.files[pod] = FrameFile.read(f)
            else:
                session.files[pod] = FrameFile(f)
        session.problems = [str(t) for t in session.bad_tails]
        return session

    @property
    def pods(self) -> list[str]:
        return list(self.files)

    @property
    def bad_tails(self) -> list[BadTail]:
        return [f.bad_tail for f in self.files.values() if f.bad_tail is not None]

    @property
    def athletes(self) -> dict[str, str]:
        """Pod id → athlete name (pods without a name map to their id)."""
        names: dict[str, str] = self.meta.get("athletes", {})
        return {pod: names.get(pod, pod) for pod in self.pods}

    def time_sync(self, pod: str) -> tuple[float | None, float | None]:
        """The pod's time sync: host - device clock and its uncertainty, ms (None: none)."""
        info = self.meta.get("pods", {}).get(pod, {})
        return _ms(info.get("clock_offset_ms")), _ms(info.get("clock_uncertainty_ms"))

    # --- time ---
    @property
    def start_ns(self) -> int:
        """The session's start (host ns): when the recorder opened it (``start_ns``),
        or its first frame when that is earlier or the metadata does not say."""
        span = self.span_ns()
        start = self.meta.get("start_ns")
        starts = [x for x in (start, span[0] if span else None) if isinstance(x, int)]
        return min(starts, default=0)

    @property
    def speed(self) -> float:
        """How much faster than real time a simulation was recorded (1 for real pods)."""
        v = self.meta.get("settings", {}).get("speed", 1.0)
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        return float(v) if ok and v > 0 else 1.0

    def clock(self) -> SessionClock:
        """The session timeline: host time → seconds of the athletes' time from the start."""
        return SessionClock(self.start_ns, self.speed)

    def athlete_ns(self, host_ns: int) -> int:
        """A host time put on the athletes' time (differs only for a sped-up simulation)."""
        return _athlete_ns(self.clock(), host_ns)

    # --- the analysis that ran live ---
    @property
    def has_analysis_settings(self) -> bool:
        """Whether the recorder stored the analyzer settings used live."""
        return self._settings is not None

    def analyzer_settings(self) -> AnalyzerSettings:
        """The analyzer settings used live; the defaults for a session that did not store them."""
        return self._settings or AnalyzerSettings()

    def targets(self, pod: str | None = None) -> list[TargetsChange]:
        """The coach's targets as set during the session (of ``pod``, or all), in time order."""
        return [t for t in self._targets if pod is None or t.pod == pod]

    # --- frames ---
    def items(self, *, include_sent: bool = False, scaled: bool = False) -> Iterator[Received]:
        """Every stored frame decoded, in host time order over all pods (stable).

        Pod records and RSC measurements; with ``include_sent`` also the cues and
        control requests the host sent. With ``scaled``, host times are put on the
        athletes' time (:meth:`athlete_ns`) for a simulation recorded at a speed
        other than 1. A frame that does not decode is skipped, and described in
        :attr:`problems` the first time it is met (and logged).
        """
        pods, channels, host_times, raws = self.columns()
        clock = self.clock()
        times = host_times
        if scaled and clock.speed != 1.0:
            times = [_athlete_ns(clock, t) for t in host_times]
        decoders = _DECODERS
        drop = _DROP_SENT if not include_sent else _KEEP_ALL
        as_channel = _CHANNELS
        new = _NEW
        for i in self.order(host_times):
            ch = channels[i]
            raw = raws[i]
            try:
                record = decoders[ch](raw)
            except StrideCueError as e:
                self._skip(i, pods[i], ch, host_times[i], str(e))
                continue
            if drop[ch]:
                continue  # a sent frame, checked all the same: every reader reports alike
            yield new(Received, (pods[i], times[i], as_channel[ch], raw, record))

    def _skip(self, index: int, pod: str, channel: int, host_ns: int, why: str) -> None:
        """Describe a frame that does not decode, once (this reader may run many times)."""
        if index in self._bad:
            return
        self._bad.add(index)
        what = f"{_CHANNELS[channel].name.lower()} frame" if channel in _CHANNELS else "frame"
        text = f"{pod}: {what} at host ns {host_ns} skipped, it does not decode ({why})"
        log.warning("%s: %s", self.path.name, text)
        self.problems.append(text)

    @property
    def frames_skipped(self) -> int:
        """How many frames :meth:`items` has skipped so far because they do not decode."""
        return len(self._bad)

    def merged(self) -> Iterator[tuple[str, StoredFrame]]:
        """Every stored frame of every pod, in host time order (stable per pod)."""
        pods, channels, times, raws = self.columns()
        for i in self.order(times):
            yield pods[i], StoredFrame(channels[i], times[i], raws[i])

    def columns(self) -> tuple[list[str], list[int], list[int], list[bytes]]:
        """All pods' frames concatenated: pod id, channel, host ns, raw bytes."""
        pods: list[str] = []
        channels: list[int] = []
        times: list[int] = []
        raws: list[bytes] = []
        for pod, ff in self.files.items():
            pods += [pod] * len(ff)
            channels += ff.channels
            times += ff.times
            raws += ff.raws
        return pods, channels, times, raws

    @staticmethod
    def order(times: list[int]) -> list[int]:
        """Indices in host time order; ties keep file order (a stable sort)."""
        return sorted(range(len(times)), key=times.__getitem__)

    def marks(self) -> list[Mark]:
        out: list[Mark] = []
        path = self.path / MARKS
        if not path.is_file():
            return out
        for n, line in enumerate(path.read_text().splitlines(), 1):
            try:
                d = json.loads(line)
                out.append(Mark(int(d["host_ns"]), str(d["text"]), str(d.get("athlete", ""))))
            except (ValueError, KeyError, TypeError):
                log.warning("%s line %d: unreadable mark skipped", path, n)
        return out

    def span_ns(self) -> tuple[int, int] | None:
        """First and last host time over all stored frames, or None when empty."""
        firsts = [f.times[0] for f in self.files.values() if f.times]
        lasts = [f.times[-1] for f in self.files.values() if f.times]
        return (min(firsts), max(lasts)) if firsts else None

    def duration_s(self) -> float:
        """Length of the session: from metadata when it was closed, else from the frames."""
        if isinstance(self.meta.get("duration_s"), int | float):
            return float(self.meta["duration_s"])
        span = self.span_ns()
        return (span[1] - span[0]) / 1e9 if span else 0.0


def _athlete_ns(clock: SessionClock, host_ns: int) -> int:
    """``t0 + (host - t0) * speed``, through the one session clock."""
    return clock.t0_ns + round(clock.host_s(host_ns) * 1e9)


def _ms(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _checked(meta: object, where: Path) -> dict[str, Any]:
    """The metadata, if its keys have the types a reader relies on."""

    def bad(what: str) -> SessionError:
        return SessionError(f"{where}: {what}; the file is damaged or not StrideCue's")

    if not isinstance(meta, dict):
        raise bad("not a JSON object")
    for key in ("athletes", "pods", "settings", "analysis"):
        if not isinstance(meta.get(key, {}), dict):
            raise bad(f'"{key}" is not an object')
    if not all(isinstance(v, dict) for v in meta.get("pods", {}).values()):
        raise bad('an entry of "pods" is not an object')
    start = meta.get("start_ns")
    if start is not None and (isinstance(start, bool) or not isinstance(start, int)):
        raise bad(f'"start_ns" is {start!r}, not a whole number of ns')
    return meta


def _analysis(block: Any, where: Path) -> tuple[AnalyzerSettings | None, list[TargetsChange]]:
    """The ``analysis`` block read and checked (absent: no settings, no targets)."""
    if block is None:
        return None, []
    try:
        settings = block.get("settings")
        settings = None if settings is None else AnalyzerSettings.from_json(settings)
        entries = block.get("targets", [])
        if not isinstance(entries, list):
            raise StrideCueError('"targets" is not a list')
        changes = []
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("pod"), str):
                raise StrideCueError(f"targets entry {e!r} names no pod")
            t = e.get("host_ns")
            if isinstance(t, bool) or not isinstance(t, int):
                raise StrideCueError(f"targets entry {e!r} has no host_ns")
            changes.append(TargetsChange(e["pod"], t, Targets.from_json(e)))
    except StrideCueError as e:
        raise SessionError(f"{where}: the stored analysis is unreadable: {e}") from e
    changes.sort(key=lambda c: c.host_ns)
    return settings, changes


def find_sessions(root: Path) -> list[Path]:
    """Session folders directly under ``root``, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / META).is_file())
