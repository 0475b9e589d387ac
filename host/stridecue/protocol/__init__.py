"""The StrideCue wire protocol, host side. docs/protocol.md is the authority."""

from stridecue.protocol.framing import FrameDecoder, cobs_decode, cobs_encode, crc16, encode_frame
from stridecue.protocol.records import (
    ControlReply,
    ControlRequest,
    Cue,
    LogLine,
    Record,
    Status,
    StrideEvent,
    StrideFlag,
    decode_record,
)
from stridecue.protocol.rsc import RscMeasurement

__all__ = [
    "ControlReply",
    "ControlRequest",
    "Cue",
    "FrameDecoder",
    "LogLine",
    "Record",
    "RscMeasurement",
    "Status",
    "StrideEvent",
    "StrideFlag",
    "cobs_decode",
    "cobs_encode",
    "crc16",
    "decode_record",
    "encode_frame",
]
