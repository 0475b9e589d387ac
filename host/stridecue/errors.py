"""The few exceptions StrideCue raises; each message says how to fix the input."""


class StrideCueError(Exception):
    """Base of every error StrideCue raises on purpose."""


class ProtocolError(StrideCueError):
    """Bytes that do not form a valid record or frame (see docs/protocol.md)."""


class TruncatedRecord(ProtocolError):
    """A record shorter than its layout."""


class OversizedRecord(ProtocolError):
    """A record or frame longer than the protocol allows."""


class UnknownRecord(ProtocolError):
    """A record kind or version this host does not know."""


class RecordOutOfRange(ProtocolError):
    """A record with a field outside the range its receiver would act on (docs/protocol.md)."""


class BadCrc(ProtocolError):
    """A serial frame whose CRC-16 does not match its contents."""


class BadFraming(ProtocolError):
    """A serial frame whose COBS encoding is broken."""


class ConfigError(StrideCueError, ValueError):
    """A setting or parameter outside its allowed range."""


class LinkError(StrideCueError):
    """A pod link could not be opened or was lost."""
