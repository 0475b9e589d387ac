"""Write a session folder while a practice runs (format in :mod:`stridecue.session`).

Every frame is appended with one ``write`` on an unbuffered file, so it is in the
operating system's hands the moment the call returns: a recorder killed with
``kill -9`` loses nothing it had written. When the disk fills up the recorder
cuts the file back to its last whole record, so nothing already written is lost,
and raises :class:`StorageFull` with what to do.

:func:`repair` rebuilds the metadata of a session folder whose ``session.json`` is
missing or damaged, from what is left (``stridecue sessions --repair``).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from stridecue import __version__
from stridecue.analysis.settings import AnalyzerSettings
from stridecue.analysis.targets import Targets
from stridecue.errors import StrideCueError
from stridecue.links.base import Channel, PodInfo, Received
from stridecue.session import (
    FORMAT_VERSION,
    MAGIC,
    MARKS,
    MAX_META_BYTES,
    META,
    META_SCHEMA,
    POD_SCHEMA,
    PODS,
    SUFFIX,
    SessionError,
    check_meta,
    encode_stored,
    frame_files,
    iso,
    read_analysis,
    read_file,
    read_meta,
    slug,
)

_NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class StorageFull(StrideCueError):
    """The disk (or a file size limit) refused a write."""


def _open_append(path: Path) -> BinaryIO:
    return open(path, "ab", buffering=0)


class FrameWriter:
    """Appends stored frames to one ``.scf`` file, one unbuffered write per frame."""

    def __init__(self, path: Path, opener: Callable[[Path], BinaryIO] = _open_append) -> None:
        self.path = path
        self._f = opener(path)
        self.size = self._f.seek(0, io.SEEK_END)
        self.frames = 0
        if self.size == 0:
            self._write(MAGIC)

    def append(self, channel: int, host_ns: int, raw: bytes) -> None:
        self._write(encode_stored(channel, host_ns, raw))
        self.frames += 1

    def _write(self, data: bytes) -> None:
        try:
            n = self._f.write(data)
            if n is not None and n != len(data):
                raise OSError(errno.ENOSPC, f"short write: {n} of {len(data)} bytes")
        except OSError as e:
            self._cut_back()
            if e.errno in _NO_ROOM:
                raise StorageFull(
                    f"disk full while recording to {self.path}: the {self.frames} frames "
                    f"({self.size} bytes) written before are kept and replay; free some "
                    "space (or pick another folder with --sessions-dir) and record again"
                ) from e
            raise StrideCueError(f"cannot write {self.path}: {e.strerror or e}") from e
        self.size += len(data)

    def _cut_back(self) -> None:
        # drop a partial record so the file ends on a whole one
        with contextlib.suppress(OSError):  # the reader skips a partial tail anyway
            self._f.truncate(self.size)

    def close(self) -> None:
        self._f.close()


class Recorder:
    """One recording session: metadata, a frame file per pod, coach marks."""

    def __init__(
        self,
        path: Path,
        *,
        athletes: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        opener: Callable[[Path], BinaryIO] = _open_append,
        start_ns: int | None = None,
    ) -> None:
        """``start_ns``: when the session began (default now; a session synced
        from a pod began when the pod measured it)."""
        self.path = path
        self._opener = opener
        self._writers: dict[str, FrameWriter] = {}
        self._start_ns = time.time_ns() if start_ns is None else start_ns
        self.meta: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "host_version": __version__,
            "start_time": iso(self._start_ns),
            "start_ns": self._start_ns,
            "end_time": None,
            "duration_s": None,
            "athletes": dict(athletes or {}),
            "pods": {},
            "settings": dict(settings or {}),
        }
        try:
            (path / PODS).mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise SessionError(f"{path} already exists; pick a new session name") from None
        except OSError as e:
            raise SessionError(f"cannot create session folder {path}: {e.strerror}") from e
        self._marks = opener(path / MARKS)
        self.save_meta()

    @classmethod
    def create(cls, root: Path, label: str = "", **kw: Any) -> Recorder:
        """A new session folder under ``root`` named by the UTC start time (and label)."""
        start_ns = kw.get("start_ns")
        when = time.gmtime(None if start_ns is None else start_ns // 1_000_000_000)
        stamp = time.strftime("%Y-%m-%dT%H%M%SZ", when)
        name = f"{stamp}-{slug(label)}" if label else stamp
        path = root / name
        n = 2
        while path.exists():
            path = root / f"{name}-{n}"
            n += 1
        return cls(path, **kw)

    # --- pods ---
    def add_pod(self, info: PodInfo, link: str = "", athlete: str = "") -> None:
        """Register a pod (again after a reconnect: its info is refreshed)."""
        entry = {"link": link, "file": slug(info.pod) + SUFFIX, **info.to_json()}
        self.meta["pods"][info.pod] = entry
        if athlete:
            self.meta["athletes"][info.pod] = athlete
        if info.pod not in self._writers:
            self._writers[info.pod] = FrameWriter(
                self.path / PODS / str(entry["file"]), self._opener
            )
        self.save_meta()

    def _writer(self, pod: str) -> FrameWriter:
        w = self._writers.get(pod)
        if w is None:
            self.add_pod(PodInfo(pod=pod))
            w = self._writers[pod]
        return w

    # --- frames ---
    def write(self, item: Received) -> None:
        """Append one received frame, exactly as it arrived."""
        self._writer(item.pod).append(item.channel, item.host_ns, item.raw)

    def write_sent(self, pod: str, channel: Channel, raw: bytes, host_ns: int = 0) -> None:
        """Append a cue or control request the host sent to ``pod``."""
        self._writer(pod).append(channel, host_ns or time.time_ns(), raw)

    def mark(self, text: str, athlete: str = "", host_ns: int = 0) -> None:
        """A coach's mark (lap, split, note), appended to marks.jsonl."""
        line = json.dumps({"host_ns": host_ns or time.time_ns(), "text": text, "athlete": athlete})
        try:
            self._marks.write((line + "\n").encode())
        except OSError as e:
            raise StorageFull(
                f"cannot append mark to {self.path / MARKS}: {e.strerror}; free some space"
            ) from e

    # --- the analysis that runs live (``analysis`` in session.json) ---
    def set_analysis(self, settings: AnalyzerSettings) -> None:
        """Store the analyzer settings the practice runs with (a report reuses them)."""
        self._analysis()["settings"] = settings.to_json()
        self.save_meta()

    def set_targets(self, pod: str, targets: Targets, host_ns: int = 0) -> None:
        """Store targets the coach set for ``pod`` at ``host_ns`` (default: now).

        They are kept as a history: each entry replaces the pod's targets from then on.
        """
        entry = {"pod": pod, "host_ns": host_ns or time.time_ns(), **targets.to_json()}
        self._analysis().setdefault("targets", []).append(entry)
        self.save_meta()

    def _analysis(self) -> dict[str, Any]:
        block: dict[str, Any] = self.meta.setdefault("analysis", {})
        return block

    @property
    def frames(self) -> dict[str, int]:
        return {pod: w.frames for pod, w in self._writers.items()}

    # --- metadata ---
    def save_meta(self) -> None:
        """Rewrite session.json atomically (temp file + rename)."""
        try:
            write_meta(self.path, self.meta)
        except OSError as e:
            if e.errno in _NO_ROOM:
                raise StorageFull(
                    f"disk full updating {self.path / META}; frames recorded so far are kept"
                ) from e
            raise

    def close(self, end_ns: int | None = None) -> None:
        """Finish session.json (end time, duration, frames) and close the files;
        ``end_ns``: when the session ended (default now)."""
        end = time.time_ns() if end_ns is None else end_ns
        self.meta["end_time"] = iso(end)
        self.meta["duration_s"] = round((end - self._start_ns) / 1e9, 3)
        self.meta["frames"] = self.frames
        try:
            self.save_meta()
        finally:
            for w in self._writers.values():
                w.close()
            self._marks.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Write ``folder/session.json`` atomically (temp file + rename): whole or not at all."""
    tmp = folder / (META + ".tmp")
    try:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, folder / META)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def repair(folder: Path) -> str:
    """Rebuild a missing or damaged ``session.json`` from what is left; what was done, in words.

    Kept from the old file: every value that passes its check (athletes, settings, the
    stored analysis, each pod's entry with its time sync). Every frame file in ``pods/``
    that no kept entry names becomes a pod of its own, named by its file. The old file
    is kept beside the new one (``session.json.before-repair``), never overwritten, and
    nothing else in the folder changes. A pod added this way has no time sync: its
    strides are placed by their arrival, and the athletes are named by pod.
    """
    left_out: list[str] = []
    try:
        meta = read_meta(folder)
        damaged = False
    except SessionError:
        if not frame_files(folder) and not os.path.lexists(folder / META):
            raise  # not a session folder: nothing to rebuild from
        (meta, left_out), damaged = _salvage(folder), True
    pods: dict[str, Any] = meta.setdefault("pods", {})
    named = {str(info.get("file", slug(pod) + SUFFIX)) for pod, info in pods.items()}
    added = []
    for f in frame_files(folder):
        if not _passes(POD_SCHEMA, {"file": f.name}):
            left_out.append(f"{PODS}/{f.name!r} (rename it: a name of plain characters)")
        elif f.name not in named:
            pod = slug(f.stem)
            while pod in pods:
                pod += "+"
            pods[pod] = {"file": f.name}
            added.append(pod)
    if not damaged and not added:
        return f"{folder}: {META} is sound and names every frame file: nothing to repair"
    meta.setdefault("format", FORMAT_VERSION)
    meta["repaired"] = f"{iso(time.time_ns())} by stridecue {__version__}"
    check_meta(meta)  # what is written reads back
    old = folder / META
    kept = ""
    try:
        if os.path.lexists(old):
            backup = _free_name(folder, META + ".before-repair")
            os.rename(old, backup)  # a link is moved, not followed
            kept = f"; the old one is kept as {backup.name}"
        write_meta(folder, meta)
    except OSError as e:
        raise SessionError(
            f"cannot write {old}: {e.strerror}; copy the session folder somewhere writable "
            "and repair the copy"
        ) from None
    what = [f"added pod(s) {', '.join(added)} from their frame files"] if added else []
    if left_out:
        what.append(f"left out what did not pass its check: {', '.join(left_out)}")
    return f"{folder}: {META} rebuilt ({'; '.join(what) or 'all of it kept'}){kept}"


def _salvage(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """What of a damaged session.json passes its checks, and the keys left out."""
    if not os.path.lexists(folder / META):
        return {}, []
    try:
        old = json.loads(read_file(folder, folder / META, MAX_META_BYTES).decode("utf-8"))
    except (SessionError, ValueError, RecursionError):
        return {}, ["all of it (not a JSON file StrideCue can read)"]
    if not isinstance(old, dict):
        return {}, ["all of it (not a JSON object)"]
    meta: dict[str, Any] = {}
    for key, check in META_SCHEMA.items():
        if key in old and key != "pods" and _passes(check, old[key]):
            meta[key] = old[key]
    if "analysis" in meta and not _passes(lambda a: read_analysis(a, folder), meta["analysis"]):
        del meta["analysis"]
    pods = old.get("pods")
    files = set()
    meta["pods"] = {}
    for pod, info in pods.items() if isinstance(pods, dict) else ():
        name = info.get("file", slug(pod) + SUFFIX) if isinstance(info, dict) else None
        if _passes(POD_SCHEMA, info) and name not in files:
            files.add(name)
            meta["pods"][pod] = info
    left_out = [k for k in META_SCHEMA if k in old and k not in meta]
    if isinstance(pods, dict):
        left_out += [f"pods.{pod}" for pod in pods if pod not in meta["pods"]]
    return meta, left_out


def _passes(check: Callable[[Any], object], value: Any) -> bool:
    try:
        check(value)
    except SessionError:
        return False
    return True


def _free_name(folder: Path, name: str) -> Path:
    path, n = folder / name, 2
    while os.path.lexists(path):
        path, n = folder / f"{name}-{n}", n + 1
    return path
