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

import heapq
import json
import logging
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stridecue.errors import StrideCueError

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


class SessionError(StrideCueError):
    """A session folder that is missing, unreadable or not a session."""


@dataclass(frozen=True, slots=True)
class StoredFrame:
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


@dataclass(slots=True)
class FrameFile:
    """The checked contents of one ``.scf`` file."""

    path: Path
    frames: list[StoredFrame]
    bad_tail: BadTail | None = None

    @classmethod
    def read(cls, path: Path) -> FrameFile:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            if MAGIC.startswith(data):  # killed before the header was complete
                return cls(path, [], BadTail(path, 0, len(data), "file header cut short"))
            raise SessionError(f"{path}: not a StrideCue frame file (no {MAGIC!r} header)")
        frames, tail = scan(data, len(MAGIC), path)
        return cls(path, frames, tail)


def scan(data: bytes, start: int, path: Path) -> tuple[list[StoredFrame], BadTail | None]:
    """Parse records from ``start``; stop at the first bad one and say why."""
    frames: list[StoredFrame] = []
    append = frames.append
    unpack_head = HEADER.unpack_from
    unpack_crc = CRC.unpack_from
    crc32 = zlib.crc32
    view = memoryview(data)
    off = start
    end = len(data)
    hs = HEADER.size
    while off < end:
        if end - off < hs:
            return frames, BadTail(path, off, end - off, "record header cut short")
        marker, channel, n, host_ns = unpack_head(data, off)
        if marker != MARKER or not 1 <= n <= MAX_PAYLOAD:
            return frames, BadTail(path, off, end - off, "not a record start (corrupted)")
        stop = off + hs + n
        if stop + 4 > end:
            return frames, BadTail(path, off, end - off, "record cut short")
        if crc32(view[off:stop]) != unpack_crc(data, stop)[0]:
            return frames, BadTail(path, off, end - off, "CRC mismatch (corrupted)")
        append(StoredFrame(channel, host_ns, data[off + hs : stop]))
        off = stop + 4
    return frames, None


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
                session.files[pod] = FrameFile(f, [])
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
        streams = [_keyed(i, pod, ff) for i, (pod, ff) in enumerate(self.files.items())]
        for _, _, pod, frame in heapq.merge(*streams):
            yield pod, frame

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
        firsts = [f.frames[0].host_ns for f in self.files.values() if f.frames]
        lasts = [f.frames[-1].host_ns for f in self.files.values() if f.frames]
        return (min(firsts), max(lasts)) if firsts else None

    def duration_s(self) -> float:
        """Length of the session: from metadata when it was closed, else from the frames."""
        if isinstance(self.meta.get("duration_s"), int | float):
            return float(self.meta["duration_s"])
        span = self.span_ns()
        return (span[1] - span[0]) / 1e9 if span else 0.0


def _keyed(i: int, pod: str, ff: FrameFile) -> Iterator[tuple[int, int, str, StoredFrame]]:
    return ((f.host_ns, i, pod, f) for f in ff.frames)


def find_sessions(root: Path) -> list[Path]:
    """Session folders directly under ``root``, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / META).is_file())
