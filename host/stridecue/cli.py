"""The ``stridecue`` command. Each subcommand lives in its own module in
``stridecue.commands`` and exposes ``register(subparsers)``; they are found at start-up.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from stridecue import __version__, commands, firmware
from stridecue.commands._pipe import reader_gone
from stridecue.errors import StrideCueError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stridecue",
        description="Real-time running-form coaching with a foot pod.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"stridecue {__version__} (pod firmware {firmware.version()})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue  # shared by several commands, not a command
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.command:
        parser.print_help()
        return 0
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, not as noise at exit
    except BrokenPipeError:  # `stridecue sessions | head`: the reader has what it wanted
        return reader_gone()
    except StrideCueError as e:
        print(f"stridecue {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
