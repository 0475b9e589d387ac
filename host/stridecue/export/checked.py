"""The strides an export holds: only those a runner's foot can make.

A stored stride is whatever the pod sent, and the decoder keeps fields it cannot
judge (a stride time of 0 ms, a 60 m stride). The analysis rejects such strides
(:mod:`stridecue.analysis.validate`); an export leaves them out by the same limits,
plus a shortest stride time (0.2 s, 600 steps/min) so that no value computed from a
stride overflows the fields of a FIT file. How many were left out is said.

An export file is written whole or not at all (:func:`replace_file`): a write that
fails (a full or read-only disk) leaves what was there before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from stridecue.analysis.validate import MAX_STRIDE_LENGTH_M, MAX_STRIDE_TIME_S
from stridecue.errors import StrideCueError
from stridecue.sessiondata import AthleteData, Stride

MIN_STRIDE_TIME_S = 0.2  # 600 steps/min: faster than any runner steps
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class ExportError(StrideCueError):
    """A session, or an athlete's strides, that an export cannot hold."""


def possible(s: Stride, max_length_m: float = MAX_STRIDE_LENGTH_M) -> bool:
    """Whether a foot can make ``s`` (a contact time of 0 means not measured)."""
    return (
        MIN_STRIDE_TIME_S <= s.stride_time_s <= MAX_STRIDE_TIME_S
        and 0.0 < s.stride_length_m <= max_length_m
        and 0.0 <= s.contact_time_s < s.stride_time_s
        and s.t_s - s.t_s == 0.0  # finite
    )


def limits(max_length_m: float = MAX_STRIDE_LENGTH_M) -> str:
    """What :func:`possible` takes, in words."""
    return (
        f"stride time {MIN_STRIDE_TIME_S:g}..{MAX_STRIDE_TIME_S:g} s, length up to "
        f"{max_length_m:g} m, contact shorter than the stride"
    )


def exportable(
    a: AthleteData, max_length_m: float = MAX_STRIDE_LENGTH_M
) -> tuple[AthleteData, int]:
    """``a`` with only its possible strides, and how many were left out."""
    kept = [s for s in a.strides if possible(s, max_length_m)]
    return dataclasses.replace(a, strides=kept), len(a.strides) - len(kept)


def replace_file(path: Path, data: bytes) -> Path:
    """Write ``path`` whole or not at all (temp file, then rename over it).

    A symbolic link at ``path`` (or at the temp file) is replaced, never written through.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path
