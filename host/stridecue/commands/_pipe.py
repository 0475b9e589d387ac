"""Output lines to stdout, ending quietly when the reader goes away (``stridecue steps | head``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from stridecue.errors import StrideCueError

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


def write_lines(lines: Iterable[str]) -> int:
    """Write ``lines`` (each ending in a newline) to stdout: 0, or SIGPIPE_EXIT if cut short.

    Any other write error (a full disk) is a StrideCueError: one line, not a traceback.
    """
    out = sys.stdout
    try:
        for line in lines:
            out.write(line)
        out.flush()
    except BrokenPipeError:
        return reader_gone()
    except OSError as e:  # e.g. > a file on a full disk
        _drop_stdout()
        raise StrideCueError(
            f"cannot write the output: {e.strerror}; the output is cut short"
        ) from None
    return 0


def reader_gone() -> int:
    """stdout's reader went away (``| head`` has all it wanted): end quietly, as a shell expects.

    :func:`stridecue.cli.main` calls this for every command whose output meets a closed pipe.
    """
    _drop_stdout()
    return SIGPIPE_EXIT


def _drop_stdout() -> None:
    # Python flushes stdout once more at exit; aim it at /dev/null so that write is silent
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (captured in a test): nothing will be flushed to a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def cannot_write(e: OSError, where: Path, hint: str) -> StrideCueError:
    """A command's output that could not be written (a read-only or full disk), in one line."""
    name = e.filename if isinstance(e.filename, str) else where
    return StrideCueError(f"cannot write {name}: {e.strerror or e}; {hint}")
