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
"""

from __future__ import annotations

import enum
import json
import logging
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from stridecue.errors import StrideCueError
from stridecue.protocol import Record, RscMeasurement, StrideEvent

log = logging.getLogger(__name__)

MAGIC = b"SCFRAME1"
MARKER = 0xA5
HEADER = struct.Struct("<BBHQ")
CRC = struct.Struct("<I")
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
    unpack_crc = CRC.unpack_from
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
        if crc32(view[off:stop]) != unpack_crc(data, stop)[0]:
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


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        session = cls(p, meta)
        for pod, info in meta.get("pods", {}).items():
            f = p / PODS / str(info.get("file", slug(pod) + SUFFIX))
            if f.is_file():
                session.files[pod] = FrameFile.read(f)
            else:
                session.files[pod] = FrameFile(f)
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


def find_sessions(root: Path) -> list[Path]:
    """Session folders directly under ``root``, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / META).is_file())
