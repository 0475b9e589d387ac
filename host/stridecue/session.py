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

``session.json`` holds (every key optional to a reader; checked against
:data:`META_SCHEMA` at :meth:`Session.open`)::

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
    repaired      when and by which stridecue ``sessions --repair`` rebuilt the file
                  (absent in a file the recorder wrote)

One reader, :meth:`Session.items`, decodes the frames for every consumer (the
``replay:`` link, the dashboard's replay, the report and the exports). A frame
that does not decode is skipped and described in :attr:`Session.problems`, the
same for all of them; so is a line of ``marks.jsonl`` that is not a mark.

A session folder is read as untrusted input: every file it names stays inside
the folder (a path or a symbolic link leading out of it is refused), each must
be a regular file no larger than a recording makes (a FIFO or a device is
refused, never waited on), and every number is bounded (:data:`META_SCHEMA`).
Whatever is wrong is one :class:`SessionError` saying which file and how to fix
it. A folder whose frames remain but whose ``session.json`` is missing or
damaged is still a session: :func:`stridecue.recorder.repair` rebuilds the
metadata from what is left (``stridecue sessions --repair``).
"""

from __future__ import annotations

import enum
import json
import logging
import math
import os
import re
import reprlib
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

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

#: a stored frame's host time is a u64 of ns since the Unix epoch: every time, span and
#: clock offset in a session lies within that range
HOST_NS_END = 1 << 64
MAX_OFFSET_MS = HOST_NS_END / 1e6
MAX_SPEED = 1000.0  # a simulation runs at most 1000x real time (``sim:...,speed=``)
#: the most a reader takes of each file: far above what a recording writes (a stride's
#: stored frame is 34 bytes, 64 MiB is days of strides), far below what hurts to read
MAX_META_BYTES = 4 << 20
MAX_MARKS_BYTES = 4 << 20
MAX_FRAMES_BYTES = 64 << 20
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO opens without waiting for a writer


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
    def parse(cls, path: Path, data: bytes) -> FrameFile:
        """The records of ``data``, the contents of the frame file ``path``."""
        if not data.startswith(MAGIC):
            if MAGIC.startswith(data):  # killed before the header was complete
                return cls(path, bad_tail=BadTail(path, 0, len(data), "file header cut short"))
            raise SessionError(
                f"{path}: not a StrideCue frame file (no {MAGIC.decode()} header); "
                f"move it out of {PODS}/ to read the rest of the session"
            )
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
    #: what could not be read, one line each: found at open, damaged file ends, frame
    #: files missing or not listed, marks skipped; then every frame that does not
    #: decode (found by the first :meth:`items`)
    problems: list[str] = field(default_factory=list)
    _bad: set[int] = field(default_factory=set, repr=False)  # indices in columns()
    _marks: list[Mark] = field(default_factory=list, repr=False)
    _settings: AnalyzerSettings | None = field(default=None, repr=False)
    _targets: list[TargetsChange] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Session:
        """Read a session folder; SessionError says what is wrong with which file."""
        p = Path(path)
        meta = read_meta(p)
        session = cls(p, meta)
        session._settings, session._targets = read_analysis(meta.get("analysis"), p)
        missing = []
        for pod, name in pod_files(meta).items():
            f = p / PODS / name
            if os.path.lexists(f):
                session.files[pod] = FrameFile.parse(f, read_file(p, f, MAX_FRAMES_BYTES))
            else:
                session.files[pod] = FrameFile(f)
                missing.append(f"{PODS}/{name} is missing: no frames of pod {pod}")
        listed = {ff.path.name for ff in session.files.values()}
        unlisted = [
            f"{PODS}/{printable(f.name)} is not in {META}, so its frames are not read; "
            f"`stridecue sessions --repair {p}` adds it"
            for f in frame_files(p)
            if f.name not in listed
        ]
        session.problems = [str(t) for t in session.bad_tails] + missing + unlisted
        session._read_marks()
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
        self._problem(f"{pod}: {what} at host ns {host_ns} skipped, it does not decode ({why})")

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
        """The coach's marks, in file order (lines that are not a mark are in :attr:`problems`)."""
        return list(self._marks)

    def _read_marks(self) -> None:
        path = self.path / MARKS
        if not os.path.lexists(path):
            return
        try:
            data = read_file(self.path, path, MAX_MARKS_BYTES)
        except SessionError as e:
            self._problem(f"no marks read: {e}")
            return
        bad = []
        for n, line in enumerate(data.split(b"\n"), 1):
            if line.strip():
                mark = _mark(line)
                if mark is None:
                    bad.append(n)
                else:
                    self._marks.append(mark)
        if bad:
            lines = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
            self._problem(
                f"{MARKS}: {len(bad)} line(s) skipped, not a mark in UTF-8 JSON "
                f"(line {lines}); the other {len(self._marks)} marks are read"
            )

    def _problem(self, text: str) -> None:
        log.warning("%s: %s", self.path.name, text)
        self.problems.append(text)

    def span_ns(self) -> tuple[int, int] | None:
        """First and last host time over all stored frames, or None when empty."""
        firsts = [f.times[0] for f in self.files.values() if f.times]
        lasts = [f.times[-1] for f in self.files.values() if f.times]
        return (min(firsts), max(lasts)) if firsts else None

    def duration_s(self) -> float:
        """Length of the practice on its own clock (the athletes' time: a simulation run at
        10x real time lasts what its athletes ran): from metadata when it was closed, else
        from the frames."""
        if isinstance(self.meta.get("duration_s"), int | float):
            return float(self.meta["duration_s"]) * self.speed
        span = self.span_ns()
        return (span[1] - span[0]) * self.speed / 1e9 if span else 0.0


def _athlete_ns(clock: SessionClock, host_ns: int) -> int:
    """``t0 + (host - t0) * speed``, through the one session clock."""
    return clock.t0_ns + round(clock.host_s(host_ns) * 1e9)


def _ms(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


# --- reading the files of a session folder -------------------------------------------


def read_file(folder: Path, path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a file of the session ``folder``, checked before reading.

    It must stay inside the folder (after following links), be a regular file (a FIFO
    or a device is refused, never waited on) and hold at most ``limit`` bytes.
    """
    confine(folder, path, "a session reads only its own files: copy the file into the folder")
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    except OSError as e:
        raise SessionError(f"cannot read {path}: {e.strerror}; check its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "folder" if stat.S_ISDIR(mode) else "FIFO" if stat.S_ISFIFO(mode) else "device"
            raise SessionError(
                f"{path} is a {kind}, not a file; a session holds only regular files: "
                "move it out of the session folder"
            )
        chunks = []
        size = 0
        while size <= limit:  # one byte over the limit tells a file too large
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise SessionError(f"cannot read {path}: {e.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise SessionError(
            f"{path} is over {limit >> 20} MiB, more than StrideCue ever writes there; "
            "it is not part of a recording: move it out of the session folder"
        )
    return data


def confine(folder: Path, path: Path, fix: str) -> Path:
    """``path`` if it stays inside ``folder`` after following links, else SessionError."""
    try:
        real = path.resolve()
        inside = real.is_relative_to(folder.resolve())
    except (OSError, RuntimeError) as e:  # a loop of links
        raise SessionError(
            f"{path}: cannot follow it ({e}); replace it by the file itself"
        ) from None
    if not inside:
        raise SessionError(f"{path} leads out of the session folder (to {real}); {fix}")
    return path


def frame_files(folder: Path) -> list[Path]:
    """The frame files in ``folder/pods``, listed in session.json or not."""
    try:
        return sorted((folder / PODS).glob("*" + SUFFIX))
    except OSError:
        return []


def damaged(folder: Path, what: str) -> SessionError:
    """session.json of ``folder`` is not what StrideCue writes: what, and how to fix it."""
    return SessionError(
        f"{folder / META}: {what}; correct it, or rebuild it from the frames with "
        f"`stridecue sessions --repair {folder}`"
    )


def read_meta(folder: Path) -> dict[str, Any]:
    """The metadata of a session folder, parsed and checked against :data:`META_SCHEMA`."""
    path = folder / META
    if not os.path.lexists(path):
        n = len(frame_files(folder))
        if n:
            raise SessionError(
                f"{path} is missing, but {PODS}/ holds {n} frame file(s): rebuild it from "
                f"them with `stridecue sessions --repair {folder}`"
            )
        raise SessionError(
            f"{folder} is not a session folder (no {META}); "
            "list recorded sessions with `stridecue sessions`"
        )
    raw = read_file(folder, path, MAX_META_BYTES)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise damaged(folder, "not UTF-8 text") from None
    except ValueError as e:
        raise damaged(folder, f"not JSON ({e})") from None
    except RecursionError:
        raise damaged(folder, "nested too deeply to be StrideCue's") from None
    try:
        check_meta(meta)
    except BadValue as e:
        raise damaged(folder, str(e)) from None
    checked: dict[str, Any] = meta
    return checked


def pod_files(meta: dict[str, Any]) -> dict[str, str]:
    """Each pod's frame file name in ``pods/`` (checked: every name is plain and unique)."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for pod, info in meta.get("pods", {}).items():
        name = info.get("file", slug(pod) + SUFFIX)
        if name in seen:
            raise BadValue(
                f"is {_show(name)}, the file of pod {_show(seen[name])} too", PODS, pod, "file"
            )
        seen[name] = pod
        out[pod] = name
    return out


def _mark(line: bytes) -> Mark | None:
    """One line of marks.jsonl as a mark, or None when it is not one."""
    try:
        d = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(d, dict):
        return None
    t, text, athlete = d.get("host_ns"), d.get("text"), d.get("athlete", "")
    if not (_is_int(t) and 0 <= t < HOST_NS_END and isinstance(text, str)):
        return None
    return Mark(t, text, athlete) if isinstance(athlete, str) else None


# --- the schema of session.json ------------------------------------------------------


class BadValue(SessionError):
    """A value of session.json that is not what StrideCue writes (``key`` names where)."""

    def __init__(self, what: str, *key: str) -> None:
        super().__init__(what)
        self.what = what
        self.key = list(key)

    def within(self, key: str) -> BadValue:
        self.key.insert(0, key)
        return self

    def __str__(self) -> str:
        where = ".".join(k if re.fullmatch(r"[\w:.-]{1,40}", k) else _show(k) for k in self.key)
        return f'"{where}" {self.what}' if where else self.what


Check = Callable[[Any], None]  # raises BadValue


def _show(value: object) -> str:
    return reprlib.repr(value)


def printable(name: str) -> str:
    """A name as it can be printed: quoted and escaped when it holds control characters."""
    return _show(name) if _CONTROL.search(name) else name


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(lo: float, hi: float, unit: str, *, whole: bool = False) -> Check:
    """A number (or null) within lo..hi; a whole one with ``whole``."""

    def check(v: Any) -> None:
        if v is None:
            return
        ok = _is_int(v) or (not whole and isinstance(v, float))
        if not ok or not lo <= v <= hi:  # NaN is within nothing
            kind = "a whole number" if whole else "a number"
            raise BadValue(f"is {_show(v)}, not {kind} in {lo:g}..{hi:g} {unit}")

    return check


def _text(v: Any) -> None:
    if not isinstance(v, str):
        raise BadValue(f"is {_show(v)}, not text")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _name(v: Any) -> None:
    """Text shown to the coach: without control characters (a terminal would obey them)."""
    _text(v)
    if _CONTROL.search(v):
        raise BadValue(f"is {_show(v)}, a name with control characters")


def _or_null(check: Check) -> Check:
    def or_null(v: Any) -> None:
        if v is not None:
            check(v)

    return or_null


def _flag(v: Any) -> None:
    if not isinstance(v, bool):
        raise BadValue(f"is {_show(v)}, not true or false")


def _file_name(v: Any) -> None:
    if (
        not isinstance(v, str)
        or v in ("", ".", "..")
        or "/" in v
        or "\\" in v
        or _CONTROL.search(v)
    ):
        raise BadValue(
            f"is {_show(v)}, not the name of a file in the session's {PODS}/ folder "
            "(a session reads only its own files)"
        )


def _object(of: Check | None = None, *, keys: Check | None = None) -> Check:
    """A JSON object, each value checked by ``of`` (and each key by ``keys``)."""

    def check(v: Any) -> None:
        if not isinstance(v, dict):
            raise BadValue(f"is {_show(v)}, not an object")
        for key, value in v.items() if of or keys else ():
            try:
                if keys:
                    keys(key)
                if of:
                    of(value)
            except BadValue as e:
                raise e.within(key) from None

    return check


def _fields(checks: dict[str, Check]) -> Check:
    """A JSON object whose keys named in ``checks`` pass them (others are not read)."""
    is_object = _object()

    def check(v: Any) -> None:
        is_object(v)
        for key, of in checks.items():
            if key in v:
                try:
                    of(v[key])
                except BadValue as e:
                    raise e.within(key) from None

    return check


def _format(v: Any) -> None:
    if v is None or (_is_int(v) and 1 <= v <= FORMAT_VERSION):
        return
    if _is_int(v) and v > FORMAT_VERSION:
        raise BadValue(f"is {v}: recorded by a newer stridecue, upgrade it to read this session")
    raise BadValue(f"is {_show(v)}, not a format version (1..{FORMAT_VERSION})")


_OFFSET_MS = _number(-MAX_OFFSET_MS, MAX_OFFSET_MS, "ms")

#: what a reader takes from an entry of "pods" (PodInfo.to_json, plus link and file)
POD_SCHEMA = _fields({
    "file": _file_name, "link": _text, "name": _name, "address": _name, "firmware": _name,
    "rsc_only": _flag, "clock_offset_ms": _OFFSET_MS,
    "clock_uncertainty_ms": _number(0, MAX_OFFSET_MS, "ms"),
})  # fmt: skip

#: every key of session.json a reader relies on, and what its value must be
META_SCHEMA: dict[str, Check] = {
    "format": _format,
    "host_version": _text,
    "start_time": _or_null(_text),
    "end_time": _or_null(_text),
    "start_ns": _number(0, HOST_NS_END - 1, "ns since the Unix epoch", whole=True),
    "duration_s": _number(0, HOST_NS_END / 1e9, "s"),
    "frames": _or_null(_object(_number(0, HOST_NS_END, "frames", whole=True))),
    "athletes": _object(_name, keys=_name),
    "pods": _object(POD_SCHEMA, keys=_name),
    "settings": _fields({"speed": _number(0, MAX_SPEED, "times real time")}),
    "analysis": _or_null(_object()),  # its contents: _analysis
}


def check_meta(meta: object) -> None:
    """Raise BadValue naming the first value of ``meta`` a reader cannot rely on."""
    _fields(META_SCHEMA)(meta)
    pod_files(meta)  # type: ignore[arg-type]


def read_analysis(block: Any, folder: Path) -> tuple[AnalyzerSettings | None, list[TargetsChange]]:
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
                raise StrideCueError(f"targets entry {_show(e)} names no pod")
            t = e.get("host_ns")
            if not (_is_int(t) and 0 <= t < HOST_NS_END):
                raise StrideCueError(f"targets entry {_show(e)} has no host_ns")
            changes.append(TargetsChange(e["pod"], t, Targets.from_json(e)))
    except (StrideCueError, TypeError, ValueError, OverflowError) as e:
        # (a value of the wrong type can fail a settings check before its own test)
        raise damaged(folder, f"the stored analysis is unreadable: {_clip(str(e))}") from None
    changes.sort(key=lambda c: c.host_ns)
    return settings, changes


def _clip(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def stored_scales(meta: dict[str, Any]) -> dict[str, float]:
    """Pod -> the distance calibration used live (``settings.distance_scales``); values
    outside 0.8..1.2 (what ``stridecue calibrate`` can make) are not used."""
    raw = meta.get("settings", {}).get("distance_scales", {})
    if not isinstance(raw, dict):
        return {}
    return {
        str(pod): float(v)
        for pod, v in raw.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and 0.8 <= v <= 1.2
    }


def find_sessions(root: Path) -> list[Path]:
    """Session folders directly under ``root``, oldest first: every folder with a
    session.json, or frame files whose session.json is gone (their frames are data)."""
    try:
        folders = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted(p for p in folders if os.path.lexists(p / META) or frame_files(p))
