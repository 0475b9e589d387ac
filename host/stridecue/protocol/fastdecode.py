"""Decode received records quickly: stride events skip the generic path.

A well-formed 18-byte stride record (kind 0x01, version 1) is unpacked with one
precompiled struct and built without ``__post_init__``: every field comes from an
unsigned integer of its own width, so the range checks cannot fail, and no stride
field is ever rejected or marked unknown (docs/protocol.md, "Fields out of range").
Anything else goes through :func:`stridecue.protocol.decode_record` and its checks.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from stridecue.protocol.records import Record, StrideEvent, StrideFlag, decode_record

_UNPACK = struct.Struct("<xxIIHHHH").unpack
_NEW = object.__new__
_FIELDS = ("seq", "t_contact_ms", "stride_time_ms", "contact_time_ms", "stride_length_mm")
_SET: tuple[Callable[[Any, Any], None], ...] = tuple(
    getattr(StrideEvent, name).__set__ for name in (*_FIELDS, "flags")
)
_FLAGS: dict[int, StrideFlag] = {i: StrideFlag(i) for i in range(0x80)}


def _flags(value: int) -> StrideFlag:
    flag = _FLAGS.get(value)
    if flag is None:
        flag = _FLAGS[value] = StrideFlag(value)
    return flag


_S_SEQ, _S_T, _S_ST, _S_CT, _S_SL, _S_FL = _SET


def fast_stride(raw: bytes) -> StrideEvent:
    """A stride event from exactly 18 bytes already known to start ``01 01``."""
    seq, t, st, ct, sl, fl = _UNPACK(raw)
    ev: StrideEvent = _NEW(StrideEvent)
    _S_SEQ(ev, seq)
    _S_T(ev, t)
    _S_ST(ev, st)
    _S_CT(ev, ct)
    _S_SL(ev, sl)
    flag = _FLAGS.get(fl)
    _S_FL(ev, flag if flag is not None else _flags(fl))
    return ev


def fast_decode(raw: bytes) -> Record:
    """Same result as ``decode_record(raw)``; raises the same errors on bad bytes."""
    if len(raw) == 18 and raw[0] == 1 and raw[1] == 1:
        return fast_stride(raw)
    return decode_record(raw)
